import type { RunContext } from '../../machines/run.machine.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import type { EventRow, EventStore, StateRow, StoredRow } from '../../store/types.js';
import { outcomeRows, runViewOf } from '../../runner/outcome.js';
import { runFields, runPlanOf } from '../status.js';
import { treeNodeOf, type RunPlan, type TreeNode } from '../status-tree.js';
import { layoutMachine, stateKinds, type StateKind, type ViewerGraph } from './layout.js';

/** One stream (actor) of the experiment; rows refer to it by index. */
export interface ViewerStream { stream: string; machine: string }

/** The tree fields of an actor (observe/status-tree.ts) that a row changed. */
export type TreeChange = Partial<Pick<TreeNode, 'children' | 'attempt' | 'best' | 'result'>>;

/**
 * A chunk of consecutive rows, column by column (row k of the chunk is
 * seq[k], at[k], …), embedded in the page as its own script element and
 * decoded only when the slider reaches it.
 */
export interface ViewerChunk {
  seq: number[];
  /** The recorded time, in ms after `ViewerData.t0`; the text itself where that would not give it back exactly. */
  at: (number | string)[];
  /** Index into `ViewerData.streams`. */
  s: number[];
  /** Index into `ViewerData.types`. */
  type: number[];
  /** Index into `ViewerData.states`: the actor's state after the row. */
  state: number[];
  /** The actor's tree fields on the rows where they change (and on its first row): [row in the chunk, fields]. */
  tree: [number, TreeChange][];
}

/** An actor as of the last row: what the page draws first, without decoding a chunk. */
export interface FinalActor extends TreeChange {
  s: number;
  state: number;
  /** Its state before its last row (-1: none). */
  previous: number;
  /** The index of its last row. */
  row: number;
}

/** What the page needs besides the rows, embedded as JSON. */
export interface ViewerData {
  experiment: string;
  streams: ViewerStream[];
  /** How many rows there are, in chunks of `chunkSize` (`viewer-rows-0`, `viewer-rows-1`, …). */
  rows: number;
  chunkSize: number;
  firstSeq: number | null;
  lastSeq: number | null;
  t0: number;
  types: string[];
  states: string[];
  final: FinalActor[];
  /** How many runs the experiment's config expects from a row on: [row index, plan], at each row that records the config. */
  plans: [number, RunPlan | null][];
  /** Machine id → state name → kind (colour). */
  kinds: Record<string, Record<string, StateKind>>;
  /** Each machine laid out as a statechart, in lifecycle order (experiment, tier, subtest, run). */
  graphs: ViewerGraph[];
  /** Machine id → `id@version#hash` of the definition drawn. */
  machines: Record<string, string>;
}

export const CHUNK_SIZE = 4096;

const TREE_FIELDS = ['children', 'attempt', 'best', 'result'] as const;

/**
 * The page's data for an experiment, from what every row records (its
 * actor's state and context; observe/ shows the log, `verify` checks it):
 * no event is decoded and nothing replayed, so a big log makes a page fast.
 */
export function viewerData(store: EventStore, key: string, chunkSize = CHUNK_SIZE): { data: ViewerData; chunks: ViewerChunk[] } {
  const builder = new Builder(chunkSize, key, outcomeRows(store, key), store.readStream(key));
  for (const row of store.readStates(key)) builder.add(row);
  const machines = [...lifecycleRegistry.values()];
  const data: ViewerData = {
    experiment: key, ...builder.summary(), chunkSize,
    kinds: Object.fromEntries(machines.map((m) => [m.id, stateKinds(m.machine)])),
    graphs: machines.map((m) => layoutMachine(m.machine)),
    machines: Object.fromEntries(machines.map((m) => [m.id, m.ref])),
  };
  return { data, chunks: builder.chunks };
}

/** Folds the rows into chunks, the tables they index and each actor's last state. */
class Builder {
  readonly chunks: ViewerChunk[] = [];
  private readonly streams: ViewerStream[] = [];
  private readonly streamIndex = new Map<string, number>();
  private readonly types = new Table();
  private readonly states = new Table();
  private readonly fields = new Map<number, Record<string, string>>();
  private readonly final = new Map<number, FinalActor>();
  private rows = 0;
  private first: StateRow | null = null;
  private last: StateRow | null = null;
  private t0 = 0;
  /** The recorded ends of the outcome effects (by seq), and those of each run seen so far. */
  private readonly ends = new Map<number, EventRow>();
  private readonly runEnds = new Map<string, EventRow[]>();
  private readonly created = new Map<string, string>();
  /** The experiment's own rows (they record its config), and the plan changes found so far. */
  private readonly own: StoredRow[];
  private readonly plans: [number, RunPlan | null][] = [];

  constructor(private readonly chunkSize: number, private readonly key: string, ends: Map<string, EventRow[]>, own: StoredRow[]) {
    for (const rows of ends.values()) for (const row of rows) this.ends.set(row.seq, row);
    this.own = own;
  }

  add(row: StateRow): void {
    if (!this.first) {
      this.first = row;
      this.t0 = Date.parse(row.at) || 0;
    }
    this.last = row;
    if (this.rows % this.chunkSize === 0) this.chunks.push({ seq: [], at: [], s: [], type: [], state: [], tree: [] });
    const chunk = this.chunks[this.chunks.length - 1]!;
    const machine = row.machine.slice(0, row.machine.indexOf('@'));
    const s = this.stream(row.stream, machine);
    const state = this.states.index(String(row.state));
    chunk.seq.push(row.seq);
    chunk.at.push(timeOf(row.at, this.t0));
    chunk.s.push(s);
    chunk.type.push(this.types.index(row.type));
    chunk.state.push(state);
    if (row.stream === this.key && (row.type === 'actor.created' || row.type === 'experiment.tiers_added')) this.plans.push([this.rows, runPlanOf(this.own.filter((r) => r.seq <= row.seq))]);
    const change = this.treeChange(s, treeNodeOf(machine, String(row.state), row.context, machine === 'run' ? this.runResult(row) : undefined));
    if (change) chunk.tree.push([chunk.seq.length - 1, change]);
    const before = this.final.get(s);
    this.final.set(s, { ...before, ...change, s, state, previous: before ? before.state : -1, row: this.rows });
    this.rows += 1;
  }

  summary(): Pick<ViewerData, 'streams' | 'rows' | 'firstSeq' | 'lastSeq' | 't0' | 'types' | 'states' | 'final' | 'plans'> {
    const { streams, rows, t0, plans } = this;
    return { streams, rows, t0, plans, firstSeq: this.first?.seq ?? null, lastSeq: this.last?.seq ?? null, types: this.types.values, states: this.states.values, final: [...this.final.values()] };
  }

  /** What a run came to as of this row of it: the numbers `status` gives. */
  private runResult(row: StateRow) {
    if (!this.created.has(row.stream)) this.created.set(row.stream, row.at);
    const list = this.runEnds.get(row.stream) ?? [];
    const end = this.ends.get(row.seq);
    if (end) list.push(end);
    this.runEnds.set(row.stream, list);
    return runFields(runViewOf({ stream: row.stream, state: String(row.state), context: row.context as RunContext, createdAt: this.created.get(row.stream)!, at: row.at }, list));
  }

  private stream(stream: string, machine: string): number {
    let index = this.streamIndex.get(stream);
    if (index === undefined) {
      index = this.streams.length;
      this.streamIndex.set(stream, index);
      this.streams.push({ stream, machine });
    }
    return index;
  }

  /** The tree fields of the actor's node that differ from its previous row's (all of them on its first). */
  private treeChange(s: number, node: TreeNode): TreeChange | null {
    const before = this.fields.get(s) ?? {};
    let change: TreeChange | null = null;
    for (const field of TREE_FIELDS) {
      const text = JSON.stringify(node[field]);
      if (before[field] === text) continue;
      change = { ...(change ?? {}), [field]: node[field] };
      before[field] = text;
    }
    this.fields.set(s, before);
    return change;
  }
}

/** A list of strings that rows refer to by index. */
class Table {
  readonly values: string[] = [];
  private readonly indices = new Map<string, number>();

  index(value: string): number {
    let index = this.indices.get(value);
    if (index === undefined) {
      index = this.values.length;
      this.indices.set(value, index);
      this.values.push(value);
    }
    return index;
  }
}

/** A recorded time as ms after t0, where the page gives the same text back (toISOString); else the text. */
function timeOf(at: string, t0: number): number | string {
  const ms = Date.parse(at);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === at ? ms - t0 : at;
}


import { applyRow, type ReplayedActor } from '../../engine/index.js';
import type { RunContext } from '../../machines/run.machine.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import type { EventStore, StoredRow } from '../../store/types.js';
import { outcomeTracker, runPlanOf } from '../status.js';
import { treeNodeOf, type RunPlan, type TreeNode } from '../status-tree.js';
import { layoutMachine, stateKinds, type StateKind, type ViewerGraph } from './layout.js';

/** One stream (actor) of the experiment; rows refer to it by index. */
export interface ViewerStream { stream: string; machine: string }

/**
 * One log row: where it happened, what it was, the actor's state after it, and
 * the actor's tree fields (observe/status-tree.ts), only on the rows where
 * they change (and on the actor's first row).
 */
export interface ViewerRow extends Partial<Pick<TreeNode, 'children' | 'attempt' | 'best' | 'result'>> {
  seq: number;
  at: string;
  /** Index into `ViewerData.streams`. */
  s: number;
  type: string;
  state: string;
  /** On the experiment's rows that record its config: how many runs it expects from then on. */
  plan?: RunPlan | null;
}

/** Everything the offline page needs, embedded in it as JSON. */
export interface ViewerData {
  experiment: string;
  streams: ViewerStream[];
  rows: ViewerRow[];
  /** Machine id → state name → kind (colour). */
  kinds: Record<string, Record<string, StateKind>>;
  /** Each machine laid out as a statechart, in lifecycle order (experiment, tier, subtest, run). */
  graphs: ViewerGraph[];
  /** Machine id → `id@version#hash` of the definition drawn. */
  machines: Record<string, string>;
}

const TREE_FIELDS = ['children', 'attempt', 'best', 'result'] as const;

/**
 * The page's data for an experiment: every row, replayed through the current
 * machines exactly as `replay` does (so a log that does not replay is
 * refused), with the tree fields of each row's actor where they change.
 */
export function viewerData(store: EventStore, key: string): ViewerData {
  const actors = new Map<string, ReplayedActor>();
  const streams: ViewerStream[] = [];
  const index = new Map<string, number>();
  const last = new Map<string, Record<string, string>>();
  const rows: ViewerRow[] = [];
  const outcomes = outcomeTracker();
  const own: StoredRow[] = [];
  for (const stored of store.readExperiment(key)) {
    const actor = applyRow(lifecycleRegistry, actors, stored);
    if (stored.stream === key) own.push(stored);
    if (!index.has(stored.stream)) {
      index.set(stored.stream, streams.length);
      streams.push({ stream: stored.stream, machine: actor.entry.id });
    }
    const state = String(actor.snapshot.value);
    const row: ViewerRow = { seq: stored.seq, at: stored.at, s: index.get(stored.stream)!, type: stored.event.type, state };
    if (stored.stream === key && (stored.event.type === 'actor.created' || stored.event.type === 'experiment.tiers_added')) row.plan = runPlanOf(own);
    const node = treeNodeOf(actor.entry.id, state, actor.snapshot.context, actor.entry.id === 'run' ? outcomes(stored, actor.created, actor.snapshot.context as RunContext) : undefined);
    const before = last.get(stored.stream) ?? {};
    for (const field of TREE_FIELDS) {
      const text = JSON.stringify(node[field]);
      if (before[field] !== text) Object.assign(row, { [field]: node[field] });
      before[field] = text;
    }
    last.set(stored.stream, before);
    rows.push(row);
  }
  const machines = [...lifecycleRegistry.values()];
  return {
    experiment: key,
    streams,
    rows,
    kinds: Object.fromEntries(machines.map((m) => [m.id, stateKinds(m.machine)])),
    graphs: machines.map((m) => layoutMachine(m.machine)),
    machines: Object.fromEntries(machines.map((m) => [m.id, m.ref])),
  };
}


import { applyRow, type ReplayedActor } from '../../engine/index.js';
import type { ExperimentContext, RunContext, SubtestContext, TierContext } from '../../machines/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import type { EventStore } from '../../store/types.js';
import { layoutMachine, stateKinds, type MachineGraph, type StateKind } from './layout.js';
import type { StatusTree } from '../status-tree.js';

/** One stream (actor) of the experiment; rows refer to it by index. */
export interface ViewerStream { stream: string; machine: string }

/**
 * One log row: where it happened, what it was, the actor's state after it, and
 * the parts of the actor's context the tree shows, only on the rows where they
 * change (and on the actor's first row).
 */
export interface ViewerRow {
  seq: number;
  at: string;
  /** Index into `ViewerData.streams`. */
  s: number;
  type: string;
  state: string;
  /** Experiment: its tier ids (context.tiers). */
  tiers?: string[];
  /** Tier: its subtests; subtest: its run ids (context.expected). */
  expected?: string[];
  /** Run: context.attempt. */
  attempt?: number;
  /** Tier: the best subtest (context.best.subtest) or null. */
  best?: string | null;
}

/** Everything the offline page needs, embedded in it as JSON. */
export interface ViewerData {
  experiment: string;
  streams: ViewerStream[];
  rows: ViewerRow[];
  /** Machine id → state name → kind (colour). */
  kinds: Record<string, Record<string, StateKind>>;
  /** Each machine laid out as a statechart, in lifecycle order (experiment, tier, subtest, run). */
  graphs: MachineGraph[];
  /** Machine id → `id@version#hash` of the definition drawn. */
  machines: Record<string, string>;
}

/**
 * The page's data for an experiment: every row, replayed through the current
 * machines exactly as `replay` does (so a log that does not replay is refused
 * as `status` refuses it), with the tree-relevant context recorded per row.
 */
export function viewerData(store: EventStore, key: string): ViewerData {
  const actors = new Map<string, ReplayedActor>();
  const streams: ViewerStream[] = [];
  const index = new Map<string, number>();
  const last = new Map<string, Record<string, string>>();
  const rows: ViewerRow[] = [];
  for (const stored of store.readExperiment(key)) {
    const actor = applyRow(lifecycleRegistry, actors, stored);
    if (!index.has(stored.stream)) {
      index.set(stored.stream, streams.length);
      streams.push({ stream: stored.stream, machine: actor.entry.id });
    }
    const row: ViewerRow = { seq: stored.seq, at: stored.at, s: index.get(stored.stream)!, type: stored.event.type, state: String(actor.snapshot.value) };
    const shown = treeContext(actor);
    const before = last.get(stored.stream) ?? {};
    for (const [field, value] of Object.entries(shown)) {
      const text = JSON.stringify(value);
      if (before[field] !== text) Object.assign(row, { [field]: value });
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

/** The context fields statusTree reads, per machine. */
function treeContext(actor: ReplayedActor): Partial<Pick<ViewerRow, 'tiers' | 'expected' | 'attempt' | 'best'>> {
  const context = actor.snapshot.context as Record<string, unknown>;
  switch (actor.entry.id) {
    case 'experiment': return { tiers: (context as unknown as ExperimentContext).tiers.map((t) => t.id) };
    case 'tier': return { expected: (context as unknown as TierContext).expected, best: (context as unknown as TierContext).best?.subtest ?? null };
    case 'subtest': return { expected: (context as unknown as SubtestContext).expected };
    case 'run': return { attempt: (context as unknown as RunContext).attempt };
    default: return {};
  }
}

/*
 * The functions below run in the page as well: viewer-page.ts embeds their
 * source (Function.prototype.toString), so they must stay self-contained:
 * no imports, no module-level names, only the arguments and JS built-ins.
 */

/** Actor state as of row `index` (inclusive; -1: before any row): stream → latest state and tree context. */
export function viewerActors(data: ViewerData, index: number): Map<string, { machine: string; state: string; previous: string | null; row: number; tiers: string[]; expected: string[]; attempt: number; best: string | null }> {
  const actors = new Map();
  for (let i = 0; i <= index && i < data.rows.length; i += 1) {
    const row = data.rows[i]!;
    const { stream, machine } = data.streams[row.s]!;
    const prev = actors.get(stream);
    const next = { machine, tiers: [], expected: [], attempt: 0, best: null, ...prev, state: row.state, previous: prev ? prev.state : null, row: i };
    if (row.tiers !== undefined) next.tiers = row.tiers;
    if (row.expected !== undefined) next.expected = row.expected;
    if (row.attempt !== undefined) next.attempt = row.attempt;
    if (row.best !== undefined) next.best = row.best;
    actors.set(stream, next);
  }
  return actors;
}

/**
 * The tier → subtest → run tree as of row `index`, in statusTree's shape and
 * with its rules (tiers from the experiment's context, subtests from each
 * tier's `expected`, runs from each subtest's `expected`, actors not created
 * yet `not_started`), computed from the embedded rows alone.
 */
export function viewerTree(data: ViewerData, actors: ReturnType<typeof viewerActors>): StatusTree {
  const key = data.experiment;
  const state = (stream: string) => (actors.has(stream) ? actors.get(stream)!.state : 'not_started');
  const experiment = actors.get(key);
  const tiers = (experiment ? experiment.tiers : []).map((id) => {
    const tierStream = `${key}/${id}`;
    const tier = actors.get(tierStream);
    const subtests = (tier ? tier.expected : []).map((subtest) => {
      const subStream = `${key}/${id}/${subtest}`;
      const sub = actors.get(subStream);
      const runs = (sub ? sub.expected : []).map((run) => {
        const actor = actors.get(`${key}/${id}/${subtest}/${Number(run)}`);
        return { run: Number(run), state: actor ? actor.state : 'not_started', attempt: actor ? actor.attempt : 0 };
      });
      return { id: subtest, state: state(subStream), runs };
    });
    return { id, state: state(tierStream), best: tier ? tier.best : null, subtests };
  });
  const runs = { total: 0, completed: 0, failed: 0, rateLimited: 0, running: 0, pending: 0 };
  for (const tier of tiers) {
    for (const sub of tier.subtests) {
      for (const run of sub.runs) {
        runs.total += 1;
        if (run.state === 'run_worktree_cleaned') runs.completed += 1;
        else if (run.state === 'run_failed') runs.failed += 1;
        else if (run.state === 'run_rate_limited') runs.rateLimited += 1;
        else if (run.state === 'not_started') runs.pending += 1;
        else runs.running += 1;
      }
    }
  }
  return { experiment: key, state: state(key), runs, tiers };
}

import { hostname } from 'node:os';
import type { ReplayedActor } from '../engine/index.js';
import type { RunContext } from '../machines/run.machine.js';
import { OUTCOME_EFFECTS, outcomeRows, runPlanOf, runViewOf, type RunView } from '../runner/outcome.js';

export { runPlanOf };
import { isHolderAlive } from '../store/lease-policy.js';
import type { EventRow, EventStore, Lease, StoredRow } from '../store/types.js';
import { statusTree, treeNodeOf, type RunFields, type RunPlan, type StatusTree, type TreeNode } from './status-tree.js';

export type { StatusTree, RunCounts, TreeNode, RunEntry } from './status-tree.js';

/** The documented `status <id> --json` object: the tree plus where the log stands, who drives it, and why it is paused. */
export interface StatusJson extends StatusTree {
  lastSeq: number;
  rows: number;
  /** The lease holder; `alive` is false when its process is gone (the next run or resume takes over), null when on another host. */
  driver: { pid: number; host: string; heartbeatAt: string; alive: boolean | null } | null;
  /** Set when the last drive stopped early on purpose (`--until-*`, a spending limit) and nothing has resumed it since. */
  paused: { at: string; reason: string; budget: { limit: 'maxCostUsd' | 'maxTokens'; max: number; spent: number } | null } | null;
}

/**
 * The status of an experiment now, or as of row `atSeq` (time travel: no
 * driver then), from the latest row of each stream and the recorded ends of
 * the runs' outcome effects: no replay.
 */
export function experimentStatus(store: EventStore, key: string, atSeq?: number): StatusJson {
  const latest = store.latestStates(key, atSeq);
  const ends = outcomeRows(store, key, atSeq);
  const nodes = new Map<string, TreeNode>(latest.streams.map((s) => {
    const machine = machineId(s.machine);
    const result = machine === 'run' ? runFields(runViewOf({ stream: s.stream, state: String(s.state), context: s.context as RunContext, createdAt: s.createdAt, at: s.at }, ends.get(s.stream) ?? [])) : undefined;
    return [s.stream, treeNodeOf(machine, String(s.state), s.context, result)];
  }));
  const own = store.readStream(key).filter((r) => atSeq === undefined || r.seq <= atSeq);
  const driver = atSeq === undefined ? driverOf(store.readLease(key)) : null;
  const tree = statusTree(key, (stream) => nodes.get(stream), { plan: runPlanOf(own), live: atSeq !== undefined || (driver !== null && driver.alive !== false) });
  return { ...tree, lastSeq: latest.lastSeq, rows: latest.rows, driver, paused: pausedOf(own, latest.lastSeq) };
}

/** The tree of live or replayed actors (the progress display); `results` gives what each run came to. */
export function actorsTree(key: string, actors: ReadonlyMap<string, ReplayedActor>, results: (stream: string) => RunFields | undefined, plan: RunPlan | null = null): StatusTree {
  return statusTree(key, (stream) => {
    const actor = actors.get(stream);
    return actor ? treeNodeOf(actor.entry.id, String(actor.snapshot.value), actor.snapshot.context, results(stream)) : undefined;
  }, { plan });
}

/** What the tree shows of a run's view: no duration until it has an outcome. */
export function runFields(view: RunView): RunFields {
  return { outcome: view.outcome, score: view.score, costUsd: view.costUsd, tokens: view.tokens, durationMs: view.outcome ? view.durationMs : null, error: view.error };
}

/**
 * What each run came to as of each of its rows, fed the rows in order (the
 * viewer's data, the progress display): the same numbers `status` computes.
 * Call it with every row of a run stream; it returns that run's fields.
 * `seed` holds the ends recorded before the first row it is fed.
 */
export function outcomeTracker(seed: Map<string, EventRow[]> = new Map()): (row: StoredRow, createdAt: string, context: RunContext) => RunFields {
  const ends = seed;
  const named = new Set<string>(OUTCOME_EFFECTS);
  return (row, createdAt, context) => {
    const list = ends.get(row.stream) ?? [];
    if ((row.event.type === 'effect.completed' || row.event.type === 'effect.failed') && named.has((row.event.data as { effect: string }).effect)) list.push(row);
    ends.set(row.stream, list);
    return runFields(runViewOf({ stream: row.stream, state: String(row.state), context, createdAt, at: row.at }, list));
  };
}

/**
 * What the runs of an experiment being driven came to, kept up to date from
 * the rows each commit appends (seeded once from the log): for the progress
 * display, without reading the log again.
 */
export function liveOutcomes(store: EventStore, key: string) {
  const seed = outcomeRows(store, key);
  const track = outcomeTracker(seed);
  const fields = new Map<string, RunFields>();
  let plan = runPlanOf(store.readStream(key));
  return {
    add(row: StoredRow, actor: ReplayedActor): void {
      if (row.stream === key && row.event.type === 'experiment.tiers_added') plan = runPlanOf(store.readStream(key));
      if (actor.entry.id === 'run') fields.set(row.stream, track(row, actor.created, actor.snapshot.context as RunContext));
    },
    tree(actors: ReadonlyMap<string, ReplayedActor>): StatusTree {
      return actorsTree(key, actors, (stream) => fields.get(stream) ?? seededFields(stream, actors), plan);
    },
  };

  /** A run no row of this drive touched yet: what its recorded ends say. */
  function seededFields(stream: string, actors: ReadonlyMap<string, ReplayedActor>): RunFields | undefined {
    const actor = actors.get(stream);
    if (!actor) return undefined;
    const computed = runFields(runViewOf({ stream, state: String(actor.snapshot.value), context: actor.snapshot.context as RunContext, createdAt: actor.created, at: actor.created }, seed.get(stream) ?? []));
    fields.set(stream, computed);
    return computed;
  }
}

/** Why the experiment is paused: an `operator.paused` that is the log's last row (any later row means a later drive took it on). */
export function pausedOf(own: readonly StoredRow[], lastSeq: number): StatusJson['paused'] {
  const last = own.at(-1);
  if (!last || last.seq !== lastSeq || last.event.type !== 'operator.paused') return null;
  const data = last.event.data as PauseData;
  return { at: last.at, reason: pauseReason(data), budget: data.budget ? { limit: data.budget.limit, max: data.budget.max, spent: data.budget.spent } : null };
}

type PauseData = { until?: Record<string, string | undefined>; held?: number; budget?: { limit: 'maxCostUsd' | 'maxTokens'; spent: number; max: number } };

function pauseReason(data: PauseData): string {
  const b = data.budget;
  if (b) {
    const amount = (x: number) => (b.limit === 'maxCostUsd' ? `$${x.toFixed(4)}` : `${Math.round(x)} tokens`);
    return `budget reached: limits.${b.limit} ${amount(b.max)} (spent ${amount(b.spent)})`;
  }
  const until = Object.entries(data.until ?? {}).filter(([, v]) => v).map(([level, state]) => `--until-${level} ${state}`);
  return `stopped at ${until.join(' ') || 'an early stop'}, ${data.held ?? 0} actors held`;
}

const machineId = (ref: string) => ref.slice(0, ref.indexOf('@'));

/** Who drives experiment `key` now (the `driver` of `status --json`). */
export function driverStatus(store: EventStore, key: string): StatusJson['driver'] {
  return driverOf(store.readLease(key));
}

function driverOf(lease: Lease | null): StatusJson['driver'] {
  if (!lease) return null;
  const alive = lease.host === hostname() ? isHolderAlive(lease.pid, lease.identity) : null;
  return { pid: lease.pid, host: lease.host, heartbeatAt: new Date(lease.heartbeatAt).toISOString(), alive };
}

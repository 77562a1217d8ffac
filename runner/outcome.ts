import { outputOf } from '../engine/effects.js';
import { contextOf } from '../machines/context.js';
import type { RunContext } from '../machines/run.machine.js';
import { RUN_COMPLETED, RUN_FAILED } from '../machines/run-states.js';
import type { RunOutcome, RunResults } from '../analysis/outcomes.js';
import type { EventRow, EventStore, StoredRow } from '../store/types.js';
import type { ResultActor } from './finalization/recorded.js';
import { runSpendOf } from './finalization/spend.js';

/**
 * What each run came to, from the log alone (no schemas, no replay: `status`
 * reads it too). A run *passed* or *did not pass* when its judges said so (a
 * result); it *errored* when it reached run_failed (an effect failed for
 * good: infrastructure, not a result).
 */
export interface RunView extends RunResults {
  stream: string;
  tier: string;
  subtest: string;
  run: number;
  state: string;
  attempt: number;
  /** Why it errored: the effect and its recorded error. */
  error: string | null;
}

/** The effects whose recorded ends say what a run came to: its spend, its verdicts' time, its result. */
export const OUTCOME_EFFECTS = ['runAgent', 'runJudges', 'buildRunResult'] as const;

/** States a judged run is in: its result is recorded (and is not being redone). */
const JUDGED = new Set(['run_finalized', 'run_report_written', RUN_COMPLETED]);

/** The recorded ends of the outcome effects, by run stream (one query, not every row). */
export function outcomeRows(store: EventStore, key: string, toSeq?: number): Map<string, EventRow[]> {
  const byStream = new Map<string, EventRow[]>();
  for (const row of store.readEffectRows(key, OUTCOME_EFFECTS, toSeq)) {
    const rows = byStream.get(row.stream) ?? [];
    rows.push(row);
    byStream.set(row.stream, rows);
  }
  return byStream;
}

/** A run as the log has it: its latest state and context, and when it was created and last changed. */
export interface RecordedRun {
  stream: string;
  state: string;
  context: RunContext;
  createdAt: string;
  at: string;
}

/**
 * What one run came to, from its latest state and the recorded ends of its
 * outcome effects (any other rows of the run are ignored). Its duration runs
 * from its creation to its verdicts, or to its latest row.
 */
export function runViewOf(run: RecordedRun, ends: readonly EventRow[]): RunView {
  const { context, state } = run;
  const judged = JUDGED.has(state) ? outputOf<{ passed: boolean; score: number }>(ends, 'buildRunResult') : undefined;
  const outcome: RunOutcome | null = judged ? (judged.passed ? 'passed' : 'not_passed') : state === RUN_FAILED ? 'errored' : null;
  const spend = runSpendOf(ends);
  const verdict = judged ? lastCompleted(ends, 'runJudges') : undefined;
  const last = ends.at(-1)?.at ?? '';
  const end = verdict?.at ?? (last > run.at ? last : run.at);
  const error = state === RUN_FAILED && context.failure ? `${context.failure.effect ?? context.failure.state} failed: ${context.failure.message}` : null;
  return {
    stream: run.stream, tier: context.tier, subtest: context.subtest, run: context.run, state, attempt: context.attempt,
    outcome, score: judged ? judged.score ?? null : null, costUsd: spend.costUsd, tokens: spend.tokens,
    durationMs: Math.max(0, Date.parse(end) - Date.parse(run.createdAt)) || 0, error,
  };
}

function lastCompleted(ends: readonly EventRow[], effect: string): EventRow | undefined {
  for (let i = ends.length - 1; i >= 0; i--) {
    const { event } = ends[i]!;
    if (event.type === 'effect.completed' && (event.data as { effect: string }).effect === effect) return ends[i];
  }
  return undefined;
}

/** Every run of the (replayed or live) experiment with what it came to, in creation order. */
export function runViews(actors: ReadonlyMap<string, ResultActor>, ends: ReadonlyMap<string, readonly EventRow[]>): RunView[] {
  return [...actors.values()].filter((a) => a.entry.id === 'run').map((actor) => {
    const rows = ends.get(actor.stream) ?? [];
    const created = actor.created ?? rows[0]?.at ?? new Date(0).toISOString();
    const recorded = { stream: actor.stream, state: String(actor.snapshot.value), context: contextOf(actor, 'run'), createdAt: created, at: rows.at(-1)?.at ?? created };
    return runViewOf(recorded, rows);
  });
}

/** What an experiment's runs came to, for the end of `run`/`resume` and its exit code. */
export interface OutcomeSummary {
  runs: { total: number; passed: number; notPassed: number; errored: number; unfinished: number };
  /** Passed runs over judged runs (passed and not passed); null when none was judged. */
  passRate: number | null;
  failedTiers: { tier: string; reason: string }[];
  /** The first few errored runs, each with where and why it failed. */
  erroredRuns: { run: string; state: string; reason: string }[];
  spend: { costUsd: number | null; tokens: number | null };
}

const SHOWN_ERRORS = 5;

export function outcomeSummary(scope: { key: string; store: EventStore; actors: ReadonlyMap<string, ResultActor> }): OutcomeSummary {
  const views = runViews(scope.actors, outcomeRows(scope.store, scope.key));
  const count = (kind: RunOutcome) => views.filter((v) => v.outcome === kind).length;
  const plan = runPlanOf(scope.store.readStream(scope.key));
  const planned = plan ? Object.values(plan.subtests).reduce((n, s) => n + s, 0) * plan.runsPerSubtest : 0;
  const total = Math.max(planned, views.length + expectedRunsNotCreated(scope.actors));
  const runs = { total, passed: count('passed'), notPassed: count('not_passed'), errored: count('errored'), unfinished: 0 };
  runs.unfinished = total - runs.passed - runs.notPassed - runs.errored;
  const judged = runs.passed + runs.notPassed;
  const sum = (values: (number | null)[]) => (values.some((v) => v !== null) ? values.reduce<number>((a, b) => a + (b ?? 0), 0) : null);
  return {
    runs,
    passRate: judged === 0 ? null : runs.passed / judged,
    failedTiers: failedTiers(scope.key, scope.actors),
    erroredRuns: views.filter((v) => v.outcome === 'errored').slice(0, SHOWN_ERRORS).map((v) => ({ run: v.stream.slice(scope.key.length + 1), state: contextOf(scope.actors.get(v.stream)!, 'run').failure?.state ?? v.state, reason: v.error ?? 'unknown' })),
    spend: { costUsd: sum(views.map((v) => v.costUsd)), tokens: sum(views.map((v) => v.tokens)) },
  };
}

/** Runs that subtests expect but that were never created (a paused or failed experiment). */
function expectedRunsNotCreated(actors: ReadonlyMap<string, ResultActor>): number {
  let missing = 0;
  for (const subtest of [...actors.values()].filter((a) => a.entry.id === 'subtest')) {
    missing += contextOf(subtest, 'subtest').expected.filter((id) => !actors.has(`${subtest.stream}/${id}`)).length;
  }
  return missing;
}

/** The failed tiers, each with why: its own failure, or its subtests' (the first errored run's cause). */
function failedTiers(key: string, actors: ReadonlyMap<string, ResultActor>): OutcomeSummary['failedTiers'] {
  const tiers = [...actors.values()].filter((a) => a.entry.id === 'tier' && String(a.snapshot.value) === 'tier_failed');
  return tiers.map((tier) => {
    const failure = contextOf(tier, 'tier').failure;
    const id = tier.stream.slice(key.length + 1);
    if (failure?.effect) return { tier: id, reason: `${failure.effect} failed: ${failure.message}` };
    const failedRun = [...actors.values()].find((a) => a.entry.id === 'run' && a.stream.startsWith(`${tier.stream}/`) && String(a.snapshot.value) === RUN_FAILED);
    const cause = failedRun ? `; e.g. run ${failedRun.stream.slice(key.length + 1)}: ${failureOf(failedRun)}` : '';
    return { tier: id, reason: `no subtest completed${cause}` };
  });
}

/** Why a failed run failed: the effect and its recorded error. */
export function failureOf(run: ResultActor): string {
  const failure = contextOf(run, 'run').failure;
  if (!failure) return 'unknown';
  return `${failure.effect ?? failure.state} failed: ${failure.message}`;
}

/** How many runs the experiment expects: subtests per tier (after maxSubtests) and runs per subtest, from its config. */
export interface RunPlan {
  subtests: Record<string, number>;
  runsPerSubtest: number;
}

type RecordedConfig = { runsPerSubtest?: number; tiers?: { id: string; maxSubtests?: number | null; subtests?: unknown[] }[] };

/** How many runs the recorded config expects, from the experiment's own rows (its creation, tiers added later). */
export function runPlanOf(own: readonly StoredRow[]): RunPlan | null {
  let config: RecordedConfig | undefined;
  for (const { event } of own) {
    const data = event.data as { input?: { start?: { config?: RecordedConfig } }; start?: { config?: RecordedConfig } };
    if (event.type === 'actor.created') config = data.input?.start?.config ?? config;
    if (event.type === 'experiment.tiers_added') config = data.start?.config ?? config;
  }
  if (!config?.tiers) return null;
  const subtests = Object.fromEntries(config.tiers.map((t) => [t.id, Math.min(t.subtests?.length ?? 0, t.maxSubtests ?? Infinity)]));
  return { subtests, runsPerSubtest: config.runsPerSubtest ?? 1 };
}

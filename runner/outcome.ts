import { outputOf } from '../engine/effects.js';
import { contextOf } from '../machines/context.js';
import { RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED } from '../machines/run-states.js';
import type { EventStore, StoredRow } from '../store/types.js';
import type { ResultActor } from './finalization/recorded.js';
import { runSpendOf } from './finalization/spend.js';

/**
 * What each run came to, from the log alone (no schemas, no replay: `status`
 * reads it too). A run *passed* or *did not pass* when its judges said so (a
 * result); it *errored* when it reached run_failed (an effect failed for
 * good: infrastructure, not a result).
 */
export type RunOutcomeKind = 'passed' | 'not_passed' | 'errored' | 'rate_limited' | 'in_progress' | 'pending';

export interface RunView {
  stream: string;
  tier: string;
  subtest: string;
  run: number;
  state: string;
  attempt: number;
  outcome: RunOutcomeKind;
  /** The judges' consensus score, once judged. */
  score: number | null;
  /** What every agent execution of the run spent (retries included). */
  costUsd: number | null;
  tokens: number | null;
  /** From its creation to its verdict (judged), or to its latest row. */
  durationMs: number;
  /** Why it errored: the effect and its recorded error. */
  error: string | null;
}

/** States a judged run is in: its result is recorded (and is not being redone). */
const JUDGED = new Set(['run_finalized', 'run_report_written', RUN_COMPLETED]);

/** The rows of each run stream, in order, from one pass over the experiment's rows. */
export function runHistories(store: EventStore, key: string): Map<string, StoredRow[]> {
  const byStream = new Map<string, StoredRow[]>();
  const depth = key.split('/').length + 3;
  for (const row of store.readExperiment(key)) {
    if (row.stream.split('/').length !== depth) continue;
    const rows = byStream.get(row.stream) ?? [];
    rows.push(row);
    byStream.set(row.stream, rows);
  }
  return byStream;
}

/** Every run of the experiment with its outcome, score, spend and duration, in creation order. */
export function runViews(actors: ReadonlyMap<string, ResultActor>, histories: ReadonlyMap<string, readonly StoredRow[]>): RunView[] {
  return [...actors.values()].filter((a) => a.entry.id === 'run').map((actor) => runView(actor, histories.get(actor.stream) ?? []));
}

function runView(actor: ResultActor, history: readonly StoredRow[]): RunView {
  const context = contextOf(actor, 'run');
  const state = String(actor.snapshot.value);
  const judged = JUDGED.has(state) ? outputOf<{ passed: boolean; score: number }>(history, 'buildRunResult') : undefined;
  const outcome: RunOutcomeKind = judged ? (judged.passed ? 'passed' : 'not_passed')
    : state === RUN_FAILED ? 'errored' : state === RUN_RATE_LIMITED ? 'rate_limited' : state === 'run_pending' ? 'pending' : 'in_progress';
  const spend = runSpendOf(history);
  const verdict = judged ? [...history].reverse().find((r) => r.event.type === 'effect.completed' && (r.event.data as { effect: string }).effect === 'runJudges') : undefined;
  const end = verdict?.at ?? history.at(-1)?.at;
  const durationMs = history[0] && end ? Math.max(0, Date.parse(end) - Date.parse(history[0].at)) : 0;
  const error = state === RUN_FAILED && context.failure ? `${context.failure.effect ?? context.failure.state} failed: ${context.failure.message}` : null;
  return {
    stream: actor.stream, tier: context.tier, subtest: context.subtest, run: context.run, state, attempt: context.attempt, outcome,
    score: judged?.score ?? null, costUsd: spend.costUsd, tokens: spend.tokens, durationMs, error,
  };
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
  const views = runViews(scope.actors, runHistories(scope.store, scope.key));
  const count = (kind: RunOutcomeKind) => views.filter((v) => v.outcome === kind).length;
  const total = views.length + expectedRunsNotCreated(scope.actors);
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

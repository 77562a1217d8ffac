import { EffectFailure, outputOf } from '../../engine/effects.js';
import { isEvent } from '../../engine/events.js';
import { contextOf } from '../../machines/context.js';
import { RUN_COMPLETED } from '../../machines/run-states.js';
import { experimentResult, knownCostRuns, subtestResult, tierResult, type RunSpend, type TierSubtest } from '../../analysis/aggregate.js';
import { runSpendOf } from './spend.js';

export { runSpendOf };
import { RunResult, type ExperimentResult, type TierResult } from '../../schemas/results.js';
import type { EventRow, StreamState } from '../../store/types.js';
import type { ExperimentLog } from '../log-open.js';
import { streams } from '../streams.js';

/**
 * Results as the log records them. Every number of a report comes from the
 * recorded outputs of the effects (agent usage, diff stats, verdicts) and the
 * recorded row times, never from a file an earlier effect wrote: the same log
 * gives the same results, whenever and wherever they are computed.
 */

/** What results read of an actor: its machine, state, context and creation time (a live or replayed actor, or a stream's latest recorded state). */
export interface ResultActor {
  stream: string;
  entry: { id: string };
  snapshot: { value: unknown; context: unknown };
  /** When its stream's first row was recorded. */
  created: string;
}

/** What results are computed from: the log and the actors of one experiment. */
export interface ResultScope {
  key: string;
  store: ExperimentLog;
  actors: ReadonlyMap<string, ResultActor>;
}

/** The actors as their streams' latest rows record them: enough for results, no replay. */
export function actorsFromStates(states: readonly StreamState[]): Map<string, ResultActor> {
  return new Map(states.map((s) => [s.stream, { stream: s.stream, entry: { id: s.machine.slice(0, s.machine.indexOf('@')) }, snapshot: { value: s.state, context: s.context }, created: s.createdAt }]));
}

/** The rows of a run that results read: the completions and failures of these effects (docs/design.md §6). */
const RESULT_EFFECTS = ['runAgent', 'captureDiff', 'runJudges', 'buildRunResult'];

/** Each run's result rows (by stream), in seq order. */
export type RunHistories = ReadonlyMap<string, readonly EventRow[]>;

/** What results read of a row: its event and when it was recorded. */
type ResultRow = Pick<EventRow, 'event' | 'at'>;

/**
 * The result rows of every run at or below `stream` (a run, subtest, tier or
 * the experiment), in one read of the log: not every row of every run.
 */
export function runHistories(store: ExperimentLog, stream: string): RunHistories {
  const histories = new Map<string, EventRow[]>();
  const query = { streams: [stream], types: ['effect.completed', 'effect.failed'], dataField: { field: 'effect', values: RESULT_EFFECTS } };
  for (const row of store.readEvents(stream.split('/')[0]!, query)) {
    const rows = histories.get(row.stream);
    if (rows) rows.push(row);
    else histories.set(row.stream, [row]);
  }
  return histories;
}

/** Whether the experiment's results can be computed: its tiers are done and it has moved past them. */
export function resultsAvailable(scope: Pick<ResultScope, 'key' | 'actors'>): boolean {
  const state = String(scope.actors.get(scope.key)?.snapshot.value);
  return ['exp_tiers_complete', 'exp_reports_generated', 'exp_complete'].includes(state);
}

type AgentOutput = RunResult['agent'];
type DiffOutput = RunResult['diff'];
type JudgesOutput = { score: number; passed: boolean; grade: RunResult['grade']; verdicts: RunResult['judges'] };

/**
 * A run's result from its rows (all of them, or its RunHistories): the outputs
 * of runAgent, captureDiff and runJudges; its duration runs from its creation
 * (`created`, its first row's time) to its verdict.
 */
export function runResultOf(key: string, { tier, subtest, run }: { tier: string; subtest: string; run: number }, history: readonly ResultRow[], created: string): RunResult {
  const recorded = <T>(effect: string): T => {
    const output = outputOf<T>(history, effect);
    if (output === undefined || output === null) throw new EffectFailure(`run ${tier}/${subtest}/${run} has no recorded output of ${effect}, so it has no result`, false);
    return output;
  };
  const agent = recorded<AgentOutput>('runAgent');
  const diff = recorded<DiffOutput>('captureDiff');
  const judged = recorded<JudgesOutput>('runJudges');
  const verdictAt = lastCompletion(history, 'runJudges')!.at;
  return RunResult.parse({
    experiment: key, tier, subtest, run,
    passed: judged.passed, score: judged.score, grade: judged.grade, judges: judged.verdicts,
    agent: { exitCode: agent.exitCode, timedOut: agent.timedOut, durationMs: agent.durationMs, tokens: agent.tokens, costUsd: agent.costUsd },
    diff: { filesChanged: diff.filesChanged, insertions: diff.insertions, deletions: diff.deletions },
    spend: runSpendOf(history),
    durationMs: between(created, verdictAt),
  });
}

/** The runs of a subtest with their states, in run order (a run not created yet is `run_pending`). */
export function runStates(scope: ResultScope, tier: string, subtest: string): { run: number; state: string }[] {
  const actor = scope.actors.get(streams.subtest(scope.key, tier, subtest));
  return (actor ? contextOf(actor, 'subtest').expected : []).map((id) => ({
    run: Number(id),
    state: String(scope.actors.get(streams.run(scope.key, tier, subtest, Number(id)))?.snapshot.value ?? 'run_pending'),
  }));
}

/** A subtest's result from the recorded results of its runs that completed (the others count as failed), and what all of them spent. */
export function subtestOf(scope: ResultScope, tier: string, subtest: string, histories = runHistories(scope.store, streams.subtest(scope.key, tier, subtest))): TierSubtest {
  const states = runStates(scope, tier, subtest);
  const runs: RunResult[] = [];
  const spend: RunSpend[] = [];
  for (const { run, state } of states) {
    const actor = scope.actors.get(streams.run(scope.key, tier, subtest, run));
    if (!actor) continue;
    const history = histories.get(actor.stream) ?? [];
    spend.push(runSpendOf(history));
    if (state === RUN_COMPLETED) runs.push(runResultOf(scope.key, { tier, subtest, run }, history, actor.created));
  }
  return { result: subtestResult({ tier, subtest, runs, failedRuns: states.length - runs.length, spend }), knownCostRuns: knownCostRuns(spend) };
}

/** The subtests of a tier that were created, with their results. */
export function tierSubtests(scope: ResultScope, tier: string, histories = runHistories(scope.store, streams.tier(scope.key, tier))): TierSubtest[] {
  const actor = scope.actors.get(streams.tier(scope.key, tier));
  return (actor ? contextOf(actor, 'tier').expected : [])
    .filter((subtest) => scope.actors.has(streams.subtest(scope.key, tier, subtest)))
    .map((subtest) => subtestOf(scope, tier, subtest, histories));
}

/** The subtests whose outcome the tier recorded as completed: the ones that compete for best. */
export function completedSubtests(scope: ResultScope, tier: string): TierSubtest[] {
  const { children } = contextOf(scope.actors.get(streams.tier(scope.key, tier))!, 'tier');
  return tierSubtests(scope, tier).filter((s) => children[s.result.subtest] === 'completed');
}

/**
 * A tier's result. A completed tier's duration runs from its creation to the
 * selection of its best subtest; a failed tier's to its last row.
 */
export function tierResultOf(scope: ResultScope, tier: string, outcome: 'completed' | 'failed', histories?: RunHistories): TierResult {
  const stream = streams.tier(scope.key, tier);
  const history = scope.store.readStream(stream);
  const end = outcome === 'completed' ? lastCompletion(history, 'selectBestSubtest') ?? history.at(-1)! : history.at(-1)!;
  const best = outcome === 'completed' ? contextOf(scope.actors.get(stream)!, 'tier').best : null;
  return tierResult({ tier, outcome, subtests: tierSubtests(scope, tier, histories), best, durationMs: between(history[0]!.at, end.at) });
}

/** The experiment's result over every tier that was created: complete tiers as completed, the others as failed. */
export function experimentResultOf(scope: ResultScope, histories = runHistories(scope.store, scope.key)): ExperimentResult {
  const { tiers } = contextOf(scope.actors.get(scope.key)!, 'experiment');
  const configHash = outputOf<{ configHash: string }>(scope.store.readStream(scope.key), 'initializeExperiment')?.configHash ?? '';
  const results = tiers.flatMap(({ id }) => {
    const actor = scope.actors.get(streams.tier(scope.key, id));
    return actor ? [tierResultOf(scope, id, actor.snapshot.value === 'tier_complete' ? 'completed' : 'failed', histories)] : [];
  });
  return experimentResult({ experiment: scope.key, configHash, tiers: results });
}

function lastCompletion<R extends ResultRow>(history: readonly R[], effect: string): R | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const { event } = history[i]!;
    if (isEvent(event, 'effect.completed') && event.data.effect === effect) return history[i];
  }
  return undefined;
}

const between = (from: string, to: string) => Math.max(0, Date.parse(to) - Date.parse(from));

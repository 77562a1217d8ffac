import { isFinal, outputOf, stateMeta, type ReplayedActor } from '../engine/index.js';
import { contextOf, RUN_COMPLETED, RUN_FAILED } from '../machines/index.js';
import { childrenOf, localId } from './actor-tree.js';
import { runHistories, runSpendOf } from './finalization/recorded.js';
import type { ExperimentLog } from './log.js';

/**
 * What an experiment's runs came to, for the end of `run`/`resume` and its
 * exit code: judged runs passed or not (results), runs that errored
 * (reached run_failed: infrastructure, not a result), runs not finished, the
 * tiers that failed with why, and the spend.
 */
export interface OutcomeSummary {
  runs: { total: number; passed: number; notPassed: number; errored: number; unfinished: number };
  /** Passed runs over all runs (errored and unfinished ones count as not passed). */
  passRate: number;
  failedTiers: { tier: string; reason: string }[];
  /** The first few errored runs, each with where and why it failed. */
  erroredRuns: { run: string; state: string; reason: string }[];
  spend: { costUsd: number | null; tokens: number | null };
}

const SHOWN_ERRORS = 5;

export function outcomeSummary(scope: { key: string; store: ExperimentLog; actors: ReadonlyMap<string, ReplayedActor> }): OutcomeSummary {
  const runs = { total: 0, passed: 0, notPassed: 0, errored: 0, unfinished: 0 };
  const erroredRuns: OutcomeSummary['erroredRuns'] = [];
  const spend = { costUsd: null as number | null, tokens: null as number | null };
  const add = (a: number | null, b: number | null) => (b === null ? a : (a ?? 0) + b);
  const histories = runHistories(scope.store, scope.key);
  for (const run of [...scope.actors.values()].filter((a) => a.entry.id === 'run')) {
    runs.total += 1;
    const history = histories.get(run.stream) ?? [];
    const spent = runSpendOf(history);
    spend.costUsd = add(spend.costUsd, spent.costUsd);
    spend.tokens = add(spend.tokens, spent.tokens);
    const state = String(run.snapshot.value);
    if (state === RUN_COMPLETED) {
      if (outputOf<{ passed: boolean }>(history, 'buildRunResult')?.passed) runs.passed += 1;
      else runs.notPassed += 1;
    } else if (state === RUN_FAILED) {
      runs.errored += 1;
      if (erroredRuns.length < SHOWN_ERRORS) erroredRuns.push({ run: run.stream.slice(scope.key.length + 1), state: contextOf(run, 'run').failure?.state ?? state, reason: failureOf(run) });
    }
  }
  runs.total += expectedRunsNotCreated(scope);
  runs.unfinished = runs.total - runs.passed - runs.notPassed - runs.errored;
  return { runs, passRate: runs.total === 0 ? 0 : runs.passed / runs.total, failedTiers: failedTiers(scope), erroredRuns, spend };
}

/** Runs that subtests expect but that were never created (a paused or failed experiment). */
function expectedRunsNotCreated(scope: { key: string; actors: ReadonlyMap<string, ReplayedActor> }): number {
  let missing = 0;
  for (const subtest of [...scope.actors.values()].filter((a) => a.entry.id === 'subtest')) {
    missing += contextOf(subtest, 'subtest').expected.filter((id) => !scope.actors.has(`${subtest.stream}/${id}`)).length;
  }
  return missing;
}

/** The failed tiers, each with why: its own failure, or its subtests' (the first errored run's cause). */
function failedTiers(scope: { key: string; actors: ReadonlyMap<string, ReplayedActor> }): OutcomeSummary['failedTiers'] {
  const tiers = [...scope.actors.values()].filter((a) => a.entry.id === 'tier' && stateMeta(a.snapshot).outcome === 'failed');
  return tiers.map((tier) => {
    const failure = contextOf(tier, 'tier').failure;
    if (failure?.effect) return { tier: localId(tier), reason: `${failure.effect} failed: ${failure.message}` };
    const failedRun = childrenOf(scope.actors, tier.stream).flatMap((s) => childrenOf(scope.actors, s.stream)).find((r) => String(r.snapshot.value) === RUN_FAILED);
    const cause = failedRun ? `; e.g. run ${failedRun.stream.slice(scope.key.length + 1)}: ${failureOf(failedRun)}` : '';
    return { tier: localId(tier), reason: `no subtest completed${cause}` };
  });
}

/** Why a failed run failed: the effect and its recorded error. */
export function failureOf(run: ReplayedActor): string {
  const failure = contextOf(run, 'run').failure;
  if (!failure) return isFinal(run.snapshot) ? 'completed' : 'unknown';
  return `${failure.effect ?? failure.state} failed: ${failure.message}`;
}

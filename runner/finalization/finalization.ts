import { outputOf } from '../../engine/index.js';
import { contextOf } from '../../machines/index.js';
import { selectBest } from '../../analysis/aggregate.js';
import { removeWorktree } from '../../workspace/git.js';
import { runContext } from '../execution/run-context.js';
import type { RunnerEffect } from '../session.js';
import { writeExperimentFiles, writeExperimentSummary, writeRunReport, writeRunResult, writeSubtestFiles, writeTierFiles } from './files.js';
import { completedSubtests, experimentResultOf, runResultOf, runStates, subtestOf, tierResultOf } from './recorded.js';

/**
 * Finalization (docs/design.md §4): run, subtest, tier and experiment results,
 * best-subtest selection, reports, summary and cleanup. Results are computed
 * from the log (./recorded.ts); the files are written for people, and no
 * effect reads back what another wrote.
 */
export interface Finalization {
  buildRunResult: RunnerEffect;
  writeRunReport: RunnerEffect;
  cleanupWorktree: RunnerEffect;
  aggregateSubtest: RunnerEffect;
  selectBestSubtest: RunnerEffect;
  writeTierReport: RunnerEffect;
  completeTier: RunnerEffect;
  writeExperimentReports: RunnerEffect;
  completeExperiment: RunnerEffect;
}

export function createFinalization(): Finalization {
  return { ...runEffects, ...parentEffects, ...experimentEffects };
}

/** A run's result (recorded outputs), its report, and the removal of its worktree. */
const runEffects: Pick<Finalization, 'buildRunResult' | 'writeRunReport' | 'cleanupWorktree'> = {
  async buildRunResult(ctx, session) {
    const result = runResultOf(session.key, runContext(ctx, session), ctx.history(), ctx.actor.created);
    writeRunResult(session.paths, result);
    return { output: { passed: result.passed, score: result.score } };
  },

  async writeRunReport(ctx, session) {
    const run = runContext(ctx, session);
    writeRunReport(session.paths, runResultOf(session.key, run, ctx.history(), ctx.actor.created));
    return { output: { report: run.paths.report } };
  },

  async cleanupWorktree(ctx, session) {
    const { paths } = runContext(ctx, session);
    const passed = outputOf<{ passed: boolean }>(ctx.history(), 'buildRunResult')?.passed ?? false;
    if (!passed && session.config.keepFailedWorkspaces) return { output: { removed: false, kept: paths.workspace } };
    await removeWorktree((await session.repo()).repoDir, paths.workspace);
    return { output: { removed: true } };
  },
};

/** A subtest's aggregate, a tier's best subtest and reports. */
const parentEffects: Pick<Finalization, 'aggregateSubtest' | 'selectBestSubtest' | 'writeTierReport' | 'completeTier'> = {
  async aggregateSubtest(ctx, session) {
    const { tier, subtest } = contextOf(ctx.actor, 'subtest');
    const { result } = subtestOf(session, tier, subtest);
    writeSubtestFiles(session.paths, result, runStates(session, tier, subtest));
    return { output: { passRate: result.passRate, medianScore: result.score.median, totalTokens: result.totalTokens } };
  },

  async selectBestSubtest(ctx, session) {
    const { tier } = contextOf(ctx.actor, 'tier');
    return { output: selectBest(completedSubtests(session, tier).map((s) => s.result)) };
  },

  async writeTierReport(ctx, session) {
    const { tier } = contextOf(ctx.actor, 'tier');
    writeTierFiles(session.paths, tierResultOf(session, tier, 'completed'));
    return { output: { report: session.paths.tier(tier).report } };
  },

  async completeTier(ctx, session) {
    return { output: { durationMs: Math.max(0, session.clock() - Date.parse(ctx.actor.created)) } };
  },
};

/** The experiment's result, report and summary. */
const experimentEffects: Pick<Finalization, 'writeExperimentReports' | 'completeExperiment'> = {
  async writeExperimentReports(_ctx, session) {
    const result = experimentResultOf(session);
    // a failed tier never wrote its own reports: they are written here, so the experiment report's links resolve
    for (const tier of result.tiers) if (tier.outcome === 'failed') writeTierFiles(session.paths, tier);
    writeExperimentFiles(session.paths, result);
    return { output: { report: session.paths.report, frontier: result.frontier } };
  },

  async completeExperiment(_ctx, session) {
    writeExperimentSummary(session.paths, experimentResultOf(session));
    return { output: { summary: session.paths.summary } };
  },
};

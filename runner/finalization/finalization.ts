import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { outputOf } from '../../engine/index.js';
import { contextOf, RUN_COMPLETED } from '../../machines/index.js';
import { selectBest } from '../../results/aggregate.js';
import { experimentReport, experimentSummary, runReport, subtestReport, tierReport, tierSummary } from '../../results/markdown.js';
import type { TierResult } from '../../schemas/results.js';
import { removeWorktree } from '../../workspace/git.js';
import { runContext } from '../execution/run-context.js';
import type { RunnerEffect, Session } from '../session.js';
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
    const run = runContext(ctx, session);
    const result = runResultOf(session.key, run, ctx.history());
    writeJson(run.paths.result, result);
    return { output: { passed: result.passed, score: result.score } };
  },

  async writeRunReport(ctx, session) {
    const run = runContext(ctx, session);
    const { paths } = run;
    const result = runResultOf(session.key, run, ctx.history());
    const rel = (file: string) => relative(paths.dir, file);
    const links = {
      prompt: rel(paths.prompt), agentStdout: rel(paths.stdout), agentStderr: rel(paths.stderr), diff: rel(paths.diff),
      judges: result.judges.map((_, i) => rel(paths.judgeVerdict(i))), result: rel(paths.result),
    };
    writeText(paths.report, runReport(result, links));
    return { output: { report: paths.report } };
  },

  async cleanupWorktree(ctx, session) {
    const { paths } = runContext(ctx, session);
    const passed = outputOf<{ passed: boolean }>(ctx.history(), 'buildRunResult')?.passed ?? false;
    if (!passed && session.config.keepFailedWorkspaces) return { output: { removed: false, kept: paths.workspace } };
    await removeWorktree(session.repo().repoDir, paths.workspace);
    return { output: { removed: true } };
  },
};

/** A subtest's aggregate, a tier's best subtest and reports. */
const parentEffects: Pick<Finalization, 'aggregateSubtest' | 'selectBestSubtest' | 'writeTierReport' | 'completeTier'> = {
  async aggregateSubtest(ctx, session) {
    const { tier, subtest } = contextOf(ctx.actor, 'subtest');
    const { result } = subtestOf(session, tier, subtest);
    const paths = session.paths.subtest(tier, subtest);
    writeJson(paths.result, result);
    const runs = runStates(session, tier, subtest).map(({ run, state }) => ({
      run, state, report: state === RUN_COMPLETED ? relative(paths.dir, session.paths.run(tier, subtest, run).report) : null,
    }));
    writeText(paths.report, subtestReport(result, runs));
    return { output: { passRate: result.passRate, medianScore: result.score.median, totalTokens: result.totalTokens } };
  },

  async selectBestSubtest(ctx, session) {
    const { tier } = contextOf(ctx.actor, 'tier');
    return { output: selectBest(completedSubtests(session, tier).map((s) => s.result)) };
  },

  async writeTierReport(ctx, session) {
    const { tier } = contextOf(ctx.actor, 'tier');
    writeTierFiles(session, tierResultOf(session, tier, 'completed'));
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
    for (const tier of result.tiers) if (tier.outcome === 'failed') writeTierFiles(session, tier);
    writeJson(session.paths.result, result);
    const rel = (file: string) => relative(session.paths.dir, file);
    const tiers = result.tiers.map(({ tier }) => ({ tier, report: rel(session.paths.tier(tier).report), summary: rel(session.paths.tier(tier).summary) }));
    writeText(session.paths.report, experimentReport(result, tiers));
    return { output: { report: session.paths.report, frontier: result.frontier } };
  },

  async completeExperiment(_ctx, session) {
    writeText(session.paths.summary, experimentSummary(experimentResultOf(session)));
    return { output: { summary: session.paths.summary } };
  },
};

/** A tier's result.json, report and summary. */
function writeTierFiles(session: Session, result: TierResult): void {
  const paths = session.paths.tier(result.tier);
  writeJson(paths.result, result);
  const links = result.subtests.map((s) => ({ subtest: s.subtest, report: relative(paths.dir, session.paths.subtest(result.tier, s.subtest).report) }));
  writeText(paths.report, tierReport(result, links));
  writeText(paths.summary, tierSummary(result));
}

function writeJson(file: string, value: unknown): void {
  writeText(file, `${JSON.stringify(value, null, 2)}\n`);
}

function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { isFinal, outputOf, stateMeta, type ReplayedActor } from '../../engine/index.js';
import type { ExperimentContext, SubtestContext, TierContext } from '../../machines/index.js';
import { RunResult, TierResult, type ExperimentResult } from '../../schemas/results.js';
import type { StoredRow } from '../../store/types.js';
import { removeWorktree } from '../../workspace/git.js';
import type { Outcome } from '../../observe/metrics.js';
import { streams } from '../paths.js';
import { experimentReport, experimentSummary, runReport, subtestReport, tierReport, tierSummary } from '../../results/markdown.js';
import { experimentResult, knownCostRuns, selectBest, subtestResult, tierResult, type TierSubtest } from '../../results/aggregate.js';
import { runContext } from '../execution/run-context.js';
import { preparedRepo, type RunnerEffect, type Session } from '../session.js';

/**
 * SPEC §4 Finalization: run, subtest, tier and experiment results, best-subtest
 * selection, reports, summary, metrics and cleanup.
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
  /** An actor reached an outcome: record its duration, whatever the outcome (SPEC §4). */
  actorFinished(session: Session, actor: ReplayedActor, outcome: 'completed' | 'failed', row: StoredRow): void;
  /** The driver was interrupted: record how long every run, subtest and tier still under way had been going. */
  actorsInterrupted(session: Session, actors: ReadonlyMap<string, ReplayedActor>): void;
}

/** A run's, subtest's or tier's duration from its creation to `end`, by outcome. */
function recordDuration(session: Session, actor: ReplayedActor, outcome: Outcome, end: number): void {
  const level = actor.entry.id;
  if (level !== 'run' && level !== 'subtest' && level !== 'tier') return;
  const created = session.store.readStream(actor.stream, { toVersion: 1 })[0]!;
  const { tier, subtest } = actor.snapshot.context as { tier?: string; subtest?: string };
  session.metrics.duration(level, outcome, { tier, subtest }, Math.max(0, end - Date.parse(created.at)));
}

export function createFinalization(): Finalization {
  return {
    async buildRunResult(ctx, session) {
      const run = runContext(ctx, session);
      const history = ctx.history();
      const agent = outputOf<RunResult['agent']>(history, 'runAgent')!;
      const diff = outputOf<RunResult['diff']>(history, 'captureDiff')!;
      const judged = outputOf<{ score: number; passed: boolean; grade: RunResult['grade']; verdicts: RunResult['judges'] }>(history, 'runJudges')!;
      const result = RunResult.parse({
        experiment: session.key, tier: run.tier, subtest: run.subtest, run: run.run,
        passed: judged.passed, score: judged.score, grade: judged.grade, judges: judged.verdicts,
        agent: { exitCode: agent.exitCode, timedOut: agent.timedOut, durationMs: agent.durationMs, tokens: agent.tokens, costUsd: agent.costUsd },
        diff: { filesChanged: diff.filesChanged, insertions: diff.insertions, deletions: diff.deletions },
        durationMs: elapsed(history[0]!, session.clock()),
      });
      writeJson(run.paths.result, result);
      return { output: { passed: result.passed, score: result.score } };
    },

    async writeRunReport(ctx, session) {
      const { paths } = runContext(ctx, session);
      const result = RunResult.parse(readJson(paths.result));
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
      await removeWorktree(preparedRepo(session).repoDir, paths.workspace);
      return { output: { removed: true } };
    },

    async aggregateSubtest(ctx, session) {
      const { tier, subtest } = ctx.actor.snapshot.context as SubtestContext;
      const { result } = subtestFromRuns(session, tier, subtest);
      const paths = session.paths.subtest(tier, subtest);
      writeJson(paths.result, result);
      const runs = runStates(session, tier, subtest).map(({ run, state }) => ({
        run, state, report: state === 'run_worktree_cleaned' ? relative(paths.dir, session.paths.run(tier, subtest, run).report) : null,
      }));
      writeText(paths.report, subtestReport(result, runs));
      return { output: { passRate: result.passRate, medianScore: result.score.median, totalTokens: result.totalTokens } };
    },

    async selectBestSubtest(ctx, session) {
      const { tier } = ctx.actor.snapshot.context as TierContext;
      return { output: selectBest(completedSubtests(session, tier).map((s) => s.result)) };
    },

    async writeTierReport(ctx, session) {
      const { tier } = ctx.actor.snapshot.context as TierContext;
      writeTier(session, tier, 'completed', ctx.history()[0]!);
      return { output: { report: session.paths.tier(tier).report } };
    },

    async completeTier(ctx, session) {
      return { output: { durationMs: elapsed(ctx.history()[0]!, session.clock()) } };
    },

    async writeExperimentReports(_ctx, session) {
      const result = experimentResultOf(session);
      writeJson(session.paths.result, result);
      const rel = (file: string) => relative(session.paths.dir, file);
      const tiers = result.tiers.map(({ tier }) => ({ tier, report: rel(session.paths.tier(tier).report), summary: rel(session.paths.tier(tier).summary) }));
      writeText(session.paths.report, experimentReport(result, tiers));
      return { output: { report: session.paths.report, frontier: result.frontier } };
    },

    async completeExperiment(_ctx, session) {
      const result = readJson(session.paths.result) as ExperimentResult;
      writeText(session.paths.summary, experimentSummary(result));
      return { output: { summary: session.paths.summary } };
    },

    actorFinished(session, actor, outcome, row) {
      recordDuration(session, actor, outcome, Date.parse(row.at));
    },

    actorsInterrupted(session, actors) {
      for (const actor of actors.values()) {
        if (!isFinal(actor.snapshot) && stateMeta(actor.snapshot).outcome === undefined) recordDuration(session, actor, 'interrupted', session.clock());
      }
    },
  };
}

/** A tier's result from its subtests' run results; also written for a failed tier, so the experiment report shows it. */
function writeTier(session: Session, tier: string, outcome: 'completed' | 'failed', created: StoredRow): TierResult {
  const paths = session.paths.tier(tier);
  const subtests = tierSubtests(session, tier);
  const best = (session.actors.get(streams.tier(session.key, tier))?.snapshot.context as TierContext | undefined)?.best ?? null;
  const result = tierResult({ tier, outcome, subtests, best: outcome === 'completed' ? best : null, durationMs: elapsed(created, session.clock()) });
  writeJson(paths.result, result);
  const links = subtests.map(({ result: s }) => ({ subtest: s.subtest, report: relative(paths.dir, session.paths.subtest(tier, s.subtest).report) }));
  writeText(paths.report, tierReport(result, links));
  writeText(paths.summary, tierSummary(result));
  return result;
}

function experimentResultOf(session: Session): ExperimentResult {
  const experiment = session.actors.get(session.key)!.snapshot.context as ExperimentContext;
  const configHash = outputOf<{ configHash: string }>(session.store.readStream(session.key), 'initializeExperiment')?.configHash ?? '';
  const tiers = experiment.tiers.flatMap(({ id }) => {
    const actor = session.actors.get(streams.tier(session.key, id));
    if (!actor) return [];
    const { result } = session.paths.tier(id);
    if (actor.snapshot.value === 'tier_complete' && existsSync(result)) return [TierResult.parse(readJson(result))];
    return [writeTier(session, id, 'failed', session.store.readStream(actor.stream, { toVersion: 1 })[0]!)];
  });
  return experimentResult({ experiment: session.key, configHash, tiers });
}

function runStates(session: Session, tier: string, subtest: string): { run: number; state: string }[] {
  const context = session.actors.get(streams.subtest(session.key, tier, subtest))?.snapshot.context as SubtestContext | undefined;
  return (context?.expected ?? []).map((id) => ({
    run: Number(id),
    state: String(session.actors.get(streams.run(session.key, tier, subtest, Number(id)))?.snapshot.value ?? 'run_pending'),
  }));
}

/** A subtest's result from the result files of its runs that completed; the others count as failed. */
function subtestFromRuns(session: Session, tier: string, subtest: string): TierSubtest {
  const states = runStates(session, tier, subtest);
  const runs = states
    .filter((s) => s.state === 'run_worktree_cleaned')
    .map((s) => RunResult.parse(readJson(session.paths.run(tier, subtest, s.run).result)));
  return { result: subtestResult({ tier, subtest, runs, failedRuns: states.length - runs.length }), knownCostRuns: knownCostRuns(runs) };
}

function tierSubtests(session: Session, tier: string): TierSubtest[] {
  const context = session.actors.get(streams.tier(session.key, tier))?.snapshot.context as TierContext | undefined;
  return (context?.expected ?? [])
    .filter((subtest) => session.actors.has(streams.subtest(session.key, tier, subtest)))
    .map((subtest) => subtestFromRuns(session, tier, subtest));
}

function completedSubtests(session: Session, tier: string): TierSubtest[] {
  const context = session.actors.get(streams.tier(session.key, tier))!.snapshot.context as TierContext;
  return tierSubtests(session, tier).filter((s) => context.children[s.result.subtest] === 'completed');
}

const elapsed = (created: StoredRow, now: number) => Math.max(0, now - Date.parse(created.at));

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function writeJson(file: string, value: unknown): void {
  writeText(file, `${JSON.stringify(value, null, 2)}\n`);
}

function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}


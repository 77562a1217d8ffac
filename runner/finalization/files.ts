import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { RUN_COMPLETED } from '../../machines/index.js';
import { experimentReport, experimentSummary, runReport, subtestReport, tierReport, tierSummary } from '../../analysis/markdown.js';
import type { ExperimentResult, RunResult, SubtestResult, TierResult } from '../../schemas/results.js';
import type { ExperimentPaths } from '../paths.js';

/** The result files and reports of each level, written for people (no effect reads them back). */

/** A run's result.json (written with its result) and its report (the step after). */
export function writeRunResult(paths: ExperimentPaths, result: RunResult): void {
  writeJson(paths.run(result.tier, result.subtest, result.run).result, result);
}

export function writeRunReport(paths: ExperimentPaths, result: RunResult): void {
  const run = paths.run(result.tier, result.subtest, result.run);
  const rel = (file: string) => relative(run.dir, file);
  const links = {
    prompt: rel(run.prompt), agentStdout: rel(run.stdout), agentStderr: rel(run.stderr), diff: rel(run.diff),
    judges: result.judges.map((_, i) => rel(run.judgeVerdict(i))), result: rel(run.result),
  };
  writeText(run.report, runReport(result, links));
}

/** A subtest's result.json and report, linking the reports of its completed runs. */
export function writeSubtestFiles(paths: ExperimentPaths, result: SubtestResult, runs: readonly { run: number; state: string }[]): void {
  const subtest = paths.subtest(result.tier, result.subtest);
  writeJson(subtest.result, result);
  const rows = runs.map(({ run, state }) => ({ run, state, report: state === RUN_COMPLETED ? relative(subtest.dir, paths.run(result.tier, result.subtest, run).report) : null }));
  writeText(subtest.report, subtestReport(result, rows));
}

/** A tier's result.json, report and summary. */
export function writeTierFiles(paths: ExperimentPaths, result: TierResult): void {
  const tier = paths.tier(result.tier);
  writeJson(tier.result, result);
  const links = result.subtests.map((s) => ({ subtest: s.subtest, report: relative(tier.dir, paths.subtest(result.tier, s.subtest).report) }));
  writeText(tier.report, tierReport(result, links));
  writeText(tier.summary, tierSummary(result));
}

/** The experiment's result.json and report (the summary is the last step's). */
export function writeExperimentFiles(paths: ExperimentPaths, result: ExperimentResult): void {
  writeJson(paths.result, result);
  const rel = (file: string) => relative(paths.dir, file);
  const tiers = result.tiers.map(({ tier }) => ({ tier, report: rel(paths.tier(tier).report), summary: rel(paths.tier(tier).summary) }));
  writeText(paths.report, experimentReport(result, tiers));
}

export function writeExperimentSummary(paths: ExperimentPaths, result: ExperimentResult): void {
  writeText(paths.summary, experimentSummary(result));
}

function writeJson(file: string, value: unknown): void {
  writeText(file, `${JSON.stringify(value, null, 2)}\n`);
}

function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/**
 * Results first (issue 10), through the built CLI as a user runs it: the
 * outcome of every run, subtest and tier in status and reports with their
 * uncertainty, failure drill-down, spending limits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfigInput } from '../../schemas/config.js';
import { cli, startCli, until } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { sample } from '../support/prometheus.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const node = (code: string) => ['node', '-e', code];

/** An agent that reports it spent $0.01 and 100 tokens; a judge whose verdict depends on the subtest and run. */
const agentSpending = node("console.log(JSON.stringify({ costUsd: 0.01, tokens: 100 }))");
/** Subtest a: runs 1 and 2 pass (score 0.9), run 3 does not (0.3); subtest b: every run scores 0.2 and fails. */
const judgeByRun = node(
  "const a = process.env.EXPCTL_SUBTEST === 'a', r = Number(process.env.EXPCTL_RUN);"
  + "const pass = a && r < 3; console.log(JSON.stringify({ score: pass ? 0.9 : a ? 0.3 : 0.2, passed: pass, grade: pass ? 'A' : 'D' }))",
);

function setup(overrides: Partial<ExperimentConfigInput> = {}) {
  const dir = tempDir();
  writeExperiment(dir, {
    agent: { command: agentSpending },
    judges: [{ command: judgeByRun }],
    runsPerSubtest: 3,
    tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }],
    limits: { maxConcurrentRuns: 2, maxConcurrentAgents: 2 },
    ...overrides,
  });
  const results = join(dir, 'results');
  const run = (...args: string[]) => cli(['--results-dir', results, ...args], { cwd: dir });
  const json = async <T>(...args: string[]) => {
    const result = await run(...args, '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as T;
  };
  return { dir, results, run, json };
}

type Group = { runs: number; judged: number; passed: number; errored: number; passRate: number | null; passRateInterval: [number, number] | null; score: { median: number; medianInterval: [number, number] } | null; costUsd: number | null; tokens: number | null };
type Status = {
  state: string;
  runs: Record<string, number>;
  results: Group;
  paused: { reason: string } | null;
  tiers: { id: string; best: string | null; separation: { leader: string; runnerUp: string; withinNoise: boolean; runsToSeparate: number | null } | null; results: Group; subtests: { id: string; results: Group; runs: { run: number; outcome: string | null; score: number | null; costUsd: number | null; tokens: number | null; durationMs: number | null; error: string | null }[] }[] }[];
};

describe('status shows what the runs came to, with the uncertainty of a few runs', () => {
  it('2 of 3 passed reads 66.7% [20.8%, 93.9%]; per run outcome, score, cost, tokens, duration; cost totals; the leader within noise', async () => {
    const { run, json, dir } = setup();
    const done = await run('run', 'experiment.yaml', '--metrics-file', 'metrics.prom');
    expect(done.code, done.stderr).toBe(0);
    // the metrics carry spend and outcomes too
    const metrics = readFileSync(join(dir, 'metrics.prom'), 'utf8');
    expect(sample(metrics, 'expctl_agent_cost_usd_total', { tier: 'T0', subtest: 'a' })).toBeCloseTo(0.03, 9);
    expect(sample(metrics, 'expctl_agent_tokens_total', { tier: 'T0', subtest: 'b' })).toBe(300);
    expect(sample(metrics, 'expctl_runs_total', { subtest: 'a', outcome: 'passed' })).toBe(2);
    expect(sample(metrics, 'expctl_runs_total', { subtest: 'a', outcome: 'not_passed' })).toBe(1);
    expect(sample(metrics, 'expctl_runs_total', { subtest: 'b', outcome: 'not_passed' })).toBe(3);
    const s = await json<Status>('status', 'exp-1');
    const [a, b] = s.tiers[0]!.subtests;
    expect(a!.results).toMatchObject({ runs: 3, judged: 3, passed: 2, passRate: 0.666667, passRateInterval: [0.20766, 0.938508], costUsd: 0.03, tokens: 300 });
    expect(a!.results.score).toMatchObject({ median: 0.9 });
    expect(b!.results).toMatchObject({ passed: 0, passRate: 0, passRateInterval: [0, 0.561497] });
    expect(a!.runs.map((r) => [r.run, r.outcome, r.score, r.costUsd, r.tokens])).toEqual([[1, 'passed', 0.9, 0.01, 100], [2, 'passed', 0.9, 0.01, 100], [3, 'not_passed', 0.3, 0.01, 100]]);
    for (const r of a!.runs) expect(r.durationMs).toBeGreaterThan(0);
    expect(s.results).toMatchObject({ runs: 6, judged: 6, passed: 2, passRate: 0.333333, costUsd: 0.06, tokens: 600 });
    expect(s.runs).toMatchObject({ total: 6, completed: 6, passed: 2, notPassed: 4, running: 0, pending: 0 });
    expect(s.tiers[0]).toMatchObject({ best: 'a', separation: { leader: 'a', runnerUp: 'b', withinNoise: true } });
    expect(s.tiers[0]!.separation!.runsToSeparate).toBeGreaterThan(3);

    const text = (await run('status', 'exp-1')).stdout;
    expect(text.split('\n')[0]).toBe('exp-1  2/6 passed 33.3% [9.7%, 70.0%] · median 0.25 [0.20, 0.90] · $0.0600 · 600 tokens');
    expect(text).toContain('    a  subtest_aggregated · 2/3 passed 66.7% [20.8%, 93.9%] · median 0.90 [0.30, 0.90] · $0.0300 · 300 tokens');
    expect(text).toMatch(/ {6}run 3 {2}not passed {2}score 0\.30 · \$0\.0100 · \d/);
    expect(text).toMatch(/best a \(within noise of b; about \d+ runs each would tell them apart\)/);
    const all = (await run('status')).stdout;
    expect(all).toContain('exp-1  2/6 passed 33.3% [9.7%, 70.0%]');

    const failed = await json<Status>('status', 'exp-1', '--failed');
    expect(failed.tiers[0]!.subtests.map((st) => [st.id, st.runs.map((r) => r.run)])).toEqual([['a', [3]], ['b', [1, 2, 3]]]);
  }, 60_000);

  it('reports: the best subtest\'s pass rate with its interval, rounded numbers, one row per run as csv and jsonl, filters', async () => {
    const { run, json, results } = setup();
    expect((await run('run', 'experiment.yaml')).code).toBe(0);
    const report = await json<{ tiers: { passRate: number; separation: { withinNoise: boolean }; subtests: { subtest: string; passRate: number; passedRuns: number; passRateInterval: [number, number] }[] }[] }>('report', 'exp-1');
    expect(report.tiers[0]!.subtests[0]).toMatchObject({ subtest: 'a', passRate: 0.666667, passedRuns: 2, passRateInterval: [0.20766, 0.938508] });
    expect(report.tiers[0]!.separation.withinNoise).toBe(true);
    const md = (await run('report', 'exp-1')).stdout;
    expect(md).toContain('| a (within noise) | 66.7% [20.8%, 93.9%] (2 of 3) | $0.0600 |');
    expect(md).toContain('*Cost of pass*: what a tier spent');
    // the files the run wrote say the same
    expect(readFileSync(join(results, 'exp-1', 'report.md'), 'utf8')).toContain('66.7% [20.8%, 93.9%] (2 of 3)');
    // no float noise anywhere in the JSON
    expect((await run('report', 'exp-1', '--json')).stdout).not.toMatch(/\d\.\d*0000000\d|\d\.\d*9999999\d/);

    const csv = (await run('report', 'exp-1', '--format', 'csv')).stdout.trim().split('\r\n');
    expect(csv[0]).toBe('experiment,tier,subtest,run,state,attempt,outcome,score,grade,costUsd,tokens,durationMs,agentExitCode,agentTimedOut,filesChanged,insertions,deletions,error');
    expect(csv).toHaveLength(7);
    expect(csv.find((l) => l.startsWith('exp-1,T0,a,3,'))).toMatch(/^exp-1,T0,a,3,run_worktree_cleaned,1,not_passed,0\.3,D,0\.01,100,\d+,0,false,0,0,0,$/);
    const jsonl = (await run('report', 'exp-1', '--format', 'jsonl', '--subtest', 'b')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { subtest: string; outcome: string });
    expect(jsonl.map((r) => [r.subtest, r.outcome])).toEqual([['b', 'not_passed'], ['b', 'not_passed'], ['b', 'not_passed']]);
    const bad = await run('report', 'exp-1', '--tier', 'T9');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --tier: "T9" is not a tier of exp-1');
    expect(bad.stderr).toContain('hint: its tiers: T0');
    const notPassed = await run('report', 'exp-1', '--failed', '--subtest', 'a');
    expect(notPassed.stdout).toBe('1 runs of exp-1 did not pass:\nT0/a/3  not passed: score 0.30\n  `expctl show exp-1 T0/a/3`\n');
  }, 60_000);
});

describe('failure drill-down: show and logs', () => {
  it('shows every step of an errored run with its attempts, the error, the judge stderr that explains it, and the files', async () => {
    const failingJudge = node("console.error('loading rubric'); console.error('Error: Cannot find module ./rubric'); console.error('    at require'); process.exit(3)");
    const { run, json } = setup({ judges: [{ command: failingJudge }], runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const ended = await run('run', 'experiment.yaml');
    expect(ended.code).toBe(1);
    const shown = await run('show', 'exp-1', 'T0/a/1');
    expect(shown.code, shown.stderr).toBe(0);
    const out = shown.stdout;
    expect(out).toContain('run T0/a/1 of exp-1: errored · $0.0100 · 100 tokens');
    expect(out).toContain('  error: runJudges failed: judge 1 exited with 3: loading rubric | Error: Cannot find module ./rubric | at require\n');
    expect(out).toMatch(/\n {2}runJudges {12}failed +\d+ ms +judge 1 exited with 3/);
    expect(out).toMatch(/\n {2}runJudges #2 {9}failed +\d+ ms +judge 1 exited with 3/);
    expect(out).toContain('stderr of results/exp-1/T0/a/run-01/judge/judge-1.stderr.log (last 3 lines)\n  | loading rubric\n  | Error: Cannot find module ./rubric\n  |     at require\n');
    expect(out).toContain('agent     exit 0');
    expect(out).toContain('  judge 1 stderr   results/exp-1/T0/a/run-01/judge/judge-1.stderr.log\n');
    const detail = await json<{ outcome: string; attempt: number; steps: { effect: string; attempt: number; result: string }[]; stderr: { lines: string[] }[] }>('show', 'exp-1', 'T0/a/1');
    expect(detail.outcome).toBe('errored');
    expect(detail.steps.filter((s) => s.effect === 'runJudges').map((s) => [s.attempt, s.result])).toEqual([[1, 'failed'], [2, 'failed']]);
    expect(detail.steps.filter((s) => s.result === 'completed').map((s) => s.effect)).toEqual(['createRunDir', 'createWorktree', 'applyResources', 'commitResources', 'writePrompt', 'runAgent', 'commitChanges', 'captureDiff']);

    const logs = await run('logs', 'exp-1', 'T0/a/1', '--judge', '1', '--stderr');
    expect(logs.stdout).toBe('loading rubric\nError: Cannot find module ./rubric\n    at require\n');
    const agent = await run('logs', 'exp-1', 'T0/a/1');
    expect(agent.stdout).toContain('==> agent stdout: results/exp-1/T0/a/run-01/agent/stdout.log\n{"costUsd":0.01,"tokens":100}\n==> agent stderr: results/exp-1/T0/a/run-01/agent/stderr.log (empty)\n');
    const missing = await run('show', 'exp-1', 'T0/a/7');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: experiment exp-1 has no run T0/a/7\nhint: its runs: T0/a/1');
    const part = await run('show', 'exp-1', 'T0/a');
    expect(part.stdout).toContain('    a  subtest_failed · no verdict yet · 1 errored · $0.0100 · 100 tokens\n      run 1  errored (attempt 2): runJudges failed');
  }, 60_000);
});

describe('spending limits', () => {
  it('pauses before the run that would exceed limits.maxCostUsd, durably, and resumes once the limit is raised', async () => {
    // one agent at a time, each reporting $0.01: after two, a third would bring it to $0.03 > $0.025
    const judges = [{ command: node("console.log(JSON.stringify({ score: 1, passed: true }))") }];
    const { run, json } = setup({ judges, limits: { maxConcurrentRuns: 1, maxConcurrentAgents: 1, maxCostUsd: 0.025 }, runsPerSubtest: 2 });
    const paused = await run('run', 'experiment.yaml');
    expect(paused.code).toBe(1);
    expect(paused.stdout).toContain('experiment exp-1 paused by its spending limit: 2 passed, 0 not passed, 0 errored, 2 waiting; spent $0.0200, 200 tokens');
    expect(paused.stderr).toContain('error: experiment exp-1 paused: the next agent would take it past limits.maxCostUsd $0.0250 ($0.0200 spent, about $0.0100 per agent); no agent was started past it, 2 runs wait');
    expect(paused.stderr).toContain('hint: raise limits.maxCostUsd in the config and run it again, or `expctl resume exp-1 --max-cost-usd 0.05`');
    let s = await json<Status>('status', 'exp-1');
    expect(s.results).toMatchObject({ passed: 2, costUsd: 0.02 });
    expect(s.paused?.reason).toBe('budget reached: limits.maxCostUsd $0.0250 (spent $0.0200)');
    expect(s.runs).toMatchObject({ running: 0, completed: 2 });
    expect((await run('status', 'exp-1')).stdout).toContain('  paused: budget reached: limits.maxCostUsd $0.0250 (spent $0.0200); `expctl resume exp-1 --max-cost-usd 0.05` continues\n');
    // survives a new process: resuming with the same limit starts no agent
    const again = await run('resume', 'exp-1');
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('2 waiting; spent $0.0200');
    const raised = await run('resume', 'exp-1', '--max-cost-usd', '0.05');
    expect(raised.code, raised.stdout + raised.stderr).toBe(0);
    expect(raised.stdout).toContain('experiment exp-1 complete: 4 runs: 4 passed, 0 not passed, 0 errored (pass rate 100.0%); spent $0.0400, 400 tokens');
    s = await json<Status>('status', 'exp-1');
    expect(s.paused).toBeNull();
    const history = await json<{ type: string; data: Record<string, unknown> }[]>('history', 'exp-1');
    expect(history.filter((r) => r.type === 'operator.limits_changed').map((r) => r.data.limits)).toEqual([{ maxCostUsd: 0.05, maxTokens: null }]);
    expect(history.filter((r) => r.type === 'operator.paused').map((r) => (r.data.budget as { spent: number }).spent)).toEqual([0.02, 0.02]);
    expect((await run('resume', 'exp-1', '--max-cost-usd', 'lots')).stderr).toContain('--max-cost-usd "lots" is not a positive number');
  }, 60_000);
});

describe('watch: following an experiment driven from another terminal', () => {
  it('prints the counts as they change until the experiment completes; says so when no driver runs it', async () => {
    const slowAgent = node("setTimeout(() => console.log(JSON.stringify({ costUsd: 0.01, tokens: 100 })), 300)");
    const { run, results, dir } = setup({ agent: { command: slowAgent }, runsPerSubtest: 2 });
    const driving = startCli(['--results-dir', results, 'run', 'experiment.yaml'], { cwd: dir });
    await until(() => (existsSync(join(results, 'expctl.db')) ? true : undefined), 20_000, 'the log');
    const watched = await run('watch', 'exp-1', '--interval', '0.2');
    expect(watched.code, watched.stderr).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('experiment exp-1 complete; `expctl report exp-1` for the results');
    expect(lines.at(-2)).toMatch(/^\d\d:\d\d:\d\d exp-1 exp_complete: 4\/4 runs done, 0 running, 0 pending, 2\/4 passed$/);
    // it saw the experiment under way, not only its end
    expect(lines.some((l) => / [0-3]\/4 runs done/.test(l))).toBe(true);
    expect((await driving.result).code).toBe(0);

    const stopped = await run('run', 'experiment.yaml', '--fresh', '--until-run', 'run_agent_complete');
    expect(stopped.code, stopped.stderr).toBe(0);
    const idle = await run('watch', 'exp-1', '--interval', '0.1');
    expect(idle.stdout).toContain('no driver is running exp-1~2 (paused: stopped at --until-run run_agent_complete, 4 actors held); `expctl resume exp-1~2` continues it');
  }, 60_000);
});

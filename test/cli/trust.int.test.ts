/**
 * Results a user can trust (issue 8), each through the built CLI as a user
 * runs it, asserting what the user gets: the state of every run, values in
 * reports, exit codes and messages.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfigInput } from '../../schemas/config.js';
import { CLI, cli } from '../support/cli.js';
import { parseCounter, writeCountingExperiment } from '../support/cli-experiment.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

type Status = { experiment: string; state: string; runs: Record<string, number>; tiers: { id: string; state: string; subtests: { id: string; state: string; runs: { run: number; state: string }[] }[] }[] };
const runStates = (s: Status) => s.tiers.flatMap((t) => t.subtests.flatMap((sub) => sub.runs.map((r) => r.state)));
const node = (code: string) => ['node', '-e', code];
const judgeSays = (verdict: object) => [{ command: node(`console.log(${JSON.stringify(JSON.stringify(verdict))})`) }];

/** An experiment folder and its results dir, with the CLI run against them. */
function setup(overrides: Partial<ExperimentConfigInput> = {}, env: Record<string, string> = {}) {
  const dir = tempDir();
  const config = writeExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }], ...overrides });
  const results = join(dir, 'results');
  const run = (...args: string[]) => cli(['--results-dir', results, ...args], { env, cwd: dir });
  const json = async <T = Status>(...args: string[]) => JSON.parse((await run(...args, '--json')).stdout) as T;
  return { dir, config, results, run, json };
}

describe('run --fresh: a new generation that runs, reports and can be named', () => {
  it('judges every run of <id>~2, reports both generations, and takes <id>~1 for the first', async () => {
    const { run, json, results } = setup();
    expect((await run('run', 'experiment.yaml')).code).toBe(0);
    const fresh = await run('run', 'experiment.yaml', '--fresh');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain('experiment exp-1~2 complete: 2 runs: 2 passed, 0 not passed, 0 errored (pass rate 100.0%)');
    const second = await json('status', 'exp-1~2');
    expect(runStates(second)).toEqual(['run_worktree_cleaned', 'run_worktree_cleaned']);
    expect(JSON.parse(readFileSync(join(results, 'exp-1~2', 'T0', 'a', 'run-01', 'result.json'), 'utf8'))).toMatchObject({ experiment: 'exp-1~2', passed: true, score: 1 });
    const report = await json<{ experiment: string; tiers: { tier: string; passRate: number }[] }>('report', 'exp-1~2');
    expect(report).toMatchObject({ experiment: 'exp-1~2', tiers: [{ tier: 'T0', passRate: 1 }] });
    expect((await json<{ experiment: string }>('report', 'exp-1')).experiment).toBe('exp-1~2');
    const first = await run('status', 'exp-1~1', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ experiment: 'exp-1', state: 'exp_complete' });
  }, 60_000);
});

describe('what the results depend on is recorded when an experiment starts', () => {
  it('refuses to continue after the prompt or a resource file changed, on run and on resume, naming the file', async () => {
    const { dir, run, json } = setup({ tiers: [{ id: 'T0', subtests: [{ id: 'a', resources: { files: { 'HINT.md': './hint.md' } } }, { id: 'b' }] }] });
    const held = await run('run', 'experiment.yaml', '--until-run', 'run_config_committed');
    expect(held.code, held.stderr).toBe(0);
    writeFileSync(join(dir, 'prompt.md'), 'Do something else.\n');
    for (const args of [['run', 'experiment.yaml'], ['resume', 'exp-1']]) {
      const refused = await run(...args);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('task.prompt (the content of ./prompt.md changed)');
      expect(refused.stderr).toMatch(/^hint: restore those fields, files or variables/m);
    }
    writeFileSync(join(dir, 'prompt.md'), 'Do the task.\n');
    writeFileSync(join(dir, 'hint.md'), 'Another hint.\n');
    const resource = await run('resume', 'exp-1');
    expect(resource.code).toBe(1);
    expect(resource.stderr).toContain('tiers.T0.subtests[0].files.HINT.md (the content of ./hint.md changed)');
    writeFileSync(join(dir, 'hint.md'), 'A hint.\n');
    const resumed = await run('resume', 'exp-1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(runStates(await json('status', 'exp-1'))).toEqual(['run_worktree_cleaned', 'run_worktree_cleaned']);
  }, 60_000);
});

describe('the outcome of run: counts, the failed tiers, and an exit code CI can gate on', () => {
  it('exits 1 with counts and the cause when every run errored; the experiment itself completes', async () => {
    const { run, json } = setup({ judges: [{ command: node("console.error('Error: Cannot find module ./judge-lib'); console.error('    at Module._resolve'); console.error('Node.js v20'); process.exit(1)") }] });
    const result = await run('run', 'experiment.yaml');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('experiment exp-1 complete: 2 runs: 0 passed, 0 not passed, 2 errored (no run judged)');
    expect(result.stdout).toMatch(/tier T0 failed: no subtest completed; e\.g\. run T0\/\w\/1: runJudges failed: judge 1 exited with 1: Error: Cannot find module \.\/judge-lib \| at Module\._resolve \| Node\.js v20/);
    expect(result.stdout).toContain('run T0/a/1 errored in run_diff_captured: runJudges failed');
    expect(result.stderr).toContain('error: experiment exp-1 finished, but 2 of 2 runs errored and tier T0 failed');
    // results in ./results of the working directory: the commands need no --results-dir
    expect(result.stderr).toMatch(/^hint: see `expctl status exp-1`; `expctl resume exp-1` retries what errored/m);
    expect((await json('status', 'exp-1')).state).toBe('exp_complete');
  }, 60_000);

  it('exits 0 when runs were judged and did not pass (results, not errors), and 1 under --min-pass-rate', async () => {
    const { run } = setup({ judges: judgeSays({ score: 0.2, passed: false }) });
    const result = await run('run', 'experiment.yaml');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('2 runs: 0 passed, 2 not passed, 0 errored (pass rate 0.0%)');
    const gated = await run('resume', 'exp-1', '--min-pass-rate', '50%');
    expect(gated.code).toBe(1);
    expect(gated.stdout).toContain('is already complete; nothing to run');
    expect(gated.stderr).toContain('error: experiment exp-1: pass rate 0.0% (0 of 2 judged runs) is below --min-pass-rate 50.0%');
    const bad = await run('resume', 'exp-1', '--min-pass-rate', '1.5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--min-pass-rate "1.5" is not a pass rate');
  }, 60_000);

  it('with failFast, names the tier that failed and why', async () => {
    const { run } = setup({ failFast: true, judges: [{ command: node("console.error('judge crashed'); process.exit(3)") }] });
    const result = await run('run', 'experiment.yaml');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: experiment exp-1 failed: tier T0 failed \(no subtest completed; e\.g\. run T0\/\w\/1: runJudges failed: judge 1 exited with 3: judge crashed\); failFast is set/);
  }, 60_000);
});

describe('run --tiers: a subset first, then the rest', () => {
  const tiers = [{ id: 'T0', subtests: [{ id: 'a' }] }, { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a' }] }, { id: 'T2', subtests: [{ id: 'a' }] }];

  it('adds the other tiers to a complete experiment, one by one or all at once', async () => {
    const { run, json } = setup({ tiers });
    expect((await run('run', 'experiment.yaml', '--tiers', 'T0')).code).toBe(0);
    const one = await run('run', 'experiment.yaml', '--tiers', 'T1');
    expect(one.code, one.stderr).toBe(0);
    expect((await json('status', 'exp-1')).tiers.map((t) => [t.id, t.state])).toEqual([['T0', 'tier_complete'], ['T1', 'tier_complete']]);
    const rest = await run('run', 'experiment.yaml');
    expect(rest.code, rest.stderr).toBe(0);
    const status = await json('status', 'exp-1');
    expect(status.tiers.map((t) => [t.id, t.state])).toEqual([['T0', 'tier_complete'], ['T1', 'tier_complete'], ['T2', 'tier_complete']]);
    expect(status.runs).toMatchObject({ total: 3, completed: 3 });
    // a tier whose dependency is neither selected nor run is refused before anything runs
    const other = setup({ tiers });
    const refused = await other.run('run', 'experiment.yaml', '--tiers', 'T1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('tier T1 depends on T0, which is not selected and has not run in exp-1; select it too');
  }, 90_000);
});

describe('commands expctl prints are copy-paste correct', () => {
  it('names the results directory, and the printed command works as printed', async () => {
    const { dir } = setup();
    const results = join(dir, 'rd3');
    const held = await cli(['--results-dir', 'rd3', 'run', 'experiment.yaml', '--until-run', 'run_prompt_written'], { cwd: dir });
    const printed = /`(expctl --results-dir [^`]+ resume exp-1)`/.exec(held.stdout)?.[1];
    expect(printed, held.stdout).toBe(`expctl --results-dir ${results} resume exp-1`);
    const { spawnSync } = await import('node:child_process');
    const pasted = spawnSync('sh', ['-c', printed!.replace(/^expctl/, `node ${CLI}`)], { cwd: dir, encoding: 'utf8' });
    expect(pasted.status, pasted.stderr).toBe(0);
    expect(pasted.stdout).toContain('experiment exp-1 complete');
  }, 60_000);
});

describe('a closed output does not stop the experiment', () => {
  it('`expctl run … | head -1` keeps driving to the end and releases the lease', async () => {
    const { config, results, run, json } = setup();
    const { spawnSync } = await import('node:child_process');
    const piped = spawnSync('sh', ['-c', `node ${CLI} --results-dir ${results} run ${config} | head -1`], { encoding: 'utf8' });
    expect(piped.status).toBe(0);
    expect(piped.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    const status = await json<Status & { driver: unknown }>('status', 'exp-1');
    expect(status).toMatchObject({ state: 'exp_complete', driver: null });
    const history = await json<{ type: string }[]>('history', 'exp-1');
    expect(history.map((r) => r.type)).not.toContain('operator.interrupted');
    expect((await run('verify', 'exp-1')).code).toBe(0);
  }, 60_000);
});

describe('judges that print null for absent fields, and agents that mention rate limits', () => {
  it('accepts a verdict with null criteria, grade and reasoning', async () => {
    const { run, json } = setup({ judges: judgeSays({ score: 1, passed: true, grade: null, reasoning: null, criteria: null }) });
    const result = await run('run', 'experiment.yaml');
    expect(result.code, result.stderr).toBe(0);
    expect((await json('status', 'exp-1')).runs).toMatchObject({ completed: 2, failed: 0 });
  }, 60_000);

  it('a successful agent whose output says "rate limit" is not rate limited; one that always is gives up at the cap', async () => {
    const rateLimit = { exitCode: 75, outputPattern: 'rate limit', defaultWaitSeconds: 0.05, maxRetries: 2 };
    const prose = setup({ agent: { command: node("console.log('I read about the rate limit in the docs')"), rateLimit }, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const fine = await prose.run('run', 'experiment.yaml');
    expect(fine.code, fine.stderr).toBe(0);
    expect((await prose.json<{ type: string }[]>('history', 'exp-1')).filter((r) => r.type === 'effect.failed')).toHaveLength(0);

    const limited = setup({ agent: { command: node("console.log('429: rate limit'); process.exit(75)"), rateLimit }, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const started = Date.now();
    const gaveUp = await limited.run('run', 'experiment.yaml');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(gaveUp.code).toBe(1);
    expect(gaveUp.stdout).toContain('runAgent failed: agent rate limited (exit code 75) and not retried: still rate limited after 2 waits in a row (rateLimit.maxRetries is 2)');
  }, 60_000);
});

describe('spend counts every agent execution', () => {
  it('totals the cost of a rate-limited attempt and of a run that errored later, per run, tier and experiment', async () => {
    const dir = tempDir();
    // every agent costs $0.001 × its run number per execution and is rate limited once; the judge of T0/b fails
    const config = writeCountingExperiment(dir, {
      runsPerSubtest: 1,
      agent: { command: ['node', join(import.meta.dirname, 'fixtures', 'counting-agent.mjs'), '{prompt}'], rateLimit: { exitCode: 75, defaultWaitSeconds: 0.05 } },
      judges: [{ command: node("if (process.env.EXPCTL_SUBTEST === 'b') process.exit(1); console.log(JSON.stringify({ score: 1, passed: true }))") }],
      tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }],
    });
    const results = join(dir, 'results');
    const env = { COUNTER_FILE: join(dir, 'counter.log'), AGENT_SLEEP_MS: '5', RATE_LIMIT_ONCE_DIR: join(dir, 'limited'), RATE_LIMIT_WAIT: '0.05', RATE_LIMIT_COST: '0.0005' };
    const result = await cli(['--results-dir', results, 'run', config], { env });
    expect(result.code).toBe(1); // T0/b errored
    expect(parseCounter(readFileSync(join(dir, 'counter.log'), 'utf8')).filter((l) => l.what === 'limited')).toHaveLength(2);
    const run = JSON.parse(readFileSync(join(results, 'exp-1', 'T0', 'a', 'run-01', 'result.json'), 'utf8'));
    expect(run.agent.costUsd).toBe(0.001);
    expect(run.spend.costUsd).toBeCloseTo(0.0015, 10); // the rate-limited attempt's $0.0005 too
    const report = JSON.parse((await cli(['--results-dir', results, 'report', 'exp-1', '--json'])).stdout);
    // T0/b: completed no run, yet its agent's two executions cost $0.0015 as well
    expect(report.tiers[0].subtests.find((s: { subtest: string }) => s.subtest === 'b')).toMatchObject({ completedRuns: 0, failedRuns: 1 });
    expect(report.tiers[0].subtests.find((s: { subtest: string }) => s.subtest === 'b').totalCostUsd).toBeCloseTo(0.0015, 10);
    expect(report.tiers[0].totalCostUsd).toBeCloseTo(0.003, 10);
    expect(report.totalCostUsd).toBeCloseTo(0.003, 10);
    expect(result.stdout).toContain('spent $0.0030');
  }, 60_000);
});

describe('results folders that lost files', () => {
  it('report and import write the result files again from the log; a missing task repository is prepared again', async () => {
    const { run, results, dir, json } = setup();
    expect((await run('run', 'experiment.yaml')).code).toBe(0);
    const before = readFileSync(join(results, 'exp-1', 'report.md'), 'utf8');
    for (const file of ['report.md', 'result.json', 'summary.md', join('T0', 'result.json'), join('T0', 'a', 'run-01', 'result.json')]) rmSync(join(results, 'exp-1', file));
    const report = await run('report', 'exp-1');
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain('the result files of exp-1 were missing; written again from its log');
    expect(readFileSync(join(results, 'exp-1', 'report.md'), 'utf8')).toBe(before);
    expect(report.stdout).toBe(before);
    expect(existsSync(join(results, 'exp-1', 'T0', 'a', 'run-01', 'result.json'))).toBe(true);

    const exported = join(dir, 'exp-1.jsonl');
    expect((await run('export', 'exp-1', '--out', exported)).code).toBe(0);
    const elsewhere = join(dir, 'elsewhere');
    expect((await cli(['--results-dir', elsewhere, 'import', exported])).code).toBe(0);
    expect(readFileSync(join(elsewhere, 'exp-1', 'report.md'), 'utf8')).toBe(before);
    const imported = await cli(['--results-dir', elsewhere, 'report', 'exp-1', '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual(await json('report', 'exp-1'));

    const redo = await run('resume', 'exp-1', '--from-experiment', 'exp_tiers_complete');
    expect(redo.code, redo.stderr).toBe(0);
    rmSync(join(results, 'exp-1', 'repo'), { recursive: true });
    const again = await run('resume', 'exp-1', '--from-run', 'run_pending');
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(results, 'exp-1', 'repo', '.git'))).toBe(true);
    rmSync(join(results, 'exp-1', 'repo'), { recursive: true });
    rmSync(join(dir, 'task'), { recursive: true });
    const gone = await run('resume', 'exp-1', '--from-run', 'run_pending');
    expect(gone.code).toBe(1);
    expect(gone.stdout).toMatch(/createWorktree failed: the task repository \S+\/repo is missing, and preparing it again from \S+\/task failed: task repository \S+ does not exist/);
    expect(gone.stderr + gone.stdout).not.toMatch(/ENOENT|spawn git/);
  }, 90_000);
});

/**
 * The config reference of the README, field by field, through the built CLI:
 * each test writes a config using the fields as a user would and asserts
 * what the runs got and what the results say.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfigInput } from '../../schemas/config.js';
import { cli } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const node = (code: string) => ['node', '-e', code];
const passing = [{ command: node("console.log(JSON.stringify({ score: 1, passed: true }))") }];

function setup(overrides: Partial<ExperimentConfigInput>, prepare?: (dir: string) => void) {
  const dir = tempDir();
  prepare?.(dir);
  const config = writeExperiment(dir, { runsPerSubtest: 1, judges: passing, ...overrides });
  const results = join(dir, 'results');
  const run = (...args: string[]) => cli(['--results-dir', results, ...args], { cwd: dir });
  const result = (tier: string, subtest: string, n = 1) => JSON.parse(readFileSync(join(results, 'exp-1', tier, subtest, `run-0${n}`, 'result.json'), 'utf8'));
  const runDir = (tier: string, subtest: string, n = 1) => join(results, 'exp-1', tier, subtest, `run-0${n}`);
  return { dir, config, results, run, result, runDir };
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });

describe('task, tiers and subtests', () => {
  it('task.commit (a tag), task.thinking and a tier\'s thinking, maxSubtests and the default dependencies', async () => {
    const { run, result, runDir, results } = setup({
      task: { repo: './repo', commit: 'v1', prompt: './prompt.md', thinking: 'Think step by step.' },
      // the agent leaves the workspace as it found it; the judge passes when the workspace is at v1
      judges: [{ command: node("const v = require('fs').readFileSync('VERSION', 'utf8').trim(); console.log(JSON.stringify({ score: v === '1' ? 1 : 0, passed: v === '1' }))") }],
      tiers: [
        { id: 'T0', maxSubtests: 1, subtests: [{ id: 'a' }, { id: 'skipped' }] },
        { id: 'T5', thinking: 'Think harder.', subtests: [{ id: 'a' }] },
      ],
    }, (dir) => {
      const repo = join(dir, 'repo');
      mkdirSync(repo);
      git(repo, 'init', '-q', '-b', 'main');
      writeFileSync(join(repo, 'VERSION'), '1\n');
      git(repo, 'add', '-A');
      git(repo, 'commit', '-qm', 'one');
      git(repo, 'tag', 'v1');
      writeFileSync(join(repo, 'VERSION'), '2\n');
      git(repo, 'commit', '-qam', 'two');
    });
    const out = await run('run', 'experiment.yaml');
    expect(out.code, out.stderr).toBe(0);
    expect(result('T0', 'a')).toMatchObject({ passed: true });
    expect(existsSync(join(results, 'exp-1', 'T0', 'skipped'))).toBe(false);
    expect(readFileSync(join(runDir('T0', 'a'), 'prompt.md'), 'utf8')).toBe('Do the task.\n\nThink step by step.\n');
    expect(readFileSync(join(runDir('T5', 'a'), 'prompt.md'), 'utf8')).toBe('Do the task.\n\nThink harder.\n');
    // T5 depends on T0–T4 by default: it starts after T0 completed
    const history = JSON.parse((await run('history', 'exp-1', '--json')).stdout) as { stream: string; state: string; seq: number }[];
    const t0Done = history.find((r) => r.stream === 'exp-1/T0' && r.state === 'tier_complete')!.seq;
    const t5Created = history.find((r) => r.stream === 'exp-1/T5')!.seq;
    expect(t5Created).toBeGreaterThan(t0Done);
  }, 60_000);
});

describe('the agent', () => {
  it('reports tokens as input + output and its cost; a stated retryAfterSeconds is the wait', async () => {
    const agent = "const fs = require('fs'); if (!fs.existsSync('../limited')) { fs.writeFileSync('../limited', ''); console.log(JSON.stringify({ retryAfterSeconds: 0.3 })); process.exit(75); } console.log(JSON.stringify({ tokens: { input: 10, output: 5 }, costUsd: 0.25 }))";
    const { run, result } = setup({ agent: { command: node(agent), rateLimit: { exitCode: 75, defaultWaitSeconds: 600 } }, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const started = Date.now();
    const out = await run('run', 'experiment.yaml');
    expect(out.code, out.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000); // not the 600 s default
    expect(result('T0', 'a').agent).toMatchObject({ tokens: 15, costUsd: 0.25, exitCode: 0, timedOut: false });
  }, 60_000);

  it('is stopped after agent.timeoutSeconds, recorded as timed out, and still judged', async () => {
    const { run, result } = setup({ agent: { command: node('setTimeout(() => {}, 30000)'), timeoutSeconds: 0.5 }, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const started = Date.now();
    const out = await run('run', 'experiment.yaml');
    expect(out.code, out.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result('T0', 'a').agent).toMatchObject({ timedOut: true, exitCode: null });
    expect(result('T0', 'a').passed).toBe(true);
  }, 60_000);

  it('gets its env, and the EXPCTL_* variables', async () => {
    const agent = "const e = process.env; require('fs').writeFileSync('../env.json', JSON.stringify({ MODE: e.MODE, exp: e.EXPCTL_EXPERIMENT, tier: e.EXPCTL_TIER, subtest: e.EXPCTL_SUBTEST, run: e.EXPCTL_RUN, prompt: require('fs').readFileSync(e.EXPCTL_PROMPT_FILE, 'utf8') }))";
    const { run, runDir } = setup({ agent: { command: node(agent), env: { MODE: 'strict' } }, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    expect((await run('run', 'experiment.yaml')).code).toBe(0);
    expect(JSON.parse(readFileSync(join(runDir('T0', 'a'), 'env.json'), 'utf8'))).toEqual({ MODE: 'strict', exp: 'exp-1', tier: 'T0', subtest: 'a', run: '1', prompt: 'Do the task.\n' });
  }, 60_000);
});

describe('judges, retries and workspaces', () => {
  it('a judge over judges[].timeoutSeconds is retried up to retries.maxAttempts, then the run errors saying why', async () => {
    const { run } = setup({ judges: [{ command: node('setTimeout(() => {}, 30000)'), timeoutSeconds: 0.3 }], retries: { maxAttempts: 2, backoffSeconds: 0 }, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const out = await run('run', 'experiment.yaml');
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('run T0/a/1 errored in run_diff_captured: runJudges failed: judge 1 timed out after 0.3 s');
    const history = JSON.parse((await run('history', 'exp-1', '--type', 'effect.failed', '--json')).stdout) as { data: { effect: string; attempt: number } }[];
    expect(history.map((r) => [r.data.effect, r.data.attempt])).toEqual([['runJudges', 1], ['runJudges', 2]]);
  }, 60_000);

  it('keepFailedWorkspaces keeps the workspace of a run that did not pass and removes a passed one\'s; false removes both', async () => {
    const judge = [{ command: node("console.log(JSON.stringify({ score: 0, passed: process.env.EXPCTL_SUBTEST === 'good' }))") }];
    const tiers = [{ id: 'T0', subtests: [{ id: 'good' }, { id: 'bad' }] }];
    const kept = setup({ judges: judge, tiers });
    expect((await kept.run('run', 'experiment.yaml')).code).toBe(0);
    expect(existsSync(join(kept.runDir('T0', 'good'), 'workspace'))).toBe(false);
    expect(existsSync(join(kept.runDir('T0', 'bad'), 'workspace', 'README.md'))).toBe(true);
    const removed = setup({ judges: judge, tiers, keepFailedWorkspaces: false });
    expect((await removed.run('run', 'experiment.yaml')).code).toBe(0);
    expect(existsSync(join(removed.runDir('T0', 'bad'), 'workspace'))).toBe(false);
  }, 60_000);
});

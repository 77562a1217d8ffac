/**
 * Early stops and re-execution that do what they say (issue 8): every state
 * `--until-*` accepts is a stop, actors at or past it do not move, and
 * `--from-*` sends back only actors at or past its state.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { parseCounter, writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const tiers = [
  { id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] },
  { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a' }] },
];

type Status = { state: string; tiers: { id: string; state: string; subtests: { id: string; state: string; runs: { state: string }[] }[] }[] };
const runStates = (s: Status) => s.tiers.flatMap((t) => t.subtests.flatMap((sub) => sub.runs.map((r) => r.state)));

function setup() {
  const dir = tempDir();
  const config = writeCountingExperiment(dir, { runsPerSubtest: 1, tiers });
  const results = join(dir, 'results');
  const env = { COUNTER_FILE: join(dir, 'counter.log'), AGENT_SLEEP_MS: '5' };
  const run = (...args: string[]) => cli(['--results-dir', results, ...args], { env });
  const json = async <T = Status>(...args: string[]) => JSON.parse((await run(...args, '--json')).stdout) as T;
  const agents = () => { try { return parseCounter(readFileSync(join(dir, 'counter.log'), 'utf8')).filter((l) => l.who === 'agent' && l.what === 'start').length; } catch { return 0; } };
  return { config, run, json, agents };
}

describe('--until at a waiting state stops there', () => {
  it('--until-experiment exp_tiers_running creates no tier; --until-tier tier_subtests_running starts no run', async () => {
    const first = setup();
    const held = await first.run('run', first.config, '--until-experiment', 'exp_tiers_running');
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toContain('stopped as requested (1 actor(s) wait at the --until state)');
    const status = await first.json('status', 'exp-1');
    expect(status.state).toBe('exp_tiers_running');
    expect(status.tiers.map((t) => t.state)).toEqual(['not_started', 'not_started']);
    expect(first.agents()).toBe(0);
    expect((await first.run('resume', 'exp-1')).code).toBe(0);
    expect(first.agents()).toBe(3);

    const second = setup();
    const tierHeld = await second.run('run', second.config, '--until-tier', 'tier_subtests_running');
    expect(tierHeld.code, tierHeld.stderr).toBe(0);
    const tierStatus = await second.json('status', 'exp-1');
    expect(tierStatus.tiers.map((t) => t.state)).toEqual(['tier_subtests_running', 'not_started']);
    expect(tierStatus.tiers[0]!.subtests.map((s) => s.state)).toEqual(['subtest_pending', 'subtest_pending']);
    expect(second.agents()).toBe(0);
  }, 60_000);

  it('refuses a state nothing can be stopped at, listing the ones it can', async () => {
    const { run, config } = setup();
    const bad = await run('run', config, '--until-run', 'run_failed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --until-run: "run_failed" is not a state runs can be stopped at');
    expect(bad.stderr).toMatch(/^hint: valid states: run_pending, run_dir_created, .*run_rate_limited, run_worktree_cleaned$/m);
  });
});

describe('--until does not move actors already at or past it', () => {
  it('runs held at run_agent_complete stay there under --until-run run_prompt_written; nothing after them starts', async () => {
    const { run, json, config, agents } = setup();
    expect((await run('run', config, '--until-run', 'run_agent_complete')).code).toBe(0);
    expect(runStates(await json('status', 'exp-1'))).toEqual(['run_agent_complete', 'run_agent_complete']);
    const before = (await json<unknown[]>('history', 'exp-1')).length;
    const again = await run('resume', 'exp-1', '--until-run', 'run_prompt_written');
    expect(again.code, again.stderr).toBe(0);
    const status = await json('status', 'exp-1');
    expect(runStates(status)).toEqual(['run_agent_complete', 'run_agent_complete']);
    expect(status.tiers[1]!.state).toBe('not_started');
    const rows = (await json<{ type: string }[]>('history', 'exp-1')).slice(before).map((r) => r.type);
    expect(rows.filter((t) => !t.startsWith('operator.') && t !== 'lease.taken_over')).toEqual([]);
    expect(agents()).toBe(2);
  }, 60_000);
});

describe('--from sends back only the actors at or past its state', () => {
  it('runs still before run_agent_complete are not pushed forward: they run their agent and finish normally', async () => {
    const { run, json, config, agents } = setup();
    expect((await run('run', config, '--until-run', 'run_prompt_written')).code).toBe(0);
    expect(agents()).toBe(0);
    const from = await run('resume', 'exp-1', '--from-run', 'run_agent_complete');
    expect(from.code, from.stderr).toBe(0);
    expect(from.stderr).not.toMatch(/Cannot read properties|internal error/);
    expect(from.stdout).not.toContain('re-executed');
    expect(from.stdout).toMatch(/complete: 3 runs: \d passed, \d not passed, 0 errored/);
    expect(runStates(await json('status', 'exp-1'))).toEqual(['run_worktree_cleaned', 'run_worktree_cleaned', 'run_worktree_cleaned']);
    expect(agents()).toBe(3);
  }, 60_000);
});

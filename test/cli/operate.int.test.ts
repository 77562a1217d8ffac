import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { parseCounter, writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const tiers = [
  { id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] },
  { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a', resources: { inheritBaseline: true } }] },
];

/** A counting experiment and a results dir; every command through the built CLI. */
function setup() {
  const dir = tempDir();
  const config = writeCountingExperiment(dir, { runsPerSubtest: 2, tiers });
  const results = join(dir, 'results');
  const counterFile = join(dir, 'counter.log');
  const env = { COUNTER_FILE: counterFile, AGENT_SLEEP_MS: '10' };
  const run = (...args: string[]) => cli(['--results-dir', results, ...args], { env });
  const json = async (...args: string[]) => JSON.parse((await run(...args, '--json')).stdout);
  const counter = () => parseCounter(readFileSync(counterFile, 'utf8'));
  return { dir, config, results, run, json, counter };
}

type Row = { seq: number; stream: string; type: string; state: unknown; data: Record<string, unknown>; cause: string; hash: string };
const runStates = (status: { tiers: { subtests: { runs: { state: string }[] }[] }[] }) => status.tiers.flatMap((t) => t.subtests.flatMap((s) => s.runs.map((r) => r.state)));

describe('early stops: --until-* (docs/design.md §2.6)', () => {
  it('stops every run at the named state (inclusive), records the stop, fails nothing; resume without it completes', async () => {
    const { config, run, json, counter } = setup();
    const stopped = await run('run', config, '--until-run', 'run_agent_complete', '--reason', 'check the agents first');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('stopped as requested');
    const status = await json('status', 'exp-1');
    expect(status.state).toBe('exp_tiers_running');
    expect(new Set(runStates(status).filter((s) => s !== 'not_started'))).toEqual(new Set(['run_agent_complete']));
    expect(status.runs.failed).toBe(0);
    expect(counter().filter((l) => l.who === 'judge')).toEqual([]);
    const history: Row[] = await json('history', 'exp-1');
    expect(history.at(-1)).toMatchObject({ type: 'operator.paused', cause: 'operator', data: { until: { run: 'run_agent_complete' }, held: 4, operator: { reason: 'check the agents first' } } });

    const resumed = await run('resume', 'exp-1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await json('status', 'exp-1')).state).toBe('exp_complete');
    expect(counter().filter((l) => l.who === 'agent' && l.what === 'start')).toHaveLength(6);
  }, 60_000);

  it('stops the experiment or the tiers at their named states', async () => {
    const { config, run, json } = setup();
    expect((await run('run', config, '--until-experiment', 'exp_repo_cloned')).code).toBe(0);
    const atRepo = await json('status', 'exp-1');
    expect(atRepo).toMatchObject({ state: 'exp_repo_cloned', tiers: [{ state: 'not_started' }, { state: 'not_started' }] });
    expect((await run('run', config, '--until-tier', 'tier_config_loaded')).code).toBe(0);
    const atConfig = await json('status', 'exp-1');
    expect(atConfig.tiers.map((t: { state: string; subtests: unknown[] }) => [t.state, t.subtests.length])).toEqual([['tier_config_loaded', 2], ['not_started', 0]]);
    expect((await run('run', config)).code).toBe(0);
    expect((await json('status', 'exp-1')).state).toBe('exp_complete');
  }, 60_000);

  it('refuses an unknown state name with exit 2, listing the valid ones', async () => {
    const { config, run } = setup();
    const bad = await run('run', config, '--until-tier', 'tier_done');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --until-tier: "tier_done" is not a state tiers can be stopped at');
    expect(bad.stderr).toContain('hint: valid states: tier_pending, tier_config_loaded');
  });
});

describe('re-execution: --from-* with filters', () => {
  it('re-judges only the selected runs; earlier history stays; parents go back and forward again', async () => {
    const { config, run, json, counter } = setup();
    expect((await run('run', config)).code).toBe(0);
    const before: Row[] = await json('history', 'exp-1');
    const judgesBefore = counter().filter((l) => l.who === 'judge' && l.what === 'start').length;

    const dry = await run('run', config, '--from-run', 'run_diff_captured', '--filter-tier', 'T0', '--filter-subtest', 'a', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('T0/a/1 → run_diff_captured (selected)');
    expect(dry.stdout).toContain('T0 → tier_subtests_running (a child is redone)');
    expect(await json('history', 'exp-1')).toEqual(before);

    const redo = await run('run', config, '--from-run', 'run_diff_captured', '--filter-tier', 'T0', '--filter-subtest', 'a', '--reason', 'new judge');
    expect(redo.code, redo.stderr).toBe(0);
    const after: Row[] = await json('history', 'exp-1');
    expect(after.slice(0, before.length)).toEqual(before);
    const resets = after.slice(before.length).filter((r) => r.type === 'operator.reset');
    expect(resets.map((r) => `${r.stream}→${r.data.to}`).sort()).toEqual(['exp-1→exp_tiers_running', 'exp-1/T0/a/1→run_diff_captured', 'exp-1/T0/a/2→run_diff_captured', 'exp-1/T0/a→subtest_runs_in_progress', 'exp-1/T0→tier_subtests_running'].sort());
    expect(resets.every((r) => (r.data.operator as { reason: string }).reason === 'new judge')).toBe(true);
    const rejudged = counter().filter((l) => l.who === 'judge' && l.what === 'start').slice(judgesBefore).map((l) => l.run).sort();
    expect(rejudged).toEqual(['T0/a/1', 'T0/a/2']);
    expect(counter().filter((l) => l.who === 'agent' && l.what === 'start')).toHaveLength(6);
    expect((await json('status', 'exp-1')).state).toBe('exp_complete');
    expect((await run('verify', 'exp-1')).code).toBe(0);
  }, 60_000);

  it('--filter-status failed re-runs the agents of the runs that did not pass', async () => {
    const { config, run, json, counter } = setup();
    expect((await run('run', config)).code).toBe(0);
    const agentsBefore = counter().filter((l) => l.who === 'agent' && l.what === 'start').length;
    expect((await run('run', config, '--from-run', 'run_prompt_written', '--filter-status', 'failed')).code).toBe(0);
    // the counting judge passes even runs and fails odd ones
    expect(counter().filter((l) => l.who === 'agent' && l.what === 'start').slice(agentsBefore).map((l) => l.run).sort()).toEqual(['T0/a/1', 'T0/b/1', 'T1/a/1']);
    expect((await json('status', 'exp-1')).runs).toMatchObject({ completed: 6, failed: 0 });
  }, 60_000);

  it('a tier sent back before its fan-out starts its subtests and runs over', async () => {
    const { config, run, json, counter } = setup();
    expect((await run('run', config)).code).toBe(0);
    expect((await run('run', config, '--from-tier', 'tier_pending', '--filter-tier', 'T1')).code).toBe(0);
    expect(counter().filter((l) => l.who === 'agent' && l.what === 'start').map((l) => l.run).filter((r) => r.startsWith('T1')).sort()).toEqual(['T1/a/1', 'T1/a/1', 'T1/a/2', 'T1/a/2']);
    expect((await json('status', 'exp-1')).state).toBe('exp_complete');
  }, 60_000);
});

describe('fork and time travel', () => {
  it('forks from a row: the source is untouched, the fork verifies and completes on its own', async () => {
    const { config, run, json } = setup();
    expect((await run('run', config)).code).toBe(0);
    const source = (await run('export', 'exp-1')).stdout;
    const history: Row[] = await json('history', 'exp-1');
    const at = history.find((r) => r.stream === 'exp-1/T0/a/1' && r.state === 'run_agent_complete')!.seq;
    const fork = await run('fork', 'exp-1', '--at', String(at), '--id', 'exp-1-b', '--reason', 'branch');
    expect(fork.code, fork.stderr).toBe(0);
    expect((await run('export', 'exp-1')).stdout).toBe(source);
    const forked: Row[] = await json('history', 'exp-1-b');
    const prefix = history.filter((r) => r.seq <= at);
    expect(forked.slice(0, prefix.length).map((r) => [r.stream.replace('exp-1-b', 'exp-1'), r.type, r.state])).toEqual(prefix.map((r) => [r.stream, r.type, r.state]));
    expect(forked[prefix.length]).toMatchObject({ stream: 'exp-1-b', type: 'experiment.forked', data: { from: { experiment: 'exp-1', seq: at }, operator: { reason: 'branch' } } });
    expect((await run('verify', 'exp-1-b')).code).toBe(0);
    const resumed = await run('resume', 'exp-1-b');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await json('status', 'exp-1-b')).state).toBe('exp_complete');
    expect((await run('fork', 'exp-1', '--at', '999999')).code).toBe(2);
    expect((await run('fork', 'exp-1', '--at', String(at), '--id', 'exp-1-b')).code).toBe(1);
  }, 60_000);

  it('history --at shows the tree as of a row; filters select rows; diff names what changed', async () => {
    const { config, run, json } = setup();
    expect((await run('run', config)).code).toBe(0);
    const history: Row[] = await json('history', 'exp-1');
    const at = history.find((r) => r.stream === 'exp-1/T0' && r.state === 'tier_subtests_running')!.seq;
    const past = await json('history', 'exp-1', '--at', String(at));
    expect(past).toMatchObject({ experiment: 'exp-1', state: 'exp_tiers_running', lastSeq: at, driver: null, tiers: [{ id: 'T0', state: 'tier_subtests_running' }, { id: 'T1', state: 'not_started' }] });

    const effects: Row[] = await json('history', 'exp-1', '--stream', 'T0/a', '--type', 'effect.*', '--limit', '3');
    expect(effects).toHaveLength(3);
    expect(effects.every((r) => r.stream.startsWith('exp-1/T0/a') && r.type.startsWith('effect.'))).toBe(true);
    expect(effects.at(-1)!.seq).toBe(history.filter((r) => r.stream.startsWith('exp-1/T0/a') && r.type.startsWith('effect.')).at(-1)!.seq);
    expect(await json('history', 'exp-1', '--since', '2999-01-01')).toEqual([]);

    const diff = await json('diff', 'exp-1', String(at), String(history.at(-1)!.seq));
    const t0 = diff.find((d: { stream: string }) => d.stream === 'exp-1/T0');
    expect(t0).toMatchObject({ before: 'tier_subtests_running', after: 'tier_complete' });
    expect(t0.changes.map((c: { path: string }) => c.path)).toContain('best');
    expect(diff.find((d: { stream: string }) => d.stream === 'exp-1/T1')).toMatchObject({ before: null, after: 'tier_complete' });
  }, 60_000);

  it('export then import into another results dir gives an identical status', async () => {
    const { config, run, json, dir } = setup();
    expect((await run('run', config)).code).toBe(0);
    const file = join(dir, 'exp-1.jsonl');
    expect((await run('export', 'exp-1', '--format', 'jsonl', '--out', file)).code).toBe(0);
    const other = join(dir, 'other');
    const imported = await cli(['--results-dir', other, 'import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    const there = JSON.parse((await cli(['--results-dir', other, 'status', 'exp-1', '--json'])).stdout);
    const { lastSeq: _a, ...here } = await json('status', 'exp-1');
    const { lastSeq: _b, ...copy } = there;
    expect(copy).toEqual(here);
    expect((await cli(['--results-dir', other, 'verify', 'exp-1'])).code).toBe(0);
  }, 60_000);
});

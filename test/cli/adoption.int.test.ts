/**
 * Commands outlive the driver and are collected on resume (docs/design.md §4,
 * the executor), through the built CLI: what a user sees after a kill -9, a
 * closed terminal, a timeout with no driver, a reused pid, a driver that died
 * in another PID namespace.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processStartTicks } from '../../util/procfs.js';
import { CLI, cli, isAlive, startCli, until } from '../support/cli.js';
import { parseCounter, writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const one = { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] };

function setup(overrides: Record<string, unknown> = {}, sleepMs = '2500') {
  const dir = tempDir();
  const config = writeCountingExperiment(dir, { ...one, ...overrides });
  const results = join(dir, 'results');
  const counter = join(dir, 'counter.log');
  const env = { COUNTER_FILE: counter, AGENT_SLEEP_MS: sleepMs };
  const lines = () => (existsSync(counter) ? parseCounter(readFileSync(counter, 'utf8')) : []);
  const agentStarted = () => until(() => lines().find((l) => l.who === 'agent' && l.what === 'start'), 20_000, 'the agent to start');
  const run = (...args: string[]) => cli(['--results-dir', results, ...args], { env });
  const history = async () => JSON.parse((await run('history', 'exp-1', '--json')).stdout) as { type: string; stream: string; data: Record<string, unknown> }[];
  return { dir, config, results, counter, env, lines, agentStarted, run, history };
}

describe('a driver that dies leaves its commands running, and the next one collects them', () => {
  it('after kill -9 the agent goes on; resume waits for it instead of running it again, and says so in the history', async () => {
    const s = setup();
    const driver = startCli(['--results-dir', s.results, 'run', s.config], { env: s.env });
    const agent = await s.agentStarted();
    driver.kill('SIGKILL');
    await driver.result;
    expect(isAlive(agent.pid), 'the agent outlives its driver').toBe(true);
    const resumed = await s.run('resume', 'exp-1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(s.lines().filter((l) => l.who === 'agent').map((l) => l.what)).toEqual(['start', 'end']);
    const adopted = (await s.history()).filter((r) => r.type === 'effect.adopted');
    expect(adopted).toMatchObject([{ stream: 'exp-1/T0/a/1', data: { effect: 'runAgent', command: 'agent', state: 'running' } }]);
    const result = JSON.parse(readFileSync(join(s.results, 'exp-1', 'T0', 'a', 'run-01', 'result.json'), 'utf8'));
    expect(result).toMatchObject({ passed: false, score: 0.5, agent: { exitCode: 0, tokens: 101 } });
    const shown = await s.run('show', 'exp-1', 'T0/a/1');
    expect(shown.stdout).toMatch(/runAgent\s+completed .*\(collected after a driver change: still running\)/);
    // the executor host leaves once no command runs and no driver is connected, and takes its file along
    const hosts = join(s.results, 'exp-1', '.executor-hosts');
    await until(() => (readdirSync(hosts).length === 0 ? true : undefined), 10_000, 'the executor host to leave');
  }, 60_000);

  it('an agent that finished while no driver ran is taken from its recorded outcome: not run again', async () => {
    const s = setup({}, '600');
    const driver = startCli(['--results-dir', s.results, 'run', s.config], { env: s.env });
    await s.agentStarted();
    driver.kill('SIGKILL');
    await driver.result;
    await until(() => s.lines().find((l) => l.who === 'agent' && l.what === 'end'), 20_000, 'the agent to end');
    await until(() => (existsSync(join(s.results, 'exp-1', 'T0', 'a', 'run-01', 'agent', 'command.outcome.json')) ? true : undefined), 20_000, 'its outcome');
    const resumed = await s.run('resume', 'exp-1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(s.lines().filter((l) => l.who === 'agent').map((l) => l.what)).toEqual(['start', 'end']);
    expect((await s.history()).filter((r) => r.type === 'effect.adopted').map((r) => r.data.state)).toEqual(['finished']);
  }, 60_000);

  it('SIGHUP (a closed terminal) stops only the driver: exit 129, the agent carries on, resume collects it', async () => {
    const s = setup();
    const driver = startCli(['--results-dir', s.results, 'run', s.config], { env: s.env });
    const agent = await s.agentStarted();
    driver.kill('SIGHUP');
    const ended = await driver.result;
    expect(ended.code).toBe(129);
    expect(ended.stderr).toContain('SIGHUP: the driver stops; running commands carry on, and `expctl resume` collects them');
    expect(isAlive(agent.pid)).toBe(true);
    expect((await s.run('resume', 'exp-1')).code).toBe(0);
    expect(s.lines().filter((l) => l.who === 'agent' && l.what === 'start')).toHaveLength(1);
  }, 60_000);

  it('a command past its timeout is stopped by its supervisor with no driver alive; the resumed driver reports timedOut from the recorded outcome', async () => {
    const s = setup({ agent: { command: ['node', join(import.meta.dirname, 'fixtures', 'counting-agent.mjs'), '{prompt}'], timeoutSeconds: 1 } }, '30000');
    const driver = startCli(['--results-dir', s.results, 'run', s.config], { env: s.env });
    const agent = await s.agentStarted();
    driver.kill('SIGKILL');
    await driver.result;
    // the supervisor stops the whole group at the timeout (+ the 2 s grace at most), with nobody else watching
    await until(() => (isAlive(agent.pid) ? undefined : true), 10_000, 'the agent to be stopped');
    const file = join(s.results, 'exp-1', 'T0', 'a', 'run-01', 'agent', 'command.outcome.json');
    await until(() => (existsSync(file) ? true : undefined), 10_000, 'the supervisor to write the outcome');
    const outcome = JSON.parse(readFileSync(file, 'utf8'));
    expect(outcome).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(1000);
    expect(outcome.durationMs).toBeLessThan(5000);
    expect((await s.run('resume', 'exp-1')).code).toBe(0);
    const result = JSON.parse(readFileSync(join(s.results, 'exp-1', 'T0', 'a', 'run-01', 'result.json'), 'utf8'));
    expect(result.agent).toMatchObject({ timedOut: true, exitCode: null });
    expect(s.lines().filter((l) => l.who === 'agent' && l.what === 'start')).toHaveLength(1);
  }, 60_000);

  it('a live unrelated process with the recorded pid (another start time) is never adopted or killed; the command is run again', async () => {
    const s = setup();
    const driver = startCli(['--results-dir', s.results, 'run', s.config], { env: s.env });
    const agent = await s.agentStarted();
    driver.kill('SIGKILL');
    await driver.result;
    // the machine loses the supervisor and its agent (but not their files) ...
    const record = join(s.results, 'exp-1', 'T0', 'a', 'run-01', 'agent', 'command.record.json');
    const recorded = JSON.parse(readFileSync(record, 'utf8'));
    process.kill(recorded.supervisor.pid, 'SIGKILL');
    process.kill(-agent.pid, 'SIGKILL');
    await until(() => (isAlive(agent.pid) || isAlive(recorded.supervisor.pid) ? undefined : true), 10_000, 'both to be gone');
    // ... and their pids now belong to someone else
    const stranger = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    writeFileSync(record, JSON.stringify({ ...recorded, supervisor: { pid: stranger.pid, startTicks: 1 }, command: { pid: stranger.pid, pgid: stranger.pid, startTicks: 1 } }));
    try {
      const resumed = await s.run('resume', 'exp-1');
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(isAlive(stranger.pid!), 'the unrelated process was not killed').toBe(true);
      expect(processStartTicks(stranger.pid!)).not.toBe(1);
      expect(s.lines().filter((l) => l.who === 'agent').map((l) => l.what)).toEqual(['start', 'start', 'end']);
      expect((await s.history()).filter((r) => r.type === 'effect.adopted')).toEqual([]);
    } finally {
      stranger.kill('SIGKILL');
    }
  }, 60_000);
});

const canUnshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

describe('a driver in another PID namespace', () => {
  it('that died with its namespace is taken over at once (its pid means nothing here), not after the heartbeat timeout', async () => {
    expect(canUnshare, 'this test runs a driver in its own PID namespace with `unshare --pid --fork --mount-proc` (util-linux), which needs root').toBe(true);
    const s = setup();
    // inside the namespace the driver is pid 1 or 2: here, such a pid is alive (init), so only its namespace tells
    const inside = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', process.execPath, CLI, '--results-dir', s.results, 'run', s.config], { env: { ...process.env, ...s.env, NO_COLOR: '1' }, stdio: 'ignore' });
    await s.agentStarted();
    const lease = JSON.parse((await s.run('status', 'exp-1', '--json')).stdout).driver;
    expect(lease.pid).toBeLessThan(10);
    inside.kill('SIGKILL');
    await new Promise((r) => inside.once('exit', r));
    const started = Date.now();
    const resumed = await s.run('resume', 'exp-1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(Date.now() - started, 'taken over at once').toBeLessThan(30_000);
    const takeover = (await s.history()).find((r) => r.type === 'lease.taken_over');
    expect(takeover?.data).toMatchObject({ previous: { pid: lease.pid } });
    // the namespace's commands died with it: the agent ran again, once
    const runRows = (await s.history()).filter((r) => r.stream === 'exp-1/T0/a/1').map((r) => [r.type, r.data]);
    expect(s.lines().filter((l) => l.who === 'agent' && l.what === 'end'), JSON.stringify({ lines: s.lines(), runRows })).toHaveLength(1);
  }, 90_000);
});

import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, startCli, until } from '../support/cli.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

describe('one driver per experiment through the CLI (I7)', () => {
  it('refuses a second run while the first is alive, naming it; takes over after kill -9 of the first', async () => {
    const dir = tempDir();
    const config = writeCountingExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const resultsDir = join(dir, 'results');
    const counter = join(dir, 'counter.log');
    const env = { COUNTER_FILE: counter, AGENT_SLEEP_MS: '5000' };
    const first = startCli(['--results-dir', resultsDir, 'run', config], { env });
    await until(() => (existsSync(counter) && readFileSync(counter, 'utf8').includes('agent start') ? true : undefined), 20_000, 'the agent to start');

    const second = await cli(['--results-dir', resultsDir, 'run', config], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`error: experiment exp-1 is being driven by pid ${first.pid} on host ${hostname()}`);
    expect(second.stderr).toContain('hint: wait for it, or stop it');

    first.kill('SIGKILL');
    await first.result;
    const third = await cli(['--results-dir', resultsDir, 'run', config], { env: { ...env, AGENT_SLEEP_MS: '10' } });
    expect(third.code, third.stderr).toBe(0);
    const history = JSON.parse((await cli(['--results-dir', resultsDir, 'history', 'exp-1', '--json'])).stdout);
    expect(history.find((r: { type: string }) => r.type === 'lease.taken_over')).toMatchObject({ stream: 'exp-1', cause: 'operator', data: { previous: { pid: first.pid, host: hostname() } } });
  }, 60_000);
});

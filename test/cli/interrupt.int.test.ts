import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, isAlive, startCli, until } from '../support/cli.js';
import { parseCounter, writeCountingExperiment } from '../support/cli-experiment.js';
import { sample } from '../support/prometheus.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const small = { runsPerSubtest: 2, tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }] };

function results(dir: string): unknown {
  const out = JSON.parse(readFileSync(join(dir, 'exp-1', 'result.json'), 'utf8'));
  return out.tiers.map((t: { subtests: { subtest: string; passRate: number; score: unknown; totalTokens: unknown }[] }) => t.subtests.map((s) => [s.subtest, s.passRate, s.score, s.totalTokens]));
}

describe('SIGINT and SIGTERM through the CLI (docs/design.md §2.6)', () => {
  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s during agents stops their process groups, records exp_interrupted, exits %i; resume completes with the same results', async (signal, code) => {
    const dir = tempDir();
    const config = writeCountingExperiment(dir, small);
    const counter = join(dir, 'counter.log');
    const env = { COUNTER_FILE: counter, AGENT_SLEEP_MS: '3000' };
    const baseline = await cli(['--results-dir', join(dir, 'baseline'), 'run', config], { env: { ...env, COUNTER_FILE: join(dir, 'baseline.log'), AGENT_SLEEP_MS: '10' } });
    expect(baseline.code, baseline.stderr).toBe(0);

    const resultsDir = join(dir, 'results');
    const metricsFile = join(dir, 'metrics.prom');
    const child = startCli(['--results-dir', resultsDir, 'run', config, '--metrics-file', metricsFile], { env });
    const agents = await until(() => {
      const lines = existsSync(counter) ? parseCounter(readFileSync(counter, 'utf8')).filter((l) => l.who === 'agent') : [];
      return lines.length >= 2 ? lines : undefined;
    }, 20_000, 'two agents to start');
    child.kill(signal);
    const stopped = await child.result;
    expect(stopped.code).toBe(code);
    expect(stopped.stderr).toContain(`interrupted by ${signal}`);
    // the command to continue names this results directory (not ./results), ready to paste
    expect(stopped.stderr).toContain(`\`expctl --results-dir ${resultsDir} resume exp-1\``);
    for (const agent of agents) expect(isAlive(agent.pid), `agent ${agent.pid} still running`).toBe(false);
    // docs/design.md §4/§8: durations are recorded for interrupted work too, in the metrics file written at exit
    const metrics = readFileSync(metricsFile, 'utf8');
    expect(sample(metrics, 'expctl_run_duration_seconds_count', { experiment: 'exp-1', tier: 'T0', outcome: 'interrupted' })).toBeGreaterThan(0);
    expect(sample(metrics, 'expctl_tier_duration_seconds_count', { tier: 'T0', outcome: 'interrupted' })).toBe(1);

    const status = JSON.parse((await cli(['--results-dir', resultsDir, 'status', 'exp-1', '--json'])).stdout);
    expect(status).toMatchObject({ state: 'exp_interrupted', driver: null });
    const history = JSON.parse((await cli(['--results-dir', resultsDir, 'history', 'exp-1', '--json'])).stdout);
    expect(history.at(-1)).toMatchObject({ stream: 'exp-1', type: 'operator.interrupted', cause: 'operator', data: { signal, operator: { pid: child.pid } } });

    const resumed = await cli(['--results-dir', resultsDir, 'resume', 'exp-1'], { env: { ...env, AGENT_SLEEP_MS: '10' } });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(results(resultsDir)).toEqual(results(join(dir, 'baseline')));
    expect((await cli(['--results-dir', resultsDir, 'verify', 'exp-1'])).code).toBe(0);
  }, 60_000);
});

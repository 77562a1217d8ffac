import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreOpenError } from '../../store/index.js';
import type { StoredRow } from '../../store/types.js';
import { cli, startCli, until } from '../support/cli.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();

/** The log as another process sees it while the driver writes (empty until the driver has created it). */
function rows(resultsDir: string): StoredRow[] {
  if (!existsSync(join(resultsDir, 'expctl.db'))) return [];
  let store;
  try {
    store = openLog(join(resultsDir, 'expctl.db'), { readonly: true });
  } catch (error) {
    if (error instanceof StoreOpenError) return []; // created but its tables not yet committed
    throw error;
  }
  try {
    return [...store.readExperiment('exp-1')];
  } finally {
    store.close();
  }
}

function rateLimitedConfig(dir: string): string {
  return writeCountingExperiment(dir, {
    runsPerSubtest: 1,
    tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }],
    agent: { command: ['node', join(import.meta.dirname, 'fixtures', 'counting-agent.mjs')], rateLimit: { exitCode: 75, defaultWaitSeconds: 60 } },
  });
}

describe('rate limits through the CLI (docs/design.md §2.6)', () => {
  it('pauses an agent that reports a rate limit, then retries it after the stated wait: paused, not failed', async () => {
    const dir = tempDir();
    const resultsDir = join(dir, 'results');
    const env = { COUNTER_FILE: join(dir, 'counter.log'), RATE_LIMIT_ONCE_DIR: join(dir, 'limited'), RATE_LIMIT_WAIT: '1', AGENT_SLEEP_MS: '10' };
    const run = await cli(['--results-dir', resultsDir, 'run', rateLimitedConfig(dir)], { env });
    expect(run.code, run.stderr).toBe(0);
    const log = rows(resultsDir).filter((r) => r.stream === 'exp-1/T0/a/1');
    const limited = log.find((r) => r.state === 'run_rate_limited')!;
    expect(limited.event).toMatchObject({ type: 'effect.failed', data: { effect: 'runAgent', rateLimit: { reason: 'exit code 75' } } });
    const retryAt = (limited.event.data as { rateLimit: { retryAt: number } }).rateLimit.retryAt;
    expect(retryAt - Date.parse(limited.at)).toBeGreaterThanOrEqual(900); // "retry after 1 seconds" in the output, not the 60 s default
    expect(retryAt - Date.parse(limited.at)).toBeLessThan(5_000);
    const elapsed = log.find((r) => r.event.type === 'timer.elapsed')!;
    expect(Date.parse(elapsed.at)).toBeGreaterThanOrEqual(retryAt);
    expect(log.at(-1)!.state).toBe('run_worktree_cleaned');
    expect(log.some((r) => r.state === 'run_failed')).toBe(false);
    // the retried agent started from the committed resources: what the limited attempt left is not in its diff
    const patch = readFileSync(join(resultsDir, 'exp-1', 'T0', 'a', 'run-01', 'diff.patch'), 'utf8');
    expect(patch).toContain('ANSWER.txt');
    expect(patch).not.toContain('LEFTOVER.txt');
  }, 30_000);

  it('keeps the recorded deadline when the driver is killed during the wait and resumed', async () => {
    const dir = tempDir();
    const resultsDir = join(dir, 'results');
    const env = { COUNTER_FILE: join(dir, 'counter.log'), RATE_LIMIT_ONCE_DIR: join(dir, 'limited'), RATE_LIMIT_WAIT: '4', AGENT_SLEEP_MS: '10' };
    const child = startCli(['--results-dir', resultsDir, 'run', rateLimitedConfig(dir)], { env });
    const limited = await until(() => rows(resultsDir).find((r) => r.state === 'run_rate_limited'), 20_000, 'the rate limit');
    const retryAt = (limited.event.data as { rateLimit: { retryAt: number } }).rateLimit.retryAt;
    child.kill('SIGKILL');
    await child.result;
    await new Promise((r) => setTimeout(r, 1500));
    const resumedAt = Date.now();
    const resumed = await cli(['--results-dir', resultsDir, 'resume', 'exp-1'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const elapsed = rows(resultsDir).find((r) => r.event.type === 'timer.elapsed')!;
    const firedAt = (elapsed.event.data as { at: number }).at;
    expect(firedAt).toBeGreaterThanOrEqual(retryAt);
    // a wait restarted from scratch would end 4 s after the resume, well past the recorded deadline
    expect(firedAt).toBeLessThan(Math.max(retryAt, resumedAt) + 1500);
    expect(firedAt).toBeLessThan(resumedAt + 4000);
  }, 30_000);
});

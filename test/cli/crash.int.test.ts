import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, isAlive, startCli } from '../support/cli.js';
import { parseCounter, writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

/** mulberry32: a small seeded PRNG, so the kill moments are the same on every run of the test. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<null>((r) => setTimeout(() => r(null), ms));

/** What must not depend on interruptions: every run's outcome, scores, usage and diff. */
function runResults(results: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const file of readdirSync(join(results, 'exp-1'), { recursive: true }).map(String).filter((f) => /run-\d+\/result\.json$/.test(f)).sort()) {
    const r = JSON.parse(readFileSync(join(results, 'exp-1', file), 'utf8'));
    out[file] = { passed: r.passed, score: r.score, grade: r.grade, tokens: r.agent.tokens, costUsd: r.agent.costUsd, exitCode: r.agent.exitCode, diff: r.diff };
  }
  return out;
}

function tierBests(results: string): unknown {
  return JSON.parse(readFileSync(join(results, 'exp-1', 'result.json'), 'utf8')).tiers.map((t: { tier: string; best: unknown; passRate: number }) => [t.tier, t.best, t.passRate]);
}

describe('crash consistency through the CLI (I3, I8)', () => {
  it('killed with SIGKILL at 20+ seeded random moments and resumed each time, it ends with the results of an uninterrupted run', async () => {
    const dir = tempDir();
    const config = writeCountingExperiment(dir, {
      runsPerSubtest: 4,
      limits: { maxConcurrentRuns: 4, maxConcurrentAgents: 4 },
      tiers: [
        { id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] },
        { id: 'T1', subtests: [{ id: 'a' }, { id: 'b', resources: { files: { 'HINT.md': './hint.md' } } }] },
        { id: 'T2', dependsOn: ['T0', 'T1'], subtests: [{ id: 'a', resources: { inheritBaseline: true } }] },
      ],
    });
    // agents outlive a quick restart, so a stray left by a killed driver would meet its successor
    const env = (name: string) => ({ COUNTER_FILE: join(dir, name, 'counter.log'), AGENT_SLEEP_MS: '1200' });
    const baseline = await cli(['--results-dir', join(dir, 'baseline'), 'run', config], { env: env('baseline') });
    expect(baseline.code, baseline.stderr).toBe(0);

    const results = join(dir, 'crashed');
    const random = seeded(20261128);
    let kills = 0;
    for (let attempt = 0; ; attempt++) {
      expect(attempt, 'the experiment should finish').toBeLessThan(200);
      const child = startCli(['--results-dir', results, 'run', config], { env: env('crashed') });
      if (kills >= 20) {
        const last = await child.result;
        expect(last.code, last.stderr).toBe(0);
        break;
      }
      // mostly early kills (startup, replay, git, judges), some late enough for agents to finish
      const ended = await Promise.race([child.result, sleep(random() < 0.2 ? 1500 + random() * 1500 : 50 + random() * 600)]);
      if (ended) {
        expect(ended.code, ended.stderr).toBe(0);
        break;
      }
      child.kill('SIGKILL');
      await child.result;
      kills += 1;
    }
    expect(kills).toBeGreaterThanOrEqual(20);

    expect(runResults(results)).toEqual(runResults(join(dir, 'baseline')));
    expect(tierBests(results)).toEqual(tierBests(join(dir, 'baseline')));
    const verify = await cli(['--results-dir', results, 'verify', 'exp-1']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const history = JSON.parse((await cli(['--results-dir', results, 'history', 'exp-1', '--json'])).stdout) as { stream: string; type: string; at: string; data: { effect?: string } }[];
    const counter = parseCounter(readFileSync(env('crashed').COUNTER_FILE, 'utf8'));
    expect(counter.filter((l) => l.what === 'overlap'), 'two agents ran in one workspace').toEqual([]);
    for (const run of new Set(counter.map((l) => l.run))) {
      const stream = `exp-1/${run}`;
      for (const [who, effect] of [['agent', 'runAgent'], ['judge', 'runJudges']] as const) {
        const completions = history.filter((r) => r.stream === stream && r.type === 'effect.completed' && r.data.effect === effect);
        expect(completions, `${stream} ${effect} completed once`).toHaveLength(1);
        const starts = counter.filter((l) => l.run === run && l.who === who && l.what === 'start');
        const recorded = history.filter((r) => r.stream === stream && r.type === 'effect.started' && r.data.effect === effect);
        // every recorded start ran; a start may lack its record only if the driver died between spawn and append
        expect(starts.length).toBeGreaterThanOrEqual(recorded.length);
        // I3: once its completion is in the log, the effect never runs again
        expect(starts.filter((s) => s.at > Date.parse(completions[0]!.at)), `${stream} ${who} ran after its completion was recorded`).toEqual([]);
      }
    }
    for (const line of counter) expect(isAlive(line.pid), `process ${line.pid} (${line.run} ${line.who}) is still running`).toBe(false);
  }, 240_000);
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownLinks } from '../support/markdown-links.js';
import { cli } from '../support/cli.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const demo = join(import.meta.dirname, '..', '..', 'examples', 'demo', 'experiment.yaml');

/** Every report.md and summary.md expctl wrote (not the task's own files in workspaces and repo). */
function reportsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => /\/(report|summary)\.md$/.test(file) && !/\/(workspace|repo)\//.test(file));
}

describe('the bundled demo through the built CLI', () => {
  it('runs to exp_complete; status --json, history and reports agree with the log; every report link resolves', async () => {
    const results = join(tempDir(), 'results');
    const run = await cli(['--results-dir', results, 'run', demo]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`reports: ${join(results, 'demo-001', 'report.md')}`);

    const status = JSON.parse((await cli(['--results-dir', results, 'status', 'demo-001', '--json'])).stdout);
    expect(status).toMatchObject({ experiment: 'demo-001', state: 'exp_complete', runs: { total: 12, completed: 12, failed: 0, running: 0, pending: 0 }, driver: null });
    expect(status.tiers.map((t: { id: string; state: string }) => `${t.id}:${t.state}`)).toEqual(['T0:tier_complete', 'T1:tier_complete', 'T2:tier_complete']);

    const history = JSON.parse((await cli(['--results-dir', results, 'history', 'demo-001', '--json'])).stdout) as { seq: number; stream: string; state: unknown; type: string }[];
    expect(history.at(-1)!.seq).toBe(status.lastSeq);
    const lastState = new Map(history.map((row) => [row.stream, row.state]));
    for (const tier of status.tiers) {
      expect(lastState.get(`demo-001/${tier.id}`)).toBe(tier.state);
      for (const subtest of tier.subtests) {
        for (const r of subtest.runs) expect(lastState.get(`demo-001/${tier.id}/${subtest.id}/${r.run}`)).toBe(r.state);
      }
    }
    expect(history.filter((r) => r.type === 'run.finished')).toHaveLength(12);

    const result = JSON.parse(readFileSync(join(results, 'demo-001', 'result.json'), 'utf8'));
    const reported = JSON.parse((await cli(['--results-dir', results, 'report', 'demo-001', '--json'])).stdout);
    expect(reported).toEqual(result);
    expect(result.tiers.map((t: { tier: string; best: { subtest: string } }) => `${t.tier}:${t.best.subtest}`)).toEqual(status.tiers.map((t: { id: string; best: string }) => `${t.id}:${t.best}`));

    const reports = reportsUnder(join(results, 'demo-001'));
    expect(reports.length).toBe(1 + 1 + 3 * 2 + 6 + 12); // experiment report + summary, tier reports + summaries, subtest and run reports
    for (const report of reports) {
      for (const link of markdownLinks(readFileSync(report, 'utf8'))) expect(existsSync(resolve(dirname(report), link)), `${report} → ${link}`).toBe(true);
    }
    const verify = await cli(['--results-dir', results, 'verify', 'demo-001']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ok: demo-001: \d+ rows in 22 streams verify/);
  });
});

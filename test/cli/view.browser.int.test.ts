import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { cli } from '../support/cli.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';
import { flattenTree } from '../support/tree.js';

const tempDir = useTempDir('expctl-view-');

interface Tree { experiment: string; state: string; tiers: { id: string; state: string; subtests: { id: string; state: string; runs: { run: number; state: string }[] }[] }[] }

describe('expctl view in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('shows, for any row on the slider, the tree `history --at` prints, and requests nothing', async () => {
    // launched in the test, not a hook: without Chromium the test fails (is never skipped), saying what to install
    browser = await launchChromium();
    const dir = tempDir();
    const config = writeCountingExperiment(dir, {
      runsPerSubtest: 2,
      tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }, { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a' }] }],
    });
    const results = join(dir, 'results');
    const env = { COUNTER_FILE: join(dir, 'counter.log'), AGENT_SLEEP_MS: '10' };
    const run = (...args: string[]) => cli(['--results-dir', results, ...args], { env });
    expect((await run('run', config)).code).toBe(0);

    const file = join(dir, 'page.html');
    const view = await run('view', 'exp-1', '--out', file);
    expect(view.stderr).toBe('');
    expect(view.code).toBe(0);
    expect(view.stdout.trim()).toBe(file);

    const rows = JSON.parse((await run('history', 'exp-1', '--json')).stdout) as { seq: number; stream: string; state: string }[];
    const historyAt = async (seq: number) => {
      const r = await run('history', 'exp-1', '--at', String(seq), '--json');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Tree;
    };
    // a row where T0 is mid-way: its first run has just finished, the others have not
    const midTier = rows.findIndex((r) => r.stream.startsWith('exp-1/T0/') && r.state === 'run_worktree_cleaned');
    const picks = [0, Math.floor(rows.length / 2), midTier, rows.length - 1];
    const expected = new Map<number, Tree>();
    for (const i of picks) expected.set(i, await historyAt(rows[i]!.seq));
    const mid = expected.get(midTier)!.tiers[0]!;
    expect(mid.state).toBe('tier_subtests_running');
    expect(new Set(mid.subtests.flatMap((s) => s.runs.map((r) => r.state === 'run_worktree_cleaned'))).size).toBe(2);

    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const url = pathToFileURL(file).href;
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => void requests.push(request.url()));
    page.on('pageerror', (error) => void errors.push(String(error)));
    try {
      await page.goto(url);
      expect(await page.locator('#timeline').getAttribute('max')).toBe(String(rows.length - 1));
      const shown = () => page.$$eval('[data-stream]', (els) => els.map((e) => [e.getAttribute('data-stream'), e.getAttribute('data-state')]));
      // opens at the last row
      expect(await page.locator('#seq').textContent()).toBe(String(rows.at(-1)!.seq));
      // runs are coloured by what they came to, not by their lifecycle, and show it
      const outcomes = await page.$$eval('.actor[data-machine="run"]', (els) => els.map((e) => [e.getAttribute('data-outcome'), getComputedStyle(e).backgroundColor, e.querySelector('.outcome')?.textContent]));
      const last = (await historyAt(rows.at(-1)!.seq)) as unknown as { tiers: { subtests: { runs: { outcome: string; score: number }[] }[] }[] };
      const want = last.tiers.flatMap((t) => t.subtests.flatMap((st) => st.runs));
      expect(outcomes.map(([o]) => o)).toEqual(want.map((r) => r.outcome));
      const colours: Record<string, string> = { passed: 'rgb(187, 247, 208)', not_passed: 'rgb(254, 249, 195)', errored: 'rgb(254, 202, 202)' };
      expect(outcomes.map(([, bg]) => bg)).toEqual(want.map((r) => colours[r.outcome]));
      expect(outcomes.map(([, , text]) => text)).toEqual(want.map((r) => `${r.outcome === 'passed' ? '✓ passed' : '✗ not passed'} ${r.score.toFixed(2)}`));
      for (const i of picks) {
        await page.locator('#timeline').fill(String(i));
        expect(await page.locator('#seq').textContent()).toBe(String(rows[i]!.seq));
        expect(await shown(), `row ${i} (seq ${rows[i]!.seq})`).toEqual(flattenTree(expected.get(i)!));
      }
      // keys and buttons move one row; the tree follows
      await page.locator('#seq').click();
      await page.keyboard.press('ArrowLeft');
      expect(await page.locator('#seq').textContent()).toBe(String(rows.at(-2)!.seq));
      await page.locator('#next').click();
      expect(await page.locator('#seq').textContent()).toBe(String(rows.at(-1)!.seq));
      await page.locator('#timeline').fill(String(midTier));
      await page.locator('#prev').click();
      expect(await shown()).toEqual(flattenTree(await historyAt(rows[midTier - 1]!.seq)));
      await page.locator('#next').click();

      // selecting a run shows its state in the run statechart
      const runNode = page.locator('[data-stream="exp-1/T0/a/1"]');
      const runState = await runNode.getAttribute('data-state');
      await runNode.click();
      expect(await page.locator('figure.chart.selected').getAttribute('data-machine')).toBe('run');
      expect(await page.locator('figure[data-machine="run"] g.node.current').getAttribute('data-node')).toBe(runState);
      expect(await page.locator('svg g.node').count()).toBe(9 + 8 + 5 + 15);

      const png = join(dir, 'view.png');
      await page.screenshot({ path: png, fullPage: true });
      const bytes = readFileSync(png);
      expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(bytes.readUInt32BE(16)).toBe(1400);
      expect(bytes.readUInt32BE(20)).toBeGreaterThan(900);
      expect(statSync(png).size).toBeGreaterThan(50_000);
    } finally {
      await page.close();
    }
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
  });
});

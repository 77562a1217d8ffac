/**
 * `expctl serve` in headless Chromium, through the built CLI on a free port:
 * the list, an experiment, a run's diff and verdict, the timeline scrubber
 * against `history --at`, an experiment driven by another process appearing
 * and moving without a reload, and no request leaving 127.0.0.1. Every page is
 * photographed at 1280×800 and 420×800 (EXPCTL_SERVE_SHOTS=DIR keeps them)
 * and may not be wider than the window.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { cli, startCli, until } from '../support/cli.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { startServe, type Served } from '../support/serve.js';
import { useTempDir } from '../support/temp.js';
import { flattenTree } from '../support/tree.js';

const tempDir = useTempDir('expctl-serve-browser-');

type Group = { runs: number; passed: number; notPassed: number; errored: number; passRate: number | null; passRateInterval: [number, number] | null; costUsd: number | null };
interface Status { experiment: string; state: string; results: Group; tiers: { id: string; state: string; results: Group; subtests: { id: string; state: string; runs: { run: number; state: string; outcome: string; score: number }[] }[] }[] }

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const text = (page: Page, selector: string) => page.locator(selector).first().textContent();

describe('expctl serve in headless Chromium', () => {
  let browser: Browser | undefined;
  let served: Served | undefined;
  let driver: ReturnType<typeof startCli> | undefined;
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    if (driver && driver.exitCode === null) {
      driver.kill('SIGKILL');
      await driver.result;
    }
  });

  it('shows the list, an experiment, a run, the history as of any row, and an experiment another process drives, live; requests nothing off 127.0.0.1', async () => {
    browser = await launchChromium();
    const dir = tempDir();
    const results = join(dir, 'results');
    const env = { COUNTER_FILE: join(dir, 'counter.log'), AGENT_SLEEP_MS: '10' };
    const config = writeCountingExperiment(join(dir, 'done'), { runsPerSubtest: 2, tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }] });
    const run = (...args: string[]) => cli(['--results-dir', results, ...args], { env });
    expect((await run('run', config)).code).toBe(0);
    const status = async (id: string) => JSON.parse((await run('status', id, '--json')).stdout) as Status;
    served = await startServe(results);
    const origin = new URL(served.url).origin;
    const shots = process.env.EXPCTL_SERVE_SHOTS || join(dir, 'shots');
    mkdirSync(shots, { recursive: true });

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => void (new URL(request.url()).origin !== origin && foreign.push(request.url())));
    page.on('pageerror', (error) => void errors.push(String(error)));
    const shoot = async (name: string) => {
      for (const width of [1280, 420]) {
        await page.setViewportSize({ width, height: 800 });
        await page.waitForTimeout(150);
        const file = join(shots, `${name}-${width}.png`);
        await page.screenshot({ path: file, fullPage: true });
        expect(readFileSync(file).readUInt32BE(16), file).toBe(width);
        // nothing is wider than the window: wide tables scroll in their own box
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${width} px`).toBeLessThanOrEqual(width);
      }
      await page.setViewportSize({ width: 1280, height: 800 });
    };

    // the list: one line per experiment, the numbers `status` gives
    const exp1 = await status('exp-1');
    await page.goto(served.url);
    const line = page.locator('tr[data-experiment="exp-1"]');
    await line.waitFor();
    expect(await line.locator('[data-col="state"]').textContent()).toBe('complete');
    expect(await line.locator('[data-col="passed"]').textContent()).toBe(String(exp1.results.passed));
    expect(await line.locator('[data-col="notPassed"]').textContent()).toBe(String(exp1.results.notPassed));
    expect(await line.locator('[data-col="passRate"]').textContent()).toBe(pct(exp1.results.passRate));
    expect(await line.locator('[data-col="driver"]').textContent()).toBe('none');
    await shoot('list');

    // an experiment: its results table and its runs, coloured by outcome, filtered
    await line.locator('a').click();
    await page.locator('#results').waitFor();
    expect(page.url()).toBe(`${served.url}e/exp-1`);
    const tierRow = await page.locator('#results tr[data-tier="T0"] td').allTextContents();
    expect(tierRow.slice(2, 7)).toEqual([String(exp1.tiers[0]!.results.runs), String(exp1.results.passed), String(exp1.results.notPassed), '0', pct(exp1.results.passRate)]);
    const runs = exp1.tiers[0]!.subtests.flatMap((s) => s.runs.map((r) => ({ ...r, id: `T0/${s.id}/${r.run}` })));
    await page.locator('#runs tr[data-run]').first().waitFor();
    expect(await page.$$eval('#runs tr[data-run]', (rows) => rows.map((r) => [r.getAttribute('data-run'), r.getAttribute('data-outcome')]))).toEqual(runs.map((r) => [r.id, r.outcome]));
    const colours: Record<string, string> = { passed: 'rgb(220, 252, 231)', not_passed: 'rgb(254, 249, 195)' };
    expect(await page.$$eval('#runs tr[data-run] td:first-child', (cells) => cells.map((c) => getComputedStyle(c).backgroundColor))).toEqual(runs.map((r) => colours[r.outcome]));
    await page.locator('#runs select[name="outcome"]').selectOption('passed');
    await until(async () => ((await text(page, '#runs-shown')) === `runs 1–${exp1.results.passed} of ${exp1.results.passed}` ? true : undefined), 5000, 'the outcome filter');
    expect(new Set(await page.$$eval('#runs tr[data-run]', (rows) => rows.map((r) => r.getAttribute('data-outcome'))))).toEqual(new Set(['passed']));
    expect(await page.locator('#machines figure[data-machine="experiment"] g.node.current').getAttribute('data-node')).toBe('exp_complete');
    await page.locator('#runs select[name="outcome"]').selectOption('');
    // verify: the head hash and the verdict `expctl verify` gives
    const verified = JSON.parse((await run('verify', 'exp-1', '--json')).stdout) as { rows: number; streams: number; headHash: string };
    expect(await text(page, '#head-hash')).toBe(verified.headHash);
    await page.locator('#verify button').click();
    await page.locator('#verify-result').filter({ hasText: /^ok:/ }).waitFor();
    expect(await text(page, '#verify-result')).toBe(`ok: ${verified.rows} rows in ${verified.streams} streams verify; head ${verified.headHash}`);
    await shoot('experiment');

    // a run: its diff and its verdict, and its output searched
    const first = runs[0]!;
    await page.locator(`#runs tr[data-run="${first.id}"] a`).click();
    await page.locator('#verdicts').waitFor();
    expect(await text(page, '#diff')).toContain('+a says odd');
    expect(await text(page, '#diff')).toContain('ANSWER.txt');
    expect(await text(page, '.verdict .v-reasoning')).toBe('answer: a says odd');
    expect(await text(page, '.verdict .v-score')).toBe(first.score.toFixed(2));
    expect(await text(page, '.verdict .v-passed')).toBe(first.outcome === 'passed' ? 'passed' : 'not passed');
    expect(await page.locator('figure[data-machine="run"] g.node.current').getAttribute('data-node')).toBe('run_worktree_cleaned');
    expect(await page.locator('figure[data-machine="run"] g.edge.taken').count()).toBeGreaterThan(10);
    await page.locator('#output-search').fill('costusd');
    await until(async () => ((await text(page, '#output-count')) === '1 of 1 line matches' ? true : undefined), 5000, 'the output search');
    expect(await text(page, '#output-text mark')).toBe('costUsd');
    await page.locator('#output-search').fill('');
    await shoot('run');

    // history: the scrubber shows the tree `history --at SEQ` prints
    const rows = JSON.parse((await run('history', 'exp-1', '--json')).stdout) as { seq: number; stream: string; state: string }[];
    await page.goto(`${served.url}e/exp-1/history`);
    const midTier = rows.find((r) => r.stream.startsWith('exp-1/T0/') && r.state === 'run_worktree_cleaned')!.seq;
    for (const seq of [rows[0]!.seq, midTier, rows[Math.floor(rows.length / 2)]!.seq, rows.at(-1)!.seq]) {
      await page.locator('#scrubber').fill(String(seq));
      await page.locator(`#as-of[data-seq="${seq}"]`).waitFor();
      const want = JSON.parse((await run('history', 'exp-1', '--at', String(seq), '--json')).stdout) as Status;
      expect(await page.$$eval('#tree [data-stream]', (els) => els.map((e) => [e.getAttribute('data-stream'), e.getAttribute('data-state')])), `seq ${seq}`).toEqual(flattenTree(want));
    }
    await page.locator('#scrubber').fill(String(midTier));
    await page.locator(`#as-of[data-seq="${midTier}"]`).waitFor();
    await shoot('history');

    // an unknown experiment: a 404 and a page that says so
    const missing = await page.goto(`${served.url}e/nope`);
    expect(missing!.status()).toBe(404);
    expect(await text(page, '#not-found')).toContain('no experiment nope in this results folder');

    // another process drives a new experiment: it appears in the list and moves on its page, with no reload
    await page.goto(served.url);
    await line.waitFor();
    const liveConfig = writeCountingExperiment(join(dir, 'live'), { id: 'live-1', runsPerSubtest: 3, limits: { maxConcurrentRuns: 1, maxConcurrentAgents: 1 }, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    driver = startCli(['--results-dir', results, 'run', liveConfig], { env: { ...env, AGENT_SLEEP_MS: '600' } });
    await page.locator('tr[data-experiment="live-1"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-experiment="live-1"] [data-col="driver"]').textContent()).toMatch(/^alive \(pid \d+\)$/);
    await page.locator('tr[data-experiment="live-1"] a').click();
    const seen = new Set<string>();
    const finished = driver.result;
    let ended: number | null = null;
    void finished.then(() => (ended = Date.now()));
    const final = await until(async () => {
      const counts = await page.locator('#run-counts').textContent().catch(() => null);
      if (counts) seen.add(counts);
      return (await page.locator('#exp-state').textContent().catch(() => null)) === 'exp_complete' ? Date.now() : undefined;
    }, 60_000, 'the live experiment to complete on the page');
    expect((await finished).code).toBe(0);
    // it showed the runs as they finished, one at a time, without reloading
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    expect(final - ended!).toBeLessThan(1500);
    const live = await status('live-1');
    expect(await text(page, '#pass-rate')).toBe(`pass rate ${pct(live.results.passRate)} ${live.results.passRateInterval ? `[${pct(live.results.passRateInterval[0])}, ${pct(live.results.passRateInterval[1])}]` : ''}`);
    await page.locator('#driver').filter({ hasText: 'driver: none' }).waitFor({ timeout: 5000 });

    await page.close();
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  }, 120_000);
});

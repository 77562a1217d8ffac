import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkLog } from '../engine/index.js';
import { loadVerified, openExperimentLog } from '../runner/log.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { result, type BenchResult } from './result.js';
import { CLI, commandSeconds, runNode } from './startup.bench.js';
import { writeSynthetic, type Shape } from './synthetic.js';

/** Write a synthetic experiment (bench/synthetic.ts) into `<dir>/expctl.db`; returns its rows. */
export function buildLog(dir: string, shape: Shape): number {
  const store = openExperimentLog(join(dir, 'expctl.db'), { synchronous: 'NORMAL' });
  try {
    return writeSynthetic(store, shape);
  } finally {
    store.close();
  }
}

/** 10^4 runs: 10 tiers × 10 subtests × 100 runs. */
export const RUNS_1E4: Shape = { key: 'big', tiers: 10, subtests: 10, runs: 100 };

/**
 * The read commands of the built CLI on a complete 10^4-run experiment
 * (~1.6×10^5 rows), wall time of the whole process, next to a bare
 * `node -e ''`.
 */
export function readCommandsBench(dir: string, rows: number): BenchResult[] {
  const cli = (...args: string[]) => [CLI, '--results-dir', dir, ...args];
  const bare = commandSeconds(['-e', ''], 3);
  const mid = String(Math.floor(rows / 2));
  runNode(cli('report', 'big')); // writes the result files the first time; then it only reads
  const measure = (name: string, label: string, args: string[]) => result(name, label, commandSeconds(cli(...args), 3), 's', bare, "node -e ''");
  return [
    measure('status.runs_1e4', 'status, 10^4 runs', ['status', 'big']),
    measure('history.limit_runs_1e4', 'history --limit 20, 10^4 runs', ['history', 'big', '--limit', '20']),
    measure('history.stream_runs_1e4', 'history --stream T3/s4/50, 10^4 runs', ['history', 'big', '--stream', 'T3/s4/50']),
    measure('history.at_runs_1e4', 'history --at SEQ, 10^4 runs', ['history', 'big', '--at', mid]),
    measure('report.runs_1e4', 'report, 10^4 runs', ['report', 'big']),
    measure('coverage.runs_1e4', 'coverage, 10^4 runs', ['coverage', 'big']),
    measure('diff.runs_1e4', 'diff SEQ_A SEQ_B, 10^4 runs', ['diff', 'big', '1000', mid]),
    measure('view.runs_1e4', 'view (writing the page), 10^4 runs', ['view', 'big', '--out', join(dir, 'view.html')]),
  ];
}

/**
 * The viewer's page in headless Chromium, from navigation start: the first
 * frame painted once it has loaded and its script has drawn the experiment
 * (two animation frames after the load event), and the browser's first
 * contentful paint; of the 10^4-run experiment, next to one of 10^2 runs.
 */
export async function firstPaintBench(big: string, small: string): Promise<BenchResult[]> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const times = async (dir: string, key: string) => {
      const file = join(dir, 'view.html');
      runNode([CLI, '--results-dir', dir, 'view', key, '--out', file]);
      const best = { drawn: Infinity, contentful: Infinity };
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        await page.goto(pathToFileURL(file).href);
        const drawn = await page.evaluate(() => new Promise<number>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())))));
        const contentful = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN);
        await page.close();
        best.drawn = Math.min(best.drawn, drawn / 1000);
        if (!Number.isNaN(contentful)) best.contentful = Math.min(best.contentful, contentful / 1000);
      }
      return best;
    };
    const [b, s] = [await times(big, 'big'), await times(small, 'small')];
    return [
      result('view.first_paint_runs_1e4', 'view: page drawn in Chromium, 10^4 runs', b.drawn, 's', s.drawn, 'the page of 10^2 runs'),
      result('view.first_contentful_paint_runs_1e4', 'view: first contentful paint, 10^4 runs', b.contentful, 's', s.contentful, 'the page of 10^2 runs'),
    ];
  } finally {
    await browser.close();
  }
}

/**
 * Resume (loading a log to drive on: open, check, rebuild every actor) of
 * logs of 10^4, 10^5 and 10^6 rows, mostly finished runs and five waiting for
 * their agent, killed after their last checkpoint; next to the full
 * verification and replay every resume did before (once at 10^6 rows: it
 * takes a minute).
 */
export function resumeBench(dir: (name: string) => string, sizes: { name: string; label: string; shape: Shape }[]): BenchResult[] {
  return sizes.map(({ name, label, shape }) => {
    const at = dir(name);
    buildLog(at, { ...shape, running: 5 });
    const time = (fn: (file: string) => void, repeat: number) => {
      let best = Infinity;
      for (let i = 0; i < repeat; i++) {
        const start = process.hrtime.bigint();
        fn(join(at, 'expctl.db'));
        best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
      }
      return best;
    };
    const open = (file: string) => openExperimentLog(file);
    const resume = time((file) => {
      const store = open(file);
      loadVerified(store, shape.key);
      store.close();
    }, 3);
    const full = time((file) => {
      const store = open(file);
      checkLog(store, lifecycleRegistry, shape.key);
      store.close();
    }, name === 'resume.rows_1e6' ? 1 : 2);
    return result(name, label, resume, 's', full, 'verify + replay of all');
  });
}

export const RESUME_SIZES = [
  { name: 'resume.rows_1e4', label: 'resume, 10^4 rows', shape: { key: 'r4', tiers: 1, subtests: 25, runs: 25 } },
  { name: 'resume.rows_1e5', label: 'resume, 10^5 rows', shape: { key: 'r5', tiers: 10, subtests: 25, runs: 25 } },
  { name: 'resume.rows_1e6', label: 'resume, 10^6 rows', shape: { key: 'r6', tiers: 25, subtests: 25, runs: 100 } },
];

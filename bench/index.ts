// npm run bench: each line compares expctl with a baseline measured in the same process.
//   npm run bench              the store, replay and start-up (about a minute)
//   npm run bench -- --full    and at scale: read commands and the viewer on 10^4 runs, resume of
//                              10^4 … 10^6 rows, a 10^4-run drive's memory, growth, a run's cost
//                              next to a shell script doing the same work (several minutes)
//   npm run bench -- --json    the --full run as one JSON array of { name, value, unit, baseline, ratio }
//                              on stdout (the table goes to stderr)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendBench } from './append.bench.js';
import { executorBench } from './executor.bench.js';
import { growthBench, matrixRssBench } from './growth.bench.js';
import { overheadBench } from './overhead.bench.js';
import { replayBench } from './replay.bench.js';
import { line, type BenchResult } from './result.js';
import { buildLog, firstPaintBench, readCommandsBench, RESUME_SIZES, resumeBench, RUNS_1E4 } from './scale.bench.js';
import { startupBench } from './startup.bench.js';

const json = process.argv.includes('--json');
const full = json || process.argv.includes('--full');
const print = (text: string) => (json ? process.stderr : process.stdout).write(`${text}\n`);
const results: BenchResult[] = [];
const report = (batch: BenchResult[]) => {
  for (const r of batch) print(line(r));
  results.push(...batch);
};

print(`expctl bench — node ${process.version}, ${new Date().toISOString()}${full ? ' (full)' : ''}`);
report(appendBench(full));
report(replayBench(full));
report(startupBench());
report(await executorBench());
if (full) {
  const root = mkdtempSync(join(tmpdir(), 'expctl-bench-scale-'));
  const dir = (name: string) => {
    const at = join(root, name);
    mkdirSync(at, { recursive: true });
    return at;
  };
  try {
    const rows = buildLog(dir('runs-1e4'), RUNS_1E4);
    buildLog(dir('runs-1e2'), { key: 'small', tiers: 1, subtests: 2, runs: 50 });
    report(readCommandsBench(dir('runs-1e4'), rows));
    report(await firstPaintBench(dir('runs-1e4'), dir('runs-1e2')));
    report(resumeBench(dir, RESUME_SIZES));
    report(matrixRssBench(dir));
    report(growthBench(dir));
    report(overheadBench(dir('overhead')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
if (json) process.stdout.write(`${JSON.stringify(results.map(({ name, value, unit, baseline, ratio }) => ({ name, value, unit, baseline, ratio })), null, 2)}\n`);

import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { eventStep } from '../engine/index.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { openExperimentLog } from '../runner/log.js';
import type { AppendRow } from '../store/types.js';
import { result, type BenchResult } from './result.js';
import { buildLog } from './scale.bench.js';

const ROOT = join(import.meta.dirname, '..');

/**
 * Peak memory (VmHWM) of driving a whole experiment in a child process: 10^4
 * runs (10 tiers × 10 subtests × 100), next to 10^2 runs; no-op effects,
 * everything else real (bench/drive-child.ts). Also the time per row of
 * the whole drive.
 */
export function matrixRssBench(dir: (name: string) => string): BenchResult[] {
  const drive = (name: string, shape: [number, number, number]) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'drive-child.ts'), dir(name), ...shape.map(String)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
    if (child.status !== 0) throw new Error(`the drive of ${shape.join('×')} runs exited with ${child.status}: ${child.stderr.slice(-2000)}`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { state: string; runs: number; rows: number; seconds: number; peakMb: number };
  };
  const small = drive('drive-1e2', [1, 2, 50]);
  const big = drive('drive-1e4', [10, 10, 100]);
  if (big.state !== 'exp_complete' || big.runs !== 10_000) throw new Error(`the drive of 10^4 runs ended in ${big.state} with ${big.runs} runs`);
  return [
    result('matrix.rss_runs_1e4', 'drive of 10^4 runs: peak RSS', big.peakMb, 'MB', small.peakMb, 'drive of 10^2 runs'),
    result('matrix.us_per_row_runs_1e4', 'drive of 10^4 runs: time per row', (big.seconds * 1e6) / big.rows, 'µs', (small.seconds * 1e6) / small.rows, 'drive of 10^2 runs'),
  ];
}

/**
 * The cost of recording one transition as a log grows (10^2 … 10^5 runs):
 * one row, one transaction, synchronous=FULL; next to rewriting a JSON
 * checkpoint of every run's state per transition (serialise, write, fsync,
 * rename), the same durability, at the same sizes.
 */
export function growthBench(dir: (name: string) => string, sizes = [100, 1000, 10_000, 100_000]): BenchResult[] {
  return sizes.flatMap((runs) => {
    const at = dir(`growth-${runs}`);
    buildLog(at, { key: 'g', tiers: 1, subtests: Math.max(1, runs / 100), runs: Math.min(100, runs), running: 50 });
    const log = appendCost(join(at, 'expctl.db'));
    const json = jsonCheckpointCost(at, join(at, 'expctl.db'), runs >= 100_000 ? 5 : 30);
    const size = `10^${Math.log10(runs)}`;
    return [result(`growth.append_us_runs_${size.replace('10^', '1e')}`, `record a transition, ${size} runs`, log, 'µs', json, 'rewrite a JSON checkpoint')];
  });
}

/** µs per transition: each waiting run's agent completes, then its next step, one row and one transaction each. */
function appendCost(file: string): number {
  const store = openExperimentLog(file, { synchronous: 'FULL' });
  const entry = lifecycleRegistry.get('run')!;
  const rows: AppendRow[] = [];
  for (const s of store.latestStates('g').streams.filter((s) => s.state === 'run_prompt_written')) {
    let current = { snapshot: entry.machine.resolveState({ value: s.state as never, context: s.context as Record<string, unknown> }), version: s.version };
    for (const effect of ['runAgent', 'commitChanges', 'captureDiff']) {
      const step = eventStep(entry, s.stream, current, { type: 'effect.completed', data: { effect, attempt: 1, output: { ok: true } } }, { at: new Date().toISOString(), cause: 'effect' });
      rows.push(step.row);
      current = { snapshot: step.snapshot, version: current.version + 1 };
    }
  }
  rows.sort((a, b) => a.expectedVersion - b.expectedVersion);
  const start = process.hrtime.bigint();
  for (const row of rows) store.append('g', [row]);
  const us = Number(process.hrtime.bigint() - start) / 1e3 / rows.length;
  store.close();
  return us;
}

/** µs per transition of a JSON checkpoint of every run's state and context, rewritten whole each time. */
function jsonCheckpointCost(dir: string, file: string, transitions: number): number {
  const store = openExperimentLog(file, { readonly: true });
  const state = Object.fromEntries(store.latestStates('g').streams.map((s) => [s.stream, { state: s.state, context: s.context, version: s.version }]));
  store.close();
  const target = join(dir, 'checkpoint.json');
  const start = process.hrtime.bigint();
  for (let i = 0; i < transitions; i++) {
    const [stream] = Object.keys(state);
    state[stream!]!.version += 1;
    const fd = openSync(`${target}.tmp`, 'w');
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(`${target}.tmp`, target);
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / transitions;
}

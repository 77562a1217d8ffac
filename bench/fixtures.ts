import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStep, eventStep } from '../engine/index.js';
import { RUN_STEPS } from '../machines/index.js';
import { lifecycleRegistry } from '../runner/registry.js';
import type { LifecycleEvent } from '../schemas/events.js';
import type { AppendRow } from '../store/types.js';

export const EXPERIMENT = 'bench';

/** Realistic rows: `runs` run actors, each created then driven through its whole lifecycle (13 rows). */
export function runLifecycleRows(runs: number): { rows: AppendRow[]; streams: { input: unknown; events: LifecycleEvent[] }[] } {
  const entry = lifecycleRegistry.get('run')!;
  const rows: AppendRow[] = [];
  const streams: { input: unknown; events: LifecycleEvent[] }[] = [];
  for (let run = 1; run <= runs; run++) {
    const stream = `${EXPERIMENT}/T0/s${run % 10}/${run}`;
    const input = { tier: 'T0', subtest: `s${run % 10}`, run, maxAttempts: 3 };
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, run)).toISOString();
    let step = createStep(entry, stream, input, `${EXPERIMENT}/T0/s${run % 10}`, { at, cause: 'engine' });
    rows.push(step.row);
    const events: LifecycleEvent[] = RUN_STEPS.map(([, effect]) => ({
      type: 'effect.completed',
      data: { effect, attempt: 1, output: { durationMs: 1234, files: ['a.ts', 'b.ts'], exitCode: 0 } },
    }));
    events.forEach((event, i) => {
      step = eventStep(entry, stream, { snapshot: step.snapshot, version: i + 1 }, event, { at, cause: 'effect' });
      rows.push(step.row);
    });
    streams.push({ input, events });
  }
  return { rows, streams };
}

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'expctl-bench-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function withTempDirAsync<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'expctl-bench-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows per second of `fn` over `n` rows, best of `repeat` runs (less noise from the machine). */
export function rate(n: number, repeat: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return n / best;
}

export function line(label: string, subject: number, baseline: number, baselineName: string): string {
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(9);
  return `${label.padEnd(34)} expctl ${fmt(subject)} rows/s   ${baselineName} ${fmt(baseline)} rows/s   ratio ${(subject / baseline).toFixed(2)}`;
}

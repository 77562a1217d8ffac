import { replay } from '../engine/index.js';
import { lifecycleRegistry } from '../machines/index.js';
import { statusTree, type StatusTree } from '../runner/status-tree.js';
import type { EventStore, Lease } from '../store/types.js';
import { paint, type Io } from './io.js';
import { experimentKey, openLogForReading } from './log.js';

export interface StatusOptions {
  resultsDir: string;
  json?: boolean;
}

/** The documented `status <id> --json` object: the tree plus where the log stands and who drives it. */
export interface StatusJson extends StatusTree {
  lastSeq: number;
  rows: number;
  driver: { pid: number; host: string; heartbeatAt: string } | null;
}

/** `expctl status [id]`: every experiment in a line each, or one as a tier → subtest → run tree. */
export async function statusCommand(id: string | undefined, options: StatusOptions, io: Io): Promise<void> {
  const store = openLogForReading(options.resultsDir);
  try {
    if (id) printOne(io, experimentStatus(store, experimentKey(store, id)), options.json ?? false);
    else printAll(io, store.experiments().map((h) => experimentStatus(store, h.experiment)), options.json ?? false);
  } finally {
    store.close();
  }
}

export function experimentStatus(store: EventStore, key: string): StatusJson {
  const { actors, lastSeq, rows } = replay(store, lifecycleRegistry, key);
  return { ...statusTree(key, actors), lastSeq, rows, driver: driverOf(store.readLease(key)) };
}

function driverOf(lease: Lease | null): StatusJson['driver'] {
  return lease ? { pid: lease.pid, host: lease.host, heartbeatAt: new Date(lease.heartbeatAt).toISOString() } : null;
}

function printAll(io: Io, all: StatusJson[], json: boolean): void {
  if (json) return io.out(`${JSON.stringify(all.map(({ experiment, state, runs, lastSeq, rows, driver }) => ({ experiment, state, runs, lastSeq, rows, driver })), null, 2)}\n`);
  if (all.length === 0) return io.out('no experiments yet; start one with `expctl run <config>`\n');
  for (const s of all) io.out(`${s.experiment.padEnd(24)} ${s.state.padEnd(22)} ${runLine(s)}${s.driver ? `  (driven by pid ${s.driver.pid} on ${s.driver.host})` : ''}\n`);
}

function printOne(io: Io, s: StatusJson, json: boolean): void {
  if (json) return io.out(`${JSON.stringify(s, null, 2)}\n`);
  io.out(`${paint(io, 1, s.experiment)}  ${s.state}  ${runLine(s)}\n`);
  if (s.driver) io.out(`driven by pid ${s.driver.pid} on ${s.driver.host}, heartbeat ${s.driver.heartbeatAt}\n`);
  for (const tier of s.tiers) {
    io.out(`  ${tier.id}  ${tier.state}${tier.best ? `  (best: ${tier.best})` : ''}\n`);
    for (const subtest of tier.subtests) {
      io.out(`    ${subtest.id}  ${subtest.state}\n`);
      for (const run of subtest.runs) io.out(`      run ${run.run}  ${run.state}${run.attempt > 1 ? `  (attempt ${run.attempt})` : ''}\n`);
    }
  }
}

function runLine(s: StatusJson): string {
  const r = s.runs;
  return `runs ${r.completed}/${r.total} done, ${r.running} running, ${r.failed} failed${r.rateLimited ? `, ${r.rateLimited} rate-limited` : ''}`;
}

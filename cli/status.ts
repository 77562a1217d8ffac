import { hostname } from 'node:os';
import { replay } from '../engine/index.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { statusTree, type StatusTree } from '../observe/status-tree.js';
import { isProcessAlive } from '../store/index.js';
import type { EventStore, Lease } from '../store/types.js';
import { paint, type Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface StatusOptions {
  resultsDir: string;
  json?: boolean;
}

/** The documented `status <id> --json` object: the tree plus where the log stands and who drives it. */
export interface StatusJson extends StatusTree {
  lastSeq: number;
  rows: number;
  /** The lease holder; `alive` is false when its process is gone (the next run or resume takes over), null when on another host. */
  driver: { pid: number; host: string; heartbeatAt: string; alive: boolean | null } | null;
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

/** The status of an experiment now, or as of row `atSeq` (time travel: no driver then). */
export function experimentStatus(store: EventStore, key: string, atSeq?: number): StatusJson {
  const { actors, lastSeq, rows } = replay(store, lifecycleRegistry, key, { toSeq: atSeq });
  return { ...statusTree(key, actors), lastSeq, rows, driver: atSeq === undefined ? driverOf(store.readLease(key)) : null };
}

function driverOf(lease: Lease | null): StatusJson['driver'] {
  if (!lease) return null;
  const alive = lease.host === hostname() ? isProcessAlive(lease.pid) : null;
  return { pid: lease.pid, host: lease.host, heartbeatAt: new Date(lease.heartbeatAt).toISOString(), alive };
}

function driverLine(d: NonNullable<StatusJson['driver']>): string {
  if (d.alive === false) return `last driven by pid ${d.pid} on ${d.host}, which is no longer running; \`expctl resume\` takes over`;
  return `driven by pid ${d.pid} on ${d.host}, heartbeat ${d.heartbeatAt}`;
}

function printAll(io: Io, all: StatusJson[], json: boolean): void {
  if (json) return io.out(`${JSON.stringify(all.map(({ experiment, state, runs, lastSeq, rows, driver }) => ({ experiment, state, runs, lastSeq, rows, driver })), null, 2)}\n`);
  if (all.length === 0) return io.out('no experiments yet; start one with `expctl run <config>`\n');
  for (const s of all) io.out(`${s.experiment.padEnd(24)} ${s.state.padEnd(22)} ${runLine(s)}${s.driver ? `  (${driverLine(s.driver)})` : ''}\n`);
}

export function printOne(io: Io, s: StatusJson, json: boolean): void {
  if (json) return io.out(`${JSON.stringify(s, null, 2)}\n`);
  io.out(`${paint(io, 1, s.experiment)}  ${s.state}  ${runLine(s)}\n`);
  if (s.driver) io.out(`${driverLine(s.driver)}\n`);
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

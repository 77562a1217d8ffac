import { hostname } from 'node:os';
import type { ReplayedActor } from '../engine/index.js';
import { isProcessAlive } from '../store/lease-policy.js';
import type { EventStore, Lease } from '../store/types.js';
import { statusTree, treeNodeOf, type StatusTree, type TreeNode } from './status-tree.js';

export type { StatusTree, RunCounts, TreeNode } from './status-tree.js';

/** The documented `status <id> --json` object: the tree plus where the log stands and who drives it. */
export interface StatusJson extends StatusTree {
  lastSeq: number;
  rows: number;
  /** The lease holder; `alive` is false when its process is gone (the next run or resume takes over), null when on another host. */
  driver: { pid: number; host: string; heartbeatAt: string; alive: boolean | null } | null;
}

/**
 * The status of an experiment now, or as of row `atSeq` (time travel: no
 * driver then), from the latest row of each stream: no replay.
 */
export function experimentStatus(store: EventStore, key: string, atSeq?: number): StatusJson {
  const latest = store.latestStates(key, atSeq);
  const nodes = new Map<string, TreeNode>(latest.streams.map((s) => [s.stream, treeNodeOf(machineId(s.machine), String(s.state), s.context)]));
  const tree = statusTree(key, (stream) => nodes.get(stream));
  return { ...tree, lastSeq: latest.lastSeq, rows: latest.rows, driver: atSeq === undefined ? driverOf(store.readLease(key)) : null };
}

/** The tree of live or replayed actors (the progress display). */
export function actorsTree(key: string, actors: ReadonlyMap<string, ReplayedActor>): StatusTree {
  return statusTree(key, (stream) => {
    const actor = actors.get(stream);
    return actor ? treeNodeOf(actor.entry.id, String(actor.snapshot.value), actor.snapshot.context) : undefined;
  });
}

const machineId = (ref: string) => ref.slice(0, ref.indexOf('@'));

function driverOf(lease: Lease | null): StatusJson['driver'] {
  if (!lease) return null;
  const alive = lease.host === hostname() ? isProcessAlive(lease.pid) : null;
  return { pid: lease.pid, host: lease.host, heartbeatAt: new Date(lease.heartbeatAt).toISOString(), alive };
}

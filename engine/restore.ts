import { rowHash } from '../store/rows.js';
import { snapshotsDigest } from '../store/snapshot-digest.js';
import type { EventStore, ResumeBase, StoredSnapshot } from '../store/types.js';
import { restoreSnapshot } from './pure.js';
import { lookupMachine, type Registry } from './registry.js';
import { applyRow, machineChanges, type ReplayedActor, type ReplayResult } from './replay.js';

/** A row of the chain: its seq and hash. */
export interface ChainPosition {
  seq: number;
  hash: string;
}

/**
 * A log loaded to be driven on: its actors, how far its chain was checked
 * (where a driver's checkpoints continue from), and the streams whose newest
 * snapshot is older than their last row.
 */
export interface LoadedLog extends ReplayResult {
  checked: ChainPosition;
  changed: ReadonlySet<string>;
}

/**
 * O(tail) resume (docs/design.md §3): rebuild the actors of an experiment
 * from its newest checkpoint, checking what it did not check before.
 *
 * The checkpoint says a driver checked (or wrote) the chain up to its row,
 * and recorded then a snapshot of each stream as of that row. It is used only
 * if that row is still there with the recorded hash, its text still hashes to
 * it, the experiment still has the recorded number of rows up to it, and the
 * snapshots are still those it recorded: as many as its streams, their record
 * hashes summing to its digest (store/snapshot-digest.ts). A stream starts
 * from its snapshot if the snapshot was made with today's definition of its
 * machine; one whose machine changed since is replayed from its first row. Every row after
 * the checkpoint is checked as verify checks it (chain, replay), then the
 * recorded head. Of the rows up to the checkpoint, only the checkpoint's is
 * read (and whether any was written by a newer expctl, which an index
 * answers): a row changed there outside expctl is found by `verify`, which
 * checks every row, not by a resume (checking the chain of 10^6 rows takes
 * seconds; docs/design.md §3).
 *
 * Returns null when there is no checkpoint or anything does not check out:
 * the caller verifies the whole log instead, which names the problem.
 */
export function restore(store: EventStore, registry: Registry, experiment: string): LoadedLog | null {
  const base = store.resumeBase(experiment);
  const head = store.head(experiment);
  if (!base || !head || !checkpointHolds(base)) return null;
  const actors = new Map<string, ReplayedActor>();
  const changed = new Set<string>();
  let rows = 0;
  let tail = 0;
  try {
    for (const snapshot of base.snapshots) {
      const from = startOf(registry, snapshot, base.checkpoint.seq);
      if (from === null) return null;
      if (from === 'replay') {
        for (const row of store.readStream(snapshot.stream, { toVersion: snapshot.version })) applyRow(registry, actors, row);
        changed.add(snapshot.stream);
        rows += snapshot.version;
      } else actors.set(from.stream, from);
    }
    let last: ChainPosition = base.checkpoint;
    for (const row of store.readExperiment(experiment, { fromSeq: base.checkpoint.seq + 1 })) {
      if (row.prevHash !== last.hash || rowHash(row.prevHash, row.raw) !== row.hash) return null;
      applyRow(registry, actors, row);
      changed.add(row.stream);
      last = row;
      rows += 1;
      tail += 1;
    }
    if (head.rows !== base.checkpoint.rows + tail || head.headSeq !== last.seq || head.headHash !== last.hash) return null;
    return { experiment, actors, rows, lastSeq: last.seq, machineChanges: machineChanges(actors), checked: { seq: last.seq, hash: last.hash }, changed };
  } catch {
    return null; // a row that does not decode or replay: verifyLog names it
  }
}

/**
 * The checkpoint's row is there, unchanged, as many rows lead up to it as it
 * recorded, and so do its snapshots; and no row was written by a newer
 * expctl (the one check of the rows before it that an index makes cheap).
 */
function checkpointHolds({ checkpoint, row, rows, newer, snapshots }: ResumeBase): boolean {
  return newer === null && row !== null && row.hash === checkpoint.hash && rowHash(row.prevHash, row) === row.hash && rows === checkpoint.rows
    && snapshots.length === checkpoint.streams && snapshotsDigest(snapshots) === checkpoint.digest;
}

/**
 * Where a stream with a snapshot starts: the actor the snapshot records, or
 * 'replay' (its machine's definition changed since: replay it from its first
 * row), or null (the snapshot does not check out).
 */
function startOf(registry: Registry, snapshot: StoredSnapshot, checkpointSeq: number): ReplayedActor | 'replay' | null {
  const entry = lookupMachine(registry, snapshot.machine, snapshot.stream);
  if (snapshot.createdSeq < 1 || snapshot.createdSeq > checkpointSeq || snapshot.version < 1) return null;
  if (snapshot.machine !== entry.ref) return 'replay';
  // its texts are its row's, as the driver that recorded it took them (engine/checkpoint.ts), and the digest says they are unchanged
  const resolved = restoreSnapshot(entry.machine, snapshot.state, JSON.parse(snapshot.context) as Record<string, unknown>);
  const { stream, version, parent, created, createdSeq, recordedMachine } = snapshot;
  return { stream, entry, snapshot: resolved, version, parent, created, createdSeq, recordedMachine };
}

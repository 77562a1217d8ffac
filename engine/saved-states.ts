import { snapshotsDigest } from '../store/snapshot-digest.js';
import type { Checkpoint, EventStore, StoredRow, StoredSnapshot } from '../store/types.js';
import { isEvent } from './events.js';
import type { VerifyProblem } from './verify-problem.js';

/**
 * verify's check of what a log stores besides its rows (docs/design.md §3):
 * every snapshot must be exactly its stream's row at its version (state and
 * context texts, snapshot hash, machine) and record the stream's first row
 * (parent, seq, time); every checkpoint must be a row of the chain with the
 * recorded hash and numbers of rows and streams up to it; and the newest one
 * must vouch for the snapshots there are (their digest). Each is checked as
 * its row passes, the rest at the end.
 */
export class SavedStates {
  private readonly byStream = new Map<string, StoredSnapshot>();
  private readonly checkpoints = new Map<number, Checkpoint>();
  private readonly newest: { checkpoint: Checkpoint; digest: string; snapshots: number } | null;

  constructor(store: EventStore, experiment: string) {
    const snapshots = store.snapshots(experiment);
    for (const snapshot of snapshots) this.byStream.set(snapshot.stream, snapshot);
    const checkpoints = store.checkpoints(experiment);
    for (const checkpoint of checkpoints) this.checkpoints.set(checkpoint.seq, checkpoint);
    const newest = checkpoints.at(-1);
    this.newest = newest ? { checkpoint: newest, digest: snapshotsDigest(snapshots), snapshots: snapshots.length } : null;
  }

  /** The row, verified and replayed, is the `rows`-th of the chain, with `streams` streams so far. */
  check(row: StoredRow, rows: number, streams: number): VerifyProblem | null {
    return this.snapshotProblem(row) ?? this.checkpointProblem(row, rows, streams);
  }

  private snapshotProblem(row: StoredRow): VerifyProblem | null {
    const snapshot = this.byStream.get(row.stream);
    if (!snapshot) return null;
    const problem = (what: string): VerifyProblem => ({ kind: 'snapshot', seq: row.seq, stream: row.stream, version: snapshot.version, message: `the stored snapshot of ${row.stream} at version ${snapshot.version} ${what} (row seq ${row.seq})` });
    if (row.version === 1) {
      const parent = isEvent(row.event, 'actor.created') ? row.event.data.parent : undefined;
      if (snapshot.parent !== parent || snapshot.createdSeq !== row.seq || snapshot.created !== row.at) return problem('does not record its stream\'s first row');
    }
    if (row.version !== snapshot.version) return null;
    this.byStream.delete(row.stream);
    const same = snapshot.state === row.raw.state && snapshot.context === row.raw.context && snapshot.snapshotHash === row.snapshotHash && snapshot.recordedMachine === row.machine;
    return same ? null : problem('does not match the replayed state');
  }

  private checkpointProblem(row: StoredRow, rows: number, streams: number): VerifyProblem | null {
    const checkpoint = this.checkpoints.get(row.seq);
    if (!checkpoint) return null;
    this.checkpoints.delete(row.seq);
    const at = { seq: row.seq, stream: row.stream, version: row.version };
    if (checkpoint.hash !== row.hash || checkpoint.rows !== rows || checkpoint.streams !== streams) {
      return { kind: 'checkpoint', ...at, message: `the checkpoint at row seq ${row.seq} records ${checkpoint.rows} rows in ${checkpoint.streams} streams ending in hash ${checkpoint.hash.slice(0, 12)}…; the chain has ${rows} rows in ${streams} streams ending in ${row.hash.slice(0, 12)}…` };
    }
    const newest = this.newest;
    if (newest?.checkpoint.seq === row.seq && (newest.digest !== checkpoint.digest || newest.snapshots !== checkpoint.streams)) {
      return { kind: 'checkpoint', ...at, message: `the snapshots are not those the checkpoint at row seq ${row.seq} recorded (${newest.snapshots} snapshots of its ${checkpoint.streams} streams, another digest)` };
    }
    return null;
  }

  /** Snapshots and checkpoints of rows the chain does not have. */
  unmatched(): VerifyProblem | null {
    const [snapshot] = this.byStream.values();
    if (snapshot) return { kind: 'snapshot', seq: null, stream: snapshot.stream, version: snapshot.version, message: `the stored snapshot of ${snapshot.stream} at version ${snapshot.version} is of a row the log does not have` };
    const [checkpoint] = this.checkpoints.values();
    if (checkpoint) return { kind: 'checkpoint', seq: checkpoint.seq, stream: null, version: null, message: `the checkpoint at row seq ${checkpoint.seq} is of a row the experiment does not have` };
    return null;
  }
}

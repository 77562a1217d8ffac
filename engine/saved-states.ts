import type { Checkpoint, EventStore, StoredRow, StoredSnapshot } from '../store/types.js';
import type { VerifyProblem } from './verify-problem.js';

/**
 * verify's check of what a log stores besides its rows (docs/design.md §3):
 * every snapshot must be exactly its stream's row at its version (state and
 * context texts, snapshot hash), every checkpoint a row of the chain with the
 * recorded hash and the recorded numbers of rows and streams up to it. Each
 * is checked as its row passes, the rest at the end.
 */
export class SavedStates {
  private readonly snapshots = new Map<string, StoredSnapshot>();
  private readonly checkpoints = new Map<number, Checkpoint>();

  constructor(store: EventStore, experiment: string) {
    for (const snapshot of store.snapshots(experiment)) this.snapshots.set(key(snapshot.stream, snapshot.version), snapshot);
    for (const checkpoint of store.checkpoints(experiment)) this.checkpoints.set(checkpoint.seq, checkpoint);
  }

  /** The row, verified and replayed, is the `rows`-th of the chain, with `streams` streams so far. */
  check(row: StoredRow, rows: number, streams: number): VerifyProblem | null {
    const at = { seq: row.seq, stream: row.stream, version: row.version };
    const snapshot = this.snapshots.get(key(row.stream, row.version));
    if (snapshot) {
      this.snapshots.delete(key(row.stream, row.version));
      const same = snapshot.state === row.raw.state && snapshot.context === row.raw.context && snapshot.snapshotHash === row.snapshotHash;
      if (!same) return { kind: 'snapshot', ...at, message: `the stored snapshot of ${row.stream} at version ${row.version} does not match the replayed state (its row seq ${row.seq})` };
    }
    const checkpoint = this.checkpoints.get(row.seq);
    if (checkpoint) {
      this.checkpoints.delete(row.seq);
      if (checkpoint.hash !== row.hash || checkpoint.rows !== rows || checkpoint.streams !== streams) {
        return { kind: 'checkpoint', ...at, message: `the checkpoint at row seq ${row.seq} records ${checkpoint.rows} rows in ${checkpoint.streams} streams ending in hash ${checkpoint.hash.slice(0, 12)}…; the chain has ${rows} rows in ${streams} streams ending in ${row.hash.slice(0, 12)}…` };
      }
    }
    return null;
  }

  /** Snapshots and checkpoints of rows the chain does not have. */
  unmatched(): VerifyProblem | null {
    const [snapshot] = this.snapshots.values();
    if (snapshot) return { kind: 'snapshot', seq: null, stream: snapshot.stream, version: snapshot.version, message: `the stored snapshot of ${snapshot.stream} at version ${snapshot.version} is of a row the log does not have` };
    const [checkpoint] = this.checkpoints.values();
    if (checkpoint) return { kind: 'checkpoint', seq: checkpoint.seq, stream: null, version: null, message: `the checkpoint at row seq ${checkpoint.seq} is of a row the experiment does not have` };
    return null;
  }
}

const key = (stream: string, version: number) => `${stream}\n${version}`;

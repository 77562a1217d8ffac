import { GENESIS_HASH } from '../store/rows.js';
import type { Checkpoint, EventStore, StoredRow, StoredSnapshot } from '../store/types.js';
import type { ReplayedActor } from './replay.js';
import type { ChainPosition } from './restore.js';
import { snapshotTexts } from './snapshot.js';

/** How often a drive records a checkpoint: every this many rows (and at its end). */
export const CHECKPOINT_EVERY = 1000;

/** Where a drive's checkpoints start: the chain checked so far, and the streams whose snapshot is behind. */
export interface CheckpointStart {
  checked: ChainPosition;
  changed: Iterable<string>;
  every?: number;
}

/** The chain of a new experiment, before its first row. */
export const GENESIS: ChainPosition = { seq: 0, hash: GENESIS_HASH };

/**
 * A drive's checkpoints (docs/design.md §3). A checkpoint vouches for the
 * chain up to its row, so only a driver that checked or wrote every row so far
 * records one: it starts from the position its load checked, and stops for
 * good if rows it did not write turn up (an append that does not continue
 * from its last row). With it, a snapshot of every stream changed since the
 * previous checkpoint: the snapshot is the stream's live state, which its
 * last row records.
 */
export class Checkpointer {
  private readonly changed: Set<string>;
  /** The last row this driver appended to each stream changed since the last checkpoint. */
  private readonly lastRows = new Map<string, StoredRow>();
  private position: ChainPosition | null;
  private since = 0;
  private readonly every: number;

  constructor(private readonly store: EventStore, private readonly experiment: string, start: CheckpointStart) {
    this.position = start.checked;
    this.changed = new Set(start.changed);
    this.every = start.every ?? CHECKPOINT_EVERY;
  }

  /** Rows just appended (one commit). */
  committed(rows: readonly StoredRow[]): void {
    if (!this.position || rows.length === 0) return;
    if (rows[0]!.prevHash !== this.position.hash) {
      this.position = null; // another writer's rows: this driver cannot vouch for the chain any more
      return;
    }
    for (const row of rows) {
      this.changed.add(row.stream);
      this.lastRows.set(row.stream, row);
    }
    const last = rows[rows.length - 1]!;
    this.position = { seq: last.seq, hash: last.hash };
    this.since += rows.length;
  }

  get due(): boolean {
    return this.position !== null && this.since >= this.every;
  }

  /** Record a checkpoint at the last row, if there is anything new to vouch for. */
  write(actors: ReadonlyMap<string, ReplayedActor>): Checkpoint | null {
    const at = this.position;
    if (!at || at.seq === 0 || (this.changed.size === 0 && this.since === 0)) return null;
    const snapshots = [...this.changed].map((stream) => snapshotOf(actors.get(stream)!, this.lastRows.get(stream)));
    const checkpoint = this.store.saveCheckpoint(this.experiment, { ...at, streams: actors.size }, snapshots);
    this.changed.clear();
    this.lastRows.clear();
    this.since = 0;
    return checkpoint;
  }
}

/**
 * An actor's snapshot as stored: what its last row records (that row's own
 * texts and hashes when this driver wrote it; else those of its replayed
 * snapshot, which the load checked are its row's), the definition that
 * computed or verified it, and its creation.
 */
export function snapshotOf(actor: ReplayedActor, last?: StoredRow): StoredSnapshot {
  if (last && last.version !== actor.version) throw new Error(`stream ${actor.stream} is at version ${actor.version}, its last row at ${last.version}; this is a bug`);
  const texts = last ? { state: last.raw.state, context: last.raw.context, hash: last.snapshotHash } : snapshotTexts(actor.snapshot);
  return {
    stream: actor.stream, version: actor.version, machine: actor.entry.ref, recordedMachine: last?.machine ?? actor.recordedMachine,
    state: texts.state, context: texts.context, snapshotHash: texts.hash, parent: actor.parent, createdSeq: actor.createdSeq, created: actor.created,
  };
}

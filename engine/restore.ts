import { decodeEvent, rowHash } from '../store/rows.js';
import type { EventCodec } from '../store/codec.js';
import type { ChainRow, EventStore, ResumeBase, StoredSnapshot } from '../store/types.js';
import { isEvent } from './events.js';
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
 * from its newest checkpoint, checking only what it did not check before.
 *
 * The checkpoint says a driver checked (or wrote) the chain up to its row. It
 * is used only if that row is still there with the recorded hash, its text
 * still hashes to it, and the experiment still has the recorded number of
 * rows and streams up to it. A stream starts from its snapshot only if the
 * snapshot was made with today's definition of its machine and is exactly its
 * row at that version (texts and snapshot hash), and that row and the
 * stream's first row (its parent and creation time) still hash to their
 * stored hashes; a stream whose machine changed is replayed from its first
 * row. Every row after the checkpoint is checked as verify checks it (chain,
 * replay); then the recorded head.
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
    for (const saved of base.snapshots) {
      const from = startOf(registry, store.codec, saved, base.checkpoint.seq);
      if (from === null) return null;
      if (from === 'replay') {
        for (const row of store.readStream(saved.snapshot.stream, { toVersion: saved.snapshot.version })) applyRow(registry, actors, row);
        changed.add(saved.snapshot.stream);
        rows += saved.snapshot.version;
      } else actors.set(from.stream, from);
    }
    if (actors.size !== base.checkpoint.streams) return null;
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

/** The checkpoint's row is there, unchanged, and as many rows lead up to it as it recorded. */
function checkpointHolds({ checkpoint, row, rows }: ResumeBase): boolean {
  return row !== null && row.hash === checkpoint.hash && intact(row) && rows === checkpoint.rows;
}

const intact = (row: ChainRow) => rowHash(row.prevHash, row) === row.hash;

/**
 * Where a stream with a snapshot starts: the actor the snapshot records, or
 * 'replay' (its machine's definition changed since: replay it from its first
 * row), or null (the snapshot or its rows do not check out).
 */
function startOf(registry: Registry, codec: EventCodec, { snapshot, row, first, nextSeq }: ResumeBase['snapshots'][number], checkpointSeq: number): ReplayedActor | 'replay' | null {
  const entry = lookupMachine(registry, snapshot.machine, snapshot.stream);
  // as of the checkpoint: its row at or before it, the stream's next row (if any) after it
  const current = row !== null && row.seq <= checkpointSeq && (nextSeq === null || nextSeq > checkpointSeq);
  if (!row || !first || !current || !matches(snapshot, row) || !intact(row) || (first.seq !== row.seq && !intact(first))) return null;
  if (snapshot.machine !== entry.ref) return 'replay';
  const created = decodeEvent(first.seq, first, codec);
  if (first.version !== 1 || !isEvent(created, 'actor.created')) return null;
  const value = JSON.parse(snapshot.state) as unknown;
  const context = JSON.parse(snapshot.context) as Record<string, unknown>;
  return {
    stream: snapshot.stream,
    entry,
    snapshot: entry.machine.resolveState({ value: value as never, context }),
    version: snapshot.version,
    parent: created.data.parent,
    created: first.at,
    recordedMachine: row.machine,
  };
}

/** A snapshot is exactly its stream's row at its version. */
const matches = (snapshot: StoredSnapshot, row: ChainRow) =>
  row.stream === snapshot.stream && row.version === snapshot.version && row.state === snapshot.state && row.context === snapshot.context && row.snapshotHash === snapshot.snapshotHash;

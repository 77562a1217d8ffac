import type { AnyEvent } from '../schemas/engine-events.js';
import type { EventCodec } from './codec.js';

export type { AnyEvent };

/** Why a row was written: what drove the transition. */
export type Cause = 'operator' | 'effect' | 'child' | 'timer' | 'engine';

/** JSON state value of a machine, as recorded after the transition. */
export type StateValue = string | { [key: string]: StateValue };

/** One transition to append: the domain event and the snapshot it led to. */
export interface AppendRow<E extends AnyEvent = AnyEvent> {
  stream: string;
  /** The stream's version before this row; 0 for a new stream. */
  expectedVersion: number;
  event: E;
  state: StateValue;
  context: unknown;
  snapshotHash: string;
  /** `id@version#hash` of the machine that computed `state`. */
  machine: string;
  /** Recorded wall-clock time (ISO 8601); never read back by a machine. */
  at: string;
  cause: Cause;
  /**
   * canonicalJson(state) and canonicalJson(context), when the caller has them
   * already (the engine's steps do: they hash them into `snapshotHash`).
   * Stored as given, so they must be exactly that; replay and verify compare
   * both with the replayed snapshot. Without them the store writes them.
   */
  texts?: { state: string; context: string };
}

/** A row as stored: the appended fields plus log metadata. */
export interface StoredRow<E extends AnyEvent = AnyEvent> extends Omit<AppendRow<E>, 'expectedVersion' | 'texts'> {
  /** Global order of the file. */
  seq: number;
  experiment: string;
  version: number;
  /** Schema version of `event` as written (the event itself is upcast to the current one). */
  schema: number;
  prevHash: string;
  hash: string;
  /** The exact stored texts the hash covers. */
  raw: RawRow;
}

/** The hashed, stored text form of a row (everything but `seq`, `prev_hash` and `hash`). */
export interface RawRow {
  experiment: string;
  stream: string;
  version: number;
  type: string;
  schema: number;
  data: string;
  state: string;
  context: string;
  snapshotHash: string;
  machine: string;
  at: string;
  cause: string;
}

/**
 * A row in its stored form with its hashes, as `export` writes it and
 * `importRows` takes it: the texts are the exact stored texts, so the hashes
 * recompute in any log.
 */
export interface ImportedRow extends RawRow {
  prevHash: string;
  hash: string;
}

export interface ExperimentHead {
  experiment: string;
  rows: number;
  headSeq: number;
  headHash: string;
}

/** A stream's latest recorded state (as of some row): what its last row says, without replaying it. */
export interface StreamState {
  stream: string;
  version: number;
  seq: number;
  /** `id@version#hash` of the machine that computed the state. */
  machine: string;
  state: StateValue;
  context: unknown;
  /** When the stream's first row (its creation) and its latest row were recorded (ISO 8601). */
  createdAt: string;
  at: string;
}

/** Every stream's latest state, and where the log stands (as of `toSeq`, or now). */
export interface LatestStates {
  streams: StreamState[];
  /** Rows of the experiment up to that point. */
  rows: number;
  /** The last of those rows (0 when there are none). */
  lastSeq: number;
}

export interface StreamInfo {
  stream: string;
  machine: string;
  version: number;
}

export interface LeaseHolder {
  /** Unique per driver process, so a re-acquire by the same driver is recognised. */
  id: string;
  pid: number;
  host: string;
  /** The holder's kernel start time, PID namespace and boot id, so a dead holder is recognised even where its pid was reused. */
  identity?: { startTicks: number | null; pidNs: string | null; bootId: string | null } | null;
}

export interface Lease extends LeaseHolder {
  experiment: string;
  startedAt: number;
  heartbeatAt: number;
}

export interface LeaseOptions {
  /** A lease whose heartbeat is older than this is stale (ms). */
  staleAfterMs: number;
}

export interface LeaseAcquired {
  lease: Lease;
  /** The stale lease that was taken over, if any: the caller records the takeover as an event. */
  takenOver: Lease | null;
}

/**
 * A snapshot of a stream at a version, for O(tail) resume: the stored texts
 * of its state and context, its snapshot hash and its machine, which are
 * those of its row at that version; the machine (`id@version#hash`) it was
 * computed or verified with (after a compatible change, not the row's); and
 * the stream's parent and creation, which are its first row's.
 */
export interface StoredSnapshot {
  stream: string;
  version: number;
  /** The definition that computed, or replayed, the stream up to here. */
  machine: string;
  /** The machine its row records. */
  recordedMachine: string;
  state: string;
  context: string;
  snapshotHash: string;
  parent: string | null;
  /** The seq and recorded time of the stream's first row. */
  createdSeq: number;
  created: string;
}

/**
 * The hash chain of an experiment up to row `seq` (`rows` rows, the last
 * with hash `hash`) was checked, or written, by the driver that recorded it;
 * each of the experiment's `streams` streams had a snapshot as of that row
 * then (recorded with it, or with an earlier checkpoint).
 */
export interface Checkpoint {
  experiment: string;
  seq: number;
  hash: string;
  rows: number;
  streams: number;
  /** The sum of the record hashes of the streams' snapshots then (store/snapshot-digest.ts). */
  digest: string;
}

/** Where a checkpoint is recorded: a row of the experiment (its seq and hash), and how many streams it has by then. */
export interface CheckpointAt {
  seq: number;
  hash: string;
  streams: number;
}

/** A row's stored texts and hashes, with its seq: what a hash-chain check needs. */
export interface ChainRow extends ImportedRow {
  seq: number;
}

/** What an O(tail) resume starts from: the newest checkpoint and what the log holds for it, as stored (nothing checked yet). */
export interface ResumeBase {
  checkpoint: Checkpoint;
  /** The experiment's row at the checkpoint's seq (null when there is none). */
  row: ChainRow | null;
  /** How many rows of the experiment there are up to that seq. */
  rows: number;
  /** The first row of the experiment written with a newer event schema than the store's codec reads (null: none). */
  newer: { seq: number; stream: string; version: number } | null;
  /** The snapshots of the experiment's streams, in the order the streams were created. */
  snapshots: StoredSnapshot[];
}

export interface SeqRange {
  fromSeq?: number;
  toSeq?: number;
}

export interface VersionRange {
  fromVersion?: number;
  toVersion?: number;
}

/** A row's event and where it happened, without its state and context (results read only events). */
export type EventRow<E extends AnyEvent = AnyEvent> = Pick<StoredRow<E>, 'seq' | 'stream' | 'version' | 'event' | 'at' | 'cause' | 'machine'>;

/** A row's event, the state it led to and its context as stored (JSON text, parsed only if needed), without its hashes: what coverage reads. */
export type TransitionRow<E extends AnyEvent = AnyEvent> = EventRow<E> & Pick<StoredRow<E>, 'state'> & { contextText: string };

/** A row's recorded outcome without its event: what the read commands show (no event decoding, no replay). */
export interface StateRow {
  seq: number;
  stream: string;
  version: number;
  type: string;
  at: string;
  machine: string;
  state: StateValue;
  context: unknown;
}

/** Which rows of an experiment to read, filtered and ordered by the database. */
export interface RowQuery extends SeqRange {
  /** These streams and the streams below them (`exp/T0` matches `exp/T0/a/1`). */
  streams?: readonly string[];
  /** Event types: exact, or a prefix ending in "*" (`effect.*` matches `effect.failed`). */
  types?: readonly string[];
  /** Only rows whose event data has this top-level field equal to one of these strings. */
  dataField?: { field: string; values: readonly string[] };
  /** Newest first (with `limit`: the last N matching rows). */
  newestFirst?: boolean;
  limit?: number;
}

/**
 * The event log. Synchronous, like better-sqlite3. Every implementation passes
 * test/store/store.contract.ts. `E` is the event union of the machines whose
 * log it is; its codec checks every event on append and on read.
 */
export interface AppendOptions {
  /**
   * True (default): the rows are on disk when append returns (a durable log
   * fsyncs). False: they are committed and seen by every reader, and survive
   * the process dying, but reach the disk with the next durable append,
   * checkpoint or close: a power loss before then may lose them, never the
   * log's consistency (a group commit: docs/design.md, I1).
   */
  durable?: boolean;
}

export interface EventStore<E extends AnyEvent = AnyEvent> {
  /** Where the log lives (a file path, or ":memory:"). */
  readonly location: string;
  /** How events are checked and upcast (the current event schema is `codec.version`). */
  readonly codec: EventCodec<E>;
  /**
   * Append rows atomically, all or nothing. Each row's `expectedVersion` must be
   * its stream's current version (counting earlier rows of the same call).
   * Any event may be offered; the codec refuses one that is not an `E`.
   */
  append(experiment: string, rows: readonly AppendRow[], options?: AppendOptions): StoredRow<E>[];
  /**
   * Add a whole experiment copied from another log (its rows in seq order,
   * hashes included), atomically, all or nothing. The experiment must not exist
   * in this log yet. Checks the hash chain, per-stream versions, that every row
   * belongs to `experiment`, and that every event decodes; throws ImportError
   * naming the row (1-based) otherwise, having written nothing. Seq numbers are
   * this log's own; the head is recorded as for appends.
   */
  importRows(experiment: string, rows: readonly ImportedRow[]): StoredRow<E>[];
  readStream(stream: string, range?: VersionRange): StoredRow<E>[];
  /** Every row of an experiment in `seq` order, lazily. */
  readExperiment(experiment: string, range?: SeqRange): IterableIterator<StoredRow<E>>;
  /** The rows of an experiment that `query` selects, decoded, lazily. */
  readRows(experiment: string, query: RowQuery): IterableIterator<StoredRow<E>>;
  /** As readRows, only the events (decoded and checked as always) and where they happened: less to read. */
  readEvents(experiment: string, query: RowQuery): IterableIterator<EventRow<E>>;
  /** As readEvents, with the state each row led to and its context's stored text. */
  readTransitions(experiment: string, query: RowQuery): IterableIterator<TransitionRow<E>>;
  /**
   * Every row of an experiment in `seq` order with its recorded state and
   * context, but not its event (no decoding). Throws CorruptRowError for a row
   * of a newer event schema, or a state that cannot be read.
   */
  readStates(experiment: string, range?: SeqRange): IterableIterator<StateRow>;
  streamVersion(stream: string): number;
  /**
   * The latest state of every stream of an experiment, read from the rows the
   * log records (each row carries its state and context): no replay, no
   * event decoding. Streams in creation order. Throws CorruptRowError if a row
   * up to `toSeq` was written with a newer event schema, or a state cannot be
   * read. Full verification is verifyLog's job.
   */
  latestStates(experiment: string, toSeq?: number): LatestStates;
  /**
   * The rows of an experiment that record the end of one of the named effects
   * (`effect.completed` and `effect.failed`), up to `toSeq`, in seq order:
   * what the read commands need of the outcomes without reading every row
   * (nor the state, context and hashes of these).
   */
  readEffectRows(experiment: string, effects: readonly string[], toSeq?: number): EventRow<E>[];
  streams(experiment: string): StreamInfo[];
  experiments(): ExperimentHead[];
  head(experiment: string): ExperimentHead | null;
  acquireLease(experiment: string, holder: LeaseHolder, options: LeaseOptions): LeaseAcquired;
  /** Refresh the holder's heartbeat; throws LeaseLostError if another driver holds the lease now. */
  heartbeat(experiment: string, holderId: string): void;
  releaseLease(experiment: string, holderId: string): void;
  readLease(experiment: string): Lease | null;
  /**
   * Record a checkpoint at row `at` of the experiment (which must be one of
   * its rows, with that hash) with snapshots of the streams changed since the
   * previous one, atomically. A stream keeps only its newest snapshot.
   */
  saveCheckpoint(experiment: string, at: CheckpointAt, snapshots: readonly StoredSnapshot[]): Checkpoint;
  /** The checkpoints of an experiment, oldest first. */
  checkpoints(experiment: string): Checkpoint[];
  /** The snapshots of an experiment's streams, in stream order. */
  snapshots(experiment: string): StoredSnapshot[];
  /** What an O(tail) resume of the experiment starts from; null without a checkpoint. */
  resumeBase(experiment: string): ResumeBase | null;
  close(): void;
}

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
}

/** A row as stored: the appended fields plus log metadata. */
export interface StoredRow<E extends AnyEvent = AnyEvent> extends Omit<AppendRow<E>, 'expectedVersion'> {
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

/** A persisted snapshot of a stream at a version, for O(tail) resume; always re-checked by verify. */
export interface StoredSnapshot {
  stream: string;
  version: number;
  machine: string;
  state: StateValue;
  context: unknown;
  snapshotHash: string;
}

export interface SeqRange {
  fromSeq?: number;
  toSeq?: number;
}

export interface VersionRange {
  fromVersion?: number;
  toVersion?: number;
}

/**
 * The event log. Synchronous, like better-sqlite3. Every implementation passes
 * test/store/store.contract.ts. `E` is the event union of the machines whose
 * log it is; its codec checks every event on append and on read.
 */
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
  append(experiment: string, rows: readonly AppendRow[]): StoredRow<E>[];
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
   * what the read commands need of the outcomes without reading every row.
   */
  readEffectRows(experiment: string, effects: readonly string[], toSeq?: number): StoredRow<E>[];
  streams(experiment: string): StreamInfo[];
  experiments(): ExperimentHead[];
  head(experiment: string): ExperimentHead | null;
  acquireLease(experiment: string, holder: LeaseHolder, options: LeaseOptions): LeaseAcquired;
  /** Refresh the holder's heartbeat; throws LeaseLostError if another driver holds the lease now. */
  heartbeat(experiment: string, holderId: string): void;
  releaseLease(experiment: string, holderId: string): void;
  readLease(experiment: string): Lease | null;
  saveSnapshot(snapshot: StoredSnapshot): void;
  /** The newest snapshot of a stream at or before `atOrBefore` (a version). */
  latestSnapshot(stream: string, atOrBefore?: number): StoredSnapshot | null;
  snapshots(stream: string): StoredSnapshot[];
  close(): void;
}

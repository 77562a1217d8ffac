import type Database from 'better-sqlite3';
import { ANY_EVENT_CODEC, type EventCodec } from './codec.js';
import { InvalidAppendError, LeaseLostError } from './errors.js';
import { planImport } from './import-rows.js';
import { newerSchemaError, parseLatest, parseState, parseStateRow, type LatestRow } from './latest.js';
import { leaseDecision, systemLeaseEnvironment, type LeaseEnvironment } from './lease-policy.js';
import { decodeEvent, decodeRow, planAppend, type PlannedRow } from './rows.js';
import { layoutVersion, migrate, openDatabase } from './sqlite-open.js';
import { CHAIN_COLUMNS, EVENT_COLUMNS, eventCells, rowQuerySql, TRANSITION_COLUMNS, rowRecord, StatementCache, streamRange, type RowRecord } from './sqlite-sql.js';
import { prepareStatements, prepareCheckpointStatements, resumeBaseOf, toSnapshot, type CheckpointStatements, type Statements } from './sqlite-statements.js';
import { moveDigest, snapshotRecordHash, snapshotsDigest } from './snapshot-digest.js';
import { WriteCache } from './write-cache.js';
import type {
  AnyEvent, AppendOptions, AppendRow, CheckpointAt, Checkpoint, EventRow, TransitionRow, EventStore, ExperimentHead, ImportedRow, LatestStates, Lease, LeaseAcquired, LeaseHolder, LeaseOptions,
  ResumeBase, RowQuery, SeqRange, StateRow, StoredRow, StoredSnapshot, StreamInfo, VersionRange,
} from './types.js';

export interface SqliteStoreOptions<E extends AnyEvent = AnyEvent> {
  /** How events are checked on append and read (default: any `{ type, data }`). */
  codec?: EventCodec<E>;
  /** I8: FULL (default) survives power loss at every commit; NORMAL may lose the last commits, never consistency. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Open for reading only: never creates or changes the file. */
  readonly?: boolean;
  /** Create the log when the file is missing or empty (default); false: such a file is refused. */
  create?: boolean;
  /** Clock, host and pid liveness for leases (tests replace them). */
  leaseEnvironment?: LeaseEnvironment;
}

const PAGE = 5000;

/** The columns of the latest statement, in order. */
type LatestCells = [string, number, number, string, string, string, string, string];
const LAST = Number.MAX_SAFE_INTEGER;

/**
 * Open (or create) the event log at `file`. A file that is not an expctl log is
 * refused and left untouched.
 *
 * @example const store = openStore('results/expctl.db'); store.append('demo', rows); store.close();
 */
export function openStore<E extends AnyEvent = AnyEvent>(file: string, options: SqliteStoreOptions<E> = {}): EventStore<E> {
  return new SqliteStore<E>(file, options);
}

type Plan<E extends AnyEvent> = (head: ExperimentHead | null, version: (stream: string) => number) => PlannedRow<E>[];

class SqliteStore<E extends AnyEvent> implements EventStore<E> {
  readonly location: string;
  readonly codec: EventCodec<E>;
  private readonly db: Database.Database;
  private readonly env: LeaseEnvironment;
  private readonly stmt: Statements;
  private readonly queries: StatementCache;
  private readonly cache: WriteCache;
  /** Null while the file has no checkpoints table (a log of layout version 1 not written to yet). */
  private checkpointStmt: CheckpointStatements | null;
  private readonly writeRows: Database.Transaction<(experiment: string, plan: Plan<E>) => PlannedRow<E>[]>;
  /** The durability the log was opened with, and the one the connection has now (see sync). */
  private readonly synchronous: 'FULL' | 'NORMAL';
  private syncMode: 'FULL' | 'NORMAL';

  constructor(file: string, options: SqliteStoreOptions<E>) {
    this.location = file;
    this.codec = options.codec ?? (ANY_EVENT_CODEC as EventCodec<E>);
    this.env = options.leaseEnvironment ?? systemLeaseEnvironment;
    this.db = openDatabase(file, options);
    this.synchronous = options.synchronous ?? 'FULL';
    this.syncMode = this.synchronous;
    this.stmt = prepareStatements(this.db);
    this.queries = new StatementCache(this.db);
    this.cache = new WriteCache(() => this.stmt.dataVersion.get() as number);
    this.checkpointStmt = layoutVersion(this.db) >= 2 ? prepareCheckpointStatements(this.db) : null;
    this.writeRows = this.db.transaction((experiment: string, plan: Plan<E>) => this.insert(experiment, plan));
  }

  append(experiment: string, rows: readonly AppendRow[], options: AppendOptions = {}): StoredRow<E>[] {
    if (rows.length === 0) return [];
    return this.write(experiment, (head, version) => planAppend(experiment, rows, version, head?.headHash ?? null, this.codec), options.durable ?? true);
  }

  importRows(experiment: string, rows: readonly ImportedRow[]): StoredRow<E>[] {
    return this.write(experiment, (head, version) => planImport(experiment, rows, { exists: head !== null, currentVersion: version }, this.codec));
  }

  /** Plan inside one IMMEDIATE transaction (reads see no other writer), insert, move the head: all or nothing. */
  private write(experiment: string, plan: Plan<E>, durable = true): StoredRow<E>[] {
    this.ensureCurrentLayout();
    this.sync(durable);
    const planned = this.writeRows.immediate(experiment, plan);
    this.cache.committed(experiment, planned.map((p) => p.stored));
    return planned.map((p) => p.stored);
  }

  private insert(experiment: string, plan: Plan<E>): PlannedRow<E>[] {
    this.cache.check();
    const head = this.cache.head(experiment, () => this.head(experiment));
    const planned = plan(head, (stream) => this.cache.version(stream, () => this.streamVersion(stream)));
    for (const { raw, prevHash, hash, stored } of planned) {
      const { lastInsertRowid } = this.stmt.insert.run(raw.experiment, raw.stream, raw.version, raw.type, raw.schema, raw.data, raw.state, raw.context, raw.snapshotHash, raw.machine, raw.at, raw.cause, prevHash, hash);
      stored.seq = Number(lastInsertRowid);
    }
    const last = planned[planned.length - 1]!.stored;
    if (head) this.stmt.moveHead.run(planned.length, last.seq, last.hash, experiment);
    else this.stmt.newHead.run(experiment, planned.length, last.seq, last.hash);
    return planned;
  }

  /**
   * Whether the next commit waits for the disk. In WAL mode NORMAL writes the
   * commit to the WAL without fsync; the next FULL commit fsyncs the WAL file,
   * taking every earlier commit to the disk with it. A log opened NORMAL stays so.
   */
  private sync(durable: boolean): void {
    const mode = durable ? this.synchronous : 'NORMAL';
    if (mode === this.syncMode) return;
    this.db.pragma(`synchronous = ${mode}`);
    this.syncMode = mode;
  }

  /** The first write to a log of an earlier layout brings it to this one (reads never change a file). */
  private ensureCurrentLayout(): void {
    if (this.checkpointStmt) return;
    migrate(this.db);
    this.checkpointStmt = prepareCheckpointStatements(this.db);
  }

  readStream(stream: string, range: VersionRange = {}): StoredRow<E>[] {
    return this.stmt.stream.all(stream, range.fromVersion ?? 1, range.toVersion ?? LAST).map((cells) => this.decode(rowRecord(cells as unknown[])!));
  }

  readExperiment(experiment: string, range: SeqRange = {}): IterableIterator<StoredRow<E>> {
    return this.readRows(experiment, range);
  }

  readRows(experiment: string, query: RowQuery): IterableIterator<StoredRow<E>> {
    return this.query(experiment, query, CHAIN_COLUMNS, (cells) => this.decode(rowRecord(cells)!));
  }

  readEvents(experiment: string, query: RowQuery): IterableIterator<EventRow<E>> {
    return this.query(experiment, query, EVENT_COLUMNS, (cells) => this.eventRow(eventCells(cells)));
  }

  readTransitions(experiment: string, query: RowQuery): IterableIterator<TransitionRow<E>> {
    return this.query(experiment, query, TRANSITION_COLUMNS, (cells) => {
      const row = eventCells(cells);
      const event = this.eventRow(row) as TransitionRow<E>;
      event.state = parseState(row);
      event.contextText = row.context;
      return event;
    });
  }

  private eventRow(row: ReturnType<typeof eventCells>): EventRow<E> {
    return { seq: row.seq, stream: row.stream, version: row.version, event: decodeEvent(row.seq, row, this.codec), at: row.at, cause: row.cause as EventRow['cause'], machine: row.machine };
  }

  /** The rows `query` selects, page by page (seq is the first column). */
  private *query<T>(experiment: string, query: RowQuery, columns: string, read: (cells: unknown[]) => T): IterableIterator<T> {
    const { sql, params } = rowQuerySql(query, columns);
    const statement = this.queries.get(sql);
    const [low, high] = [(query.fromSeq ?? 1) - 1, query.toSeq ?? LAST];
    let bound = query.newestFirst ? high + 1 : low;
    let left = query.limit ?? Infinity;
    while (left > 0) {
      const page = statement.all(experiment, bound, query.newestFirst ? low + 1 : high, ...params, Math.min(PAGE, left)) as unknown[][];
      for (const cells of page) yield read(cells);
      left -= page.length;
      if (page.length < PAGE) return;
      bound = page[page.length - 1]![0] as number;
    }
  }

  *readStates(experiment: string, range: SeqRange = {}): IterableIterator<StateRow> {
    let after = (range.fromSeq ?? 1) - 1;
    const to = range.toSeq ?? LAST;
    for (;;) {
      const page = this.stmt.states.all(experiment, after, to, PAGE) as (LatestRow & { type: string; at: string; schema: number })[];
      for (const row of page) yield parseStateRow(row, this.codec.version);
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.seq;
    }
  }

  streamVersion(stream: string): number {
    return (this.stmt.version.get(stream) as { version: number } | undefined)?.version ?? 0;
  }

  latestStates(experiment: string, toSeq = LAST): LatestStates {
    const newer = this.stmt.newerSchema.get(experiment, this.codec.version, toSeq) as { seq: number; stream: string; version: number; schema: number } | undefined;
    if (newer) throw newerSchemaError(newer, this.codec.version);
    const [own, from, below] = streamRange(experiment);
    // arrays, not objects with named keys: a stream each, 10^4 of them in a big experiment
    const records = (this.stmt.latest.all(own, toSeq, from, below, toSeq) as LatestCells[]).map(([stream, version, seq, machine, state, context, at, createdAt]): LatestRow => ({ stream, version, seq, machine, state, context, at, createdAt }));
    const { n } = this.stmt.count.get(experiment, toSeq) as { n: number };
    return { streams: records.map(parseLatest), rows: n, lastSeq: records.reduce((max, r) => Math.max(max, r.seq), 0) };
  }

  readEffectRows(experiment: string, effects: readonly string[], toSeq = Number.MAX_SAFE_INTEGER): EventRow<E>[] {
    return (this.stmt.effectRows.all(experiment, toSeq, JSON.stringify(effects)) as unknown[][]).map((cells) => this.eventRow(eventCells(cells)));
  }

  streams(experiment: string): StreamInfo[] {
    return this.stmt.streams.all(...streamRange(experiment)) as StreamInfo[];
  }

  experiments(): ExperimentHead[] {
    return (this.stmt.heads.all() as HeadRecord[]).map(toHead);
  }

  head(experiment: string): ExperimentHead | null {
    const head = this.stmt.head.get(experiment) as HeadRecord | undefined;
    return head ? toHead(head) : null;
  }

  acquireLease(experiment: string, holder: LeaseHolder, options: LeaseOptions): LeaseAcquired {
    this.ensureCurrentLayout();
    this.sync(true);
    return this.db
      .transaction(() => {
        const current = this.readLease(experiment);
        const takenOver = leaseDecision(current, holder, options, this.env);
        const now = this.env.now();
        const startedAt = current && current.id === holder.id ? current.startedAt : now;
        this.checkpointStmt!.putLease.run(experiment, holder.id, holder.pid, holder.host, startedAt, now, holder.identity ? JSON.stringify(holder.identity) : null);
        return { lease: { ...holder, experiment, startedAt, heartbeatAt: now }, takenOver };
      })
      .immediate();
  }

  heartbeat(experiment: string, holderId: string): void {
    const changed = this.stmt.beat.run(this.env.now(), experiment, holderId).changes;
    if (changed === 0) throw new LeaseLostError(experiment, this.readLease(experiment));
  }

  releaseLease(experiment: string, holderId: string): void {
    this.stmt.release.run(experiment, holderId);
  }

  readLease(experiment: string): Lease | null {
    const row = this.stmt.lease.get(experiment) as { holder: string; pid: number; host: string; started_at: number; heartbeat_at: number; identity?: string | null } | undefined;
    if (!row) return null;
    return { experiment, id: row.holder, pid: row.pid, host: row.host, startedAt: row.started_at, heartbeatAt: row.heartbeat_at, identity: row.identity ? (JSON.parse(row.identity) as Lease['identity']) : null };
  }

  saveCheckpoint(experiment: string, at: CheckpointAt, snapshots: readonly StoredSnapshot[]): Checkpoint {
    this.ensureCurrentLayout();
    this.sync(true);
    const stmt = this.checkpointStmt!;
    return this.db.transaction(() => {
      const row = this.stmt.rowAt.get(at.seq, experiment) as { hash: string } | undefined;
      if (row?.hash !== at.hash) throw new InvalidAppendError(`a checkpoint of ${experiment} at seq ${at.seq} does not match the log: ${row ? 'that row has another hash' : 'it has no such row'}`);
      const head = this.head(experiment)!;
      const rows = head.headSeq === at.seq ? head.rows : (this.stmt.count.get(experiment, at.seq) as { n: number }).n;
      const previous = (stmt.latestCheckpoint.get(experiment) as Checkpoint | undefined)?.digest ?? snapshotsDigest(this.snapshots(experiment));
      const added: string[] = [];
      const removed: string[] = [];
      for (const s of snapshots) {
        for (const old of stmt.streamSnapshots.all(s.stream) as unknown[][]) removed.push((old[10] as string | null) ?? snapshotRecordHash(toSnapshot(old)));
        stmt.dropSnapshots.run(s.stream);
        const record = snapshotRecordHash(s);
        stmt.putSnapshot.run(s.stream, s.version, s.machine, s.state, s.context, s.snapshotHash, s.recordedMachine, s.parent, s.createdSeq, s.created, record);
        added.push(record);
      }
      const checkpoint = { experiment, seq: at.seq, hash: at.hash, rows, streams: at.streams, digest: moveDigest(previous, added, removed) };
      stmt.putCheckpoint.run(experiment, at.seq, at.hash, rows, at.streams, checkpoint.digest);
      return checkpoint;
    }).immediate();
  }

  checkpoints(experiment: string): Checkpoint[] {
    return (this.checkpointStmt?.checkpoints.all(experiment) as Checkpoint[] | undefined) ?? [];
  }

  snapshots(experiment: string): StoredSnapshot[] {
    // a log of layout 1 has no snapshot a resume can use
    return ((this.checkpointStmt?.snapshots.all(...streamRange(experiment)) ?? []) as unknown[][]).map((cells) => toSnapshot(cells));
  }

  resumeBase(experiment: string): ResumeBase | null {
    return this.checkpointStmt ? resumeBaseOf(this.stmt, this.checkpointStmt, experiment, this.codec.version) : null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private decode(record: RowRecord): StoredRow<E> {
    return decodeRow(record.seq, record.raw, record.prevHash, record.hash, this.codec);
  }
}

interface HeadRecord { experiment: string; rows: number; head_seq: number; head_hash: string }

function toHead(row: HeadRecord): ExperimentHead {
  return { experiment: row.experiment, rows: row.rows, headSeq: row.head_seq, headHash: row.head_hash };
}

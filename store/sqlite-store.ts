import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '../util/canonical-json.js';
import { ANY_EVENT_CODEC, type EventCodec } from './codec.js';
import { LeaseLostError, StoreOpenError } from './errors.js';
import { newerSchemaError, parseLatest } from './latest.js';
import { leaseDecision, systemLeaseEnvironment, type LeaseEnvironment } from './lease-policy.js';
import { planImport } from './import-rows.js';
import { decodeRow, planAppend, rawOf, type PlannedRow } from './rows.js';
import { APPLICATION_ID, CREATE_SCHEMA, REQUIRED_TABLES, STORE_SCHEMA_VERSION } from './sqlite-schema.js';
import type {
  AnyEvent, AppendRow, EventStore, ExperimentHead, ImportedRow, LatestStates, Lease, LeaseAcquired, LeaseHolder, LeaseOptions,
  RawRow, SeqRange, StoredRow, StoredSnapshot, StreamInfo, VersionRange,
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

/** A row as selected (columns aliased to the RawRow field names). */
interface EventRecord extends RawRow {
  seq: number;
  prevHash: string;
  hash: string;
}

const ROW_COLUMNS = 'seq, experiment, stream, version, type, schema, data, state, context, snapshot_hash AS snapshotHash, machine, at, cause, prev_hash AS prevHash, hash';

const PAGE = 5000;

/**
 * Open (or create) the event log at `file`. A file that is not an expctl log is
 * refused and left untouched.
 *
 * @example const store = openStore('results/expctl.db'); store.append('demo', rows); store.close();
 */
export function openStore<E extends AnyEvent = AnyEvent>(file: string, options: SqliteStoreOptions<E> = {}): EventStore<E> {
  return new SqliteStore<E>(file, options);
}

class SqliteStore<E extends AnyEvent> implements EventStore<E> {
  readonly location: string;
  readonly codec: EventCodec<E>;
  private readonly db: Database.Database;
  private readonly env: LeaseEnvironment;
  private readonly stmt: ReturnType<SqliteStore<E>['prepare']>;

  constructor(file: string, options: SqliteStoreOptions<E>) {
    this.location = file;
    this.codec = options.codec ?? (ANY_EVENT_CODEC as EventCodec<E>);
    this.env = options.leaseEnvironment ?? systemLeaseEnvironment;
    this.db = openDatabase(file, options);
    this.stmt = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      version: db.prepare<[string], { version: number }>('SELECT version FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1'),
      head: db.prepare<[string], { experiment: string; rows: number; head_seq: number; head_hash: string }>('SELECT * FROM heads WHERE experiment = ?'),
      heads: db.prepare<[], { experiment: string; rows: number; head_seq: number; head_hash: string }>('SELECT * FROM heads ORDER BY experiment'),
      insert: db.prepare(`INSERT INTO events (experiment, stream, version, type, schema, data, state, context, snapshot_hash, machine, at, cause, prev_hash, hash)
        VALUES (@experiment, @stream, @version, @type, @schema, @data, @state, @context, @snapshotHash, @machine, @at, @cause, @prevHash, @hash)`),
      setHead: db.prepare(`INSERT INTO heads (experiment, rows, head_seq, head_hash) VALUES (?, ?, ?, ?)
        ON CONFLICT (experiment) DO UPDATE SET rows = rows + excluded.rows, head_seq = excluded.head_seq, head_hash = excluded.head_hash`),
      stream: db.prepare<[string, number, number], EventRecord>(`SELECT ${ROW_COLUMNS} FROM events WHERE stream = ? AND version BETWEEN ? AND ? ORDER BY version`),
      page: db.prepare<[string, number, number, number], EventRecord>(`SELECT ${ROW_COLUMNS} FROM events WHERE experiment = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`),
      latest: db.prepare<[string, number], LatestRecord>(`WITH last AS (
          SELECT stream, MIN(seq) AS first, MAX(seq) AS seq, COUNT(*) AS n FROM events WHERE experiment = ? AND seq <= ? GROUP BY stream)
        SELECT e.stream, e.version, e.seq, e.machine, e.state, e.context, e.at, f.at AS createdAt, last.n
        FROM last JOIN events e ON e.seq = last.seq JOIN events f ON f.seq = last.first ORDER BY last.first`),
      effectRows: db.prepare<[string, number, string], EventRecord>(`SELECT ${ROW_COLUMNS} FROM events
        WHERE experiment = ? AND seq <= ? AND type IN ('effect.completed', 'effect.failed')
          AND json_extract(data, '$.effect') IN (SELECT value FROM json_each(?)) ORDER BY seq`),
      newerSchema: db.prepare<[string, number, number], { seq: number; stream: string; version: number; schema: number }>(
        'SELECT seq, stream, version, schema FROM events WHERE experiment = ? AND seq <= ? AND schema > ? ORDER BY seq LIMIT 1'),
      streams: db.prepare<[string], StreamInfo>(`SELECT stream, MAX(version) AS version,
        (SELECT machine FROM events f WHERE f.stream = e.stream AND f.version = 1) AS machine
        FROM events e WHERE experiment = ? GROUP BY stream ORDER BY MIN(seq)`),
      lease: db.prepare<[string], { experiment: string; holder: string; pid: number; host: string; started_at: number; heartbeat_at: number; identity?: string | null }>('SELECT * FROM leases WHERE experiment = ?'),
      putLease: db.prepare('INSERT OR REPLACE INTO leases (experiment, holder, pid, host, started_at, heartbeat_at, identity) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      beat: db.prepare('UPDATE leases SET heartbeat_at = ? WHERE experiment = ? AND holder = ?'),
      release: db.prepare('DELETE FROM leases WHERE experiment = ? AND holder = ?'),
      putSnapshot: db.prepare('INSERT OR REPLACE INTO snapshots (stream, version, machine, state, context, snapshot_hash) VALUES (?, ?, ?, ?, ?, ?)'),
      snapshot: db.prepare<[string, number], SnapshotRecord>('SELECT * FROM snapshots WHERE stream = ? AND version <= ? ORDER BY version DESC LIMIT 1'),
      snapshots: db.prepare<[string], SnapshotRecord>('SELECT * FROM snapshots WHERE stream = ? ORDER BY version'),
    };
  }

  append(experiment: string, rows: readonly AppendRow[]): StoredRow<E>[] {
    if (rows.length === 0) return [];
    return this.write(experiment, (head) => planAppend(experiment, rows, (s) => this.streamVersion(s), head?.head_hash ?? null, this.codec));
  }

  importRows(experiment: string, rows: readonly ImportedRow[]): StoredRow<E>[] {
    return this.write(experiment, (head) => planImport(experiment, rows, { exists: head !== undefined, currentVersion: (s) => this.streamVersion(s) }, this.codec));
  }

  /** Plan inside one IMMEDIATE transaction (reads see no other writer), insert, move the head: all or nothing. */
  private write(experiment: string, plan: (head: { head_hash: string } | undefined) => PlannedRow<E>[]): StoredRow<E>[] {
    const write = this.db.transaction(() => {
      const planned = plan(this.stmt.head.get(experiment));
      const stored = planned.map(({ raw, prevHash, hash, stored }) =>
        stored(Number(this.stmt.insert.run({ ...raw, prevHash, hash }).lastInsertRowid)),
      );
      const last = stored[stored.length - 1]!;
      this.stmt.setHead.run(experiment, stored.length, last.seq, last.hash);
      return stored;
    });
    return write.immediate();
  }

  readStream(stream: string, range: VersionRange = {}): StoredRow<E>[] {
    return this.stmt.stream.all(stream, range.fromVersion ?? 1, range.toVersion ?? Number.MAX_SAFE_INTEGER).map((r) => this.decode(r));
  }

  *readExperiment(experiment: string, range: SeqRange = {}): IterableIterator<StoredRow<E>> {
    let after = (range.fromSeq ?? 1) - 1;
    const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const page = this.stmt.page.all(experiment, after, to, PAGE);
      for (const record of page) yield this.decode(record);
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.seq;
    }
  }

  streamVersion(stream: string): number {
    return this.stmt.version.get(stream)?.version ?? 0;
  }

  latestStates(experiment: string, toSeq = Number.MAX_SAFE_INTEGER): LatestStates {
    const newer = this.stmt.newerSchema.get(experiment, toSeq, this.codec.version);
    if (newer) throw newerSchemaError(newer, this.codec.version);
    const records = this.stmt.latest.all(experiment, toSeq);
    return {
      streams: records.map(parseLatest),
      rows: records.reduce((n, r) => n + r.n, 0),
      lastSeq: records.reduce((max, r) => Math.max(max, r.seq), 0),
    };
  }

  readEffectRows(experiment: string, effects: readonly string[], toSeq = Number.MAX_SAFE_INTEGER): StoredRow<E>[] {
    return this.stmt.effectRows.all(experiment, toSeq, JSON.stringify(effects)).map((r) => this.decode(r));
  }

  streams(experiment: string): StreamInfo[] {
    return this.stmt.streams.all(experiment);
  }

  experiments(): ExperimentHead[] {
    return this.stmt.heads.all().map(toHead);
  }

  head(experiment: string): ExperimentHead | null {
    const head = this.stmt.head.get(experiment);
    return head ? toHead(head) : null;
  }

  acquireLease(experiment: string, holder: LeaseHolder, options: LeaseOptions): LeaseAcquired {
    return this.db
      .transaction(() => {
        const current = this.readLease(experiment);
        const takenOver = leaseDecision(current, holder, options, this.env);
        const now = this.env.now();
        const startedAt = current && current.id === holder.id ? current.startedAt : now;
        this.stmt.putLease.run(experiment, holder.id, holder.pid, holder.host, startedAt, now, holder.identity ? JSON.stringify(holder.identity) : null);
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
    const row = this.stmt.lease.get(experiment);
    if (!row) return null;
    return { experiment, id: row.holder, pid: row.pid, host: row.host, startedAt: row.started_at, heartbeatAt: row.heartbeat_at, identity: row.identity ? (JSON.parse(row.identity) as Lease['identity']) : null };
  }

  saveSnapshot(s: StoredSnapshot): void {
    this.stmt.putSnapshot.run(s.stream, s.version, s.machine, canonicalJson(s.state), canonicalJson(s.context), s.snapshotHash);
  }

  latestSnapshot(stream: string, atOrBefore = Number.MAX_SAFE_INTEGER): StoredSnapshot | null {
    const row = this.stmt.snapshot.get(stream, atOrBefore);
    return row ? toSnapshot(row) : null;
  }

  snapshots(stream: string): StoredSnapshot[] {
    return this.stmt.snapshots.all(stream).map(toSnapshot);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private decode(record: EventRecord): StoredRow<E> {
    return decodeRow(record.seq, rawOf(record), record.prevHash, record.hash, this.codec);
  }
}

interface LatestRecord { stream: string; version: number; seq: number; machine: string; state: string; context: string; at: string; createdAt: string; n: number }

interface SnapshotRecord { stream: string; version: number; machine: string; state: string; context: string; snapshot_hash: string }

function toSnapshot(row: SnapshotRecord): StoredSnapshot {
  return { stream: row.stream, version: row.version, machine: row.machine, state: JSON.parse(row.state), context: JSON.parse(row.context), snapshotHash: row.snapshot_hash };
}

function toHead(row: { experiment: string; rows: number; head_seq: number; head_hash: string }): ExperimentHead {
  return { experiment: row.experiment, rows: row.rows, headSeq: row.head_seq, headHash: row.head_hash };
}

/** Open the file and make sure it is an expctl log (creating one if the file is new and empty). */
function openDatabase(file: string, options: SqliteStoreOptions): Database.Database {
  if (!options.readonly && options.create !== false) {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      throw new StoreOpenError(file, `its directory cannot be created (${(error as Error).message})`, 'point --results-dir at a directory (or where one can be created)', { cause: error });
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly === true || options.create === false });
  } catch (error) {
    throw new StoreOpenError(file, (error as Error).message, 'check the path and its permissions', { cause: error });
  }
  try {
    db.pragma('busy_timeout = 10000');
    checkOrCreateSchema(db, file, options.readonly === true || options.create === false);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    }
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(file, `${(error as Error).message} (not a SQLite database, or damaged)`, 'point --results-dir at an expctl results directory, or restore the file from a backup', { cause: error });
  }
}

function checkOrCreateSchema(db: Database.Database, file: string, readonly: boolean): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const objects = (db.prepare('SELECT COUNT(*) AS n FROM sqlite_master').get() as { n: number }).n;
  if (appId === 0 && objects === 0) {
    if (readonly) throw new StoreOpenError(file, 'the file is empty', 'run an experiment first, or check --results-dir');
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      db.exec(CREATE_SCHEMA);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
    }).immediate();
    return;
  }
  if (appId !== APPLICATION_ID) {
    throw new StoreOpenError(file, 'it is a SQLite database, but not an expctl event log', 'point --results-dir at an expctl results directory; the file was not changed');
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > STORE_SCHEMA_VERSION) {
    throw new StoreOpenError(file, `it was written by a newer expctl (log format ${version}, this one reads up to ${STORE_SCHEMA_VERSION})`, 'upgrade expctl; the file was not changed');
  }
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
  const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
  if (missing.length > 0) {
    throw new StoreOpenError(file, `tables ${missing.join(', ')} are missing`, 'the file is damaged; restore it from a backup (it was not changed)');
  }
  // a log from before the lease recorded who holds it beyond the pid: add the column (older readers ignore it)
  const leaseColumns = (db.prepare('PRAGMA table_info(leases)').all() as { name: string }[]).map((c) => c.name);
  if (!db.readonly && !leaseColumns.includes('identity')) db.exec('ALTER TABLE leases ADD COLUMN identity TEXT');
}

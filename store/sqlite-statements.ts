import type Database from 'better-sqlite3';
import { CHAIN_COLUMNS, chainRow, CHAIN_WIDTH, EVENT_COLUMNS, STREAM_OR_BELOW, streamRange } from './sqlite-sql.js';
import type { Checkpoint, ResumeBase, StoredSnapshot } from './types.js';

type Named<K extends string> = Record<K, Database.Statement>;

/** The prepared statements of every log (layout version 1 and later). */
export function prepareStatements(db: Database.Database): Named<StatementName> {
  const q = (sql: string) => db.prepare(sql);
  // the experiment's own stream, then those under it: each part in index order, so no sort (an OR of the two needs one)
  const latestOfStreams = (upTo: string) => `SELECT stream, MAX(version) AS version, MIN(seq) AS first FROM events WHERE stream = ?${upTo} GROUP BY stream
    UNION ALL SELECT stream, MAX(version) AS version, MIN(seq) AS first FROM events WHERE stream >= ? AND stream < ?${upTo} GROUP BY stream`;
  return {
    dataVersion: q('PRAGMA data_version').pluck(),
    insert: q(`INSERT INTO events (${CHAIN_COLUMNS.replace('seq, ', '')}) VALUES (${Array(CHAIN_WIDTH - 1).fill('?').join(', ')})`),
    head: q('SELECT * FROM heads WHERE experiment = ?'),
    heads: q('SELECT * FROM heads ORDER BY experiment'),
    newHead: q('INSERT INTO heads (experiment, rows, head_seq, head_hash) VALUES (?, ?, ?, ?)'),
    moveHead: q('UPDATE heads SET rows = rows + ?, head_seq = ?, head_hash = ? WHERE experiment = ?'),
    version: q('SELECT version FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1'),
    stream: q(`SELECT ${CHAIN_COLUMNS} FROM events WHERE stream = ? AND version BETWEEN ? AND ? ORDER BY version`).raw(),
    states: q('SELECT seq, stream, version, type, schema, at, machine, state, context FROM events WHERE experiment = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?'),
    // answered by events_by_schema where the log has it (layout 2: `+seq` keeps the planner off events_by_experiment); a scan otherwise
    newerSchema: q('SELECT seq, stream, version, schema FROM events WHERE experiment = ? AND schema > ? AND +seq <= ? ORDER BY seq LIMIT 1'),
    latest: q(`SELECT e.stream, e.version, e.seq, e.machine, e.state, e.context, e.at, f.at AS createdAt FROM (${latestOfStreams(' AND seq <= ?')}) last
      JOIN events e ON e.stream = last.stream AND e.version = last.version JOIN events f ON f.seq = last.first ORDER BY last.first`).raw(),
    count: q('SELECT COUNT(*) AS n FROM events WHERE experiment = ? AND seq <= ?'),
    effectRows: q(`SELECT ${EVENT_COLUMNS} FROM events WHERE experiment = ? AND seq <= ? AND type IN ('effect.completed', 'effect.failed')
      AND json_extract(data, '$.effect') IN (SELECT value FROM json_each(?)) ORDER BY seq`).raw(),
    streams: q(`SELECT last.stream, last.version, f.machine FROM (${latestOfStreams('')}) last
      LEFT JOIN events f ON f.stream = last.stream AND f.version = 1 ORDER BY last.first`),
    rowAt: q('SELECT hash FROM events WHERE seq = ? AND experiment = ?'),
    lease: q('SELECT * FROM leases WHERE experiment = ?'),
    beat: q('UPDATE leases SET heartbeat_at = ? WHERE experiment = ? AND holder = ?'),
    release: q('DELETE FROM leases WHERE experiment = ? AND holder = ?'),
  };
}

type StatementName = 'dataVersion' | 'insert' | 'head' | 'heads' | 'newHead' | 'moveHead' | 'version' | 'stream' | 'states' | 'newerSchema' | 'latest'
  | 'count' | 'effectRows' | 'streams' | 'rowAt' | 'lease' | 'beat' | 'release';
export type Statements = Named<StatementName>;

/** A snapshot's columns, in the order toSnapshot reads them (those after snapshot_hash are null in a snapshot of layout 1). */
const SNAPSHOT_COLUMNS = 'stream, version, machine, state, context, snapshot_hash, recorded_machine, parent, created_seq, created';

/** The statements that need layout version 2 (the checkpoints table, the new snapshot columns, the lease's identity). */
export function prepareCheckpointStatements(db: Database.Database): CheckpointStatements {
  const q = (sql: string) => db.prepare(sql);
  return {
    putSnapshot: q(`INSERT INTO snapshots (${SNAPSHOT_COLUMNS}, record_hash) VALUES (${Array(11).fill('?').join(', ')})`),
    streamSnapshots: q(`SELECT ${SNAPSHOT_COLUMNS}, record_hash FROM snapshots WHERE stream = ?`).raw(),
    dropSnapshots: q('DELETE FROM snapshots WHERE stream = ?'),
    putLease: q('INSERT OR REPLACE INTO leases (experiment, holder, pid, host, started_at, heartbeat_at, identity) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    putCheckpoint: q('INSERT OR REPLACE INTO checkpoints (experiment, seq, hash, rows, streams, digest) VALUES (?, ?, ?, ?, ?, ?)'),
    checkpoints: q('SELECT experiment, seq, hash, rows, streams, digest FROM checkpoints WHERE experiment = ? ORDER BY seq'),
    latestCheckpoint: q('SELECT experiment, seq, hash, rows, streams, digest FROM checkpoints WHERE experiment = ? ORDER BY seq DESC LIMIT 1'),
    chainRowAt: q(`SELECT ${CHAIN_COLUMNS} FROM events WHERE seq = ? AND experiment = ?`).raw(),
    resumeSnapshots: q(`SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE ${STREAM_OR_BELOW()} ORDER BY created_seq`).raw(),
    snapshots: q(`SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE ${STREAM_OR_BELOW()} ORDER BY stream, version`).raw(),
  };
}

export type CheckpointStatements = Named<'putLease' | 'putSnapshot' | 'streamSnapshots' | 'dropSnapshots' | 'putCheckpoint' | 'checkpoints' | 'latestCheckpoint' | 'chainRowAt' | 'resumeSnapshots' | 'snapshots'>;

export function toSnapshot(cells: readonly unknown[]): StoredSnapshot {
  const [stream, version, machine, state, context, snapshotHash, recordedMachine, parent, createdSeq, created] = cells as [string, number, string, string, string, string, string | null, string | null, number | null, string | null];
  return { stream, version, machine, state, context, snapshotHash, recordedMachine: recordedMachine ?? '', parent, createdSeq: createdSeq ?? 0, created: created ?? '' };
}

/** The newest checkpoint of an experiment and what the log holds for it (nothing checked: the engine does). */
export function resumeBaseOf(stmt: Statements, cp: CheckpointStatements, experiment: string, schema: number): ResumeBase | null {
  const checkpoint = cp.latestCheckpoint.get(experiment) as Checkpoint | undefined;
  if (!checkpoint) return null;
  const at = cp.chainRowAt.get(checkpoint.seq, experiment) as unknown[] | undefined;
  const { n } = stmt.count.get(experiment, checkpoint.seq) as { n: number };
  const snapshots = (cp.resumeSnapshots.all(...streamRange(experiment)) as unknown[][]).map(toSnapshot);
  const newer = (stmt.newerSchema.get(experiment, schema, Number.MAX_SAFE_INTEGER) as ResumeBase['newer'] | undefined) ?? null;
  return { checkpoint, row: at ? chainRow(at) : null, rows: n, newer, snapshots };
}

import type Database from 'better-sqlite3';
import type { ChainRow, RawRow, RowQuery } from './types.js';

/*
 * The SQL of the SQLite store, and how its rows become objects. Rows are
 * read as arrays (better-sqlite3's raw mode): no object with fifteen named
 * keys per row, which costs more than reading it.
 */

/** The columns of a row, in the order chainRow reads them. */
export const CHAIN_COLUMNS = 'seq, experiment, stream, version, type, schema, data, state, context, snapshot_hash, machine, at, cause, prev_hash, hash';
export const CHAIN_WIDTH = 15;

/** A row read with CHAIN_COLUMNS: its seq, stored texts and hashes. */
export interface RowRecord {
  seq: number;
  raw: RawRow;
  prevHash: string;
  hash: string;
}

/** The row in the CHAIN_COLUMNS cells from `at` on; null when they are null (a LEFT JOIN without a match). */
export function rowRecord(cells: readonly unknown[], at = 0): RowRecord | null {
  if (cells[at] === null) return null;
  const raw: RawRow = {
    experiment: cells[at + 1] as string, stream: cells[at + 2] as string, version: cells[at + 3] as number, type: cells[at + 4] as string,
    schema: cells[at + 5] as number, data: cells[at + 6] as string, state: cells[at + 7] as string, context: cells[at + 8] as string,
    snapshotHash: cells[at + 9] as string, machine: cells[at + 10] as string, at: cells[at + 11] as string, cause: cells[at + 12] as string,
  };
  return { seq: cells[at] as number, raw, prevHash: cells[at + 13] as string, hash: cells[at + 14] as string };
}

export function chainRow(cells: readonly unknown[], at = 0): ChainRow | null {
  const record = rowRecord(cells, at);
  return record && { ...record.raw, seq: record.seq, prevHash: record.prevHash, hash: record.hash };
}

/** Qualified chain columns of a joined table (`e.seq, e.experiment, …`). */
export const chainColumnsOf = (table: string) => CHAIN_COLUMNS.split(', ').map((c) => `${table}.${c}`).join(', ');

/**
 * A stream and the streams named under it: `stream = ?1 OR stream in [?2, ?3)`,
 * which the (stream, version) index answers; streamRange gives the three
 * values. The streams of an experiment are those under its key (a key has no
 * "/", so a stream's name says whose it is).
 */
export const STREAM_OR_BELOW = (column = 'stream') => `(${column} = ? OR (${column} >= ? AND ${column} < ?))`;
export const streamRange = (stream: string): [string, string, string] => [stream, `${stream}/`, `${stream}0`];

/** Strings that start with `prefix`: [prefix, prefix with its last character raised by one). */
const prefixRange = (prefix: string): [string, string] => [prefix, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)];

/** The columns of an event row, in the order eventRecord reads them. */
export const EVENT_COLUMNS = 'seq, stream, version, type, schema, data, at, cause, machine';

/** An event row's cells: what decodeEvent needs, and where it happened (and its state and context texts, when selected). */
export function eventCells(cells: readonly unknown[]) {
  const [seq, stream, version, type, schema, data, at, cause, machine, state, context] = cells as [number, string, number, string, number, string, string, string, string, string, string];
  return { seq, stream, version, type, schema, data, at, cause, machine, state, context };
}

export const TRANSITION_COLUMNS = `${EVENT_COLUMNS}, state, context`;

/** A RowQuery as one SELECT (its text, and its parameters after experiment, seq bounds and the page size). */
export function rowQuerySql(query: RowQuery, columns = CHAIN_COLUMNS): { sql: string; params: unknown[] } {
  const where = ['experiment = ?', query.newestFirst ? 'seq < ?' : 'seq > ?', query.newestFirst ? 'seq >= ?' : 'seq <= ?'];
  const params: unknown[] = [];
  if (query.streams && query.streams.length > 0) {
    where.push(`(${query.streams.map(() => STREAM_OR_BELOW()).join(' OR ')})`);
    for (const stream of query.streams) params.push(...streamRange(stream));
  }
  if (query.types && query.types.length > 0) {
    where.push(`(${query.types.map((t) => (t.endsWith('*') ? (t === '*' ? '1' : '(type >= ? AND type < ?)') : 'type = ?')).join(' OR ')})`);
    for (const type of query.types) if (type !== '*') params.push(...(type.endsWith('*') ? prefixRange(type.slice(0, -1)) : [type]));
  }
  if (query.dataField) {
    const { field, values } = query.dataField;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new RangeError(`"${field}" is not a field name`);
    // rows whose data is not JSON are selected, so that decoding them names the row
    where.push(`(NOT json_valid(data) OR json_extract(data, '$.${field}') IN (${values.map(() => '?').join(', ')}))`);
    params.push(...values);
  }
  const sql = `SELECT ${columns} FROM events WHERE ${where.join(' AND ')} ORDER BY seq ${query.newestFirst ? 'DESC' : 'ASC'} LIMIT ?`;
  return { sql, params };
}

/** Prepared statements by their text, for queries built at run time. */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql).raw();
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

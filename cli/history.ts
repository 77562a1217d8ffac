import type { EventStore, StoredRow } from '../store/types.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';
import { experimentStatus } from '../observe/status.js';
import { printOne } from './status.js';

export interface HistoryOptions {
  resultsDir: string;
  json?: boolean;
  jsonl?: boolean;
  /** Time travel: print the state tree as of this row instead of rows. */
  at?: number;
  /** A stream (with or without the experiment prefix); its descendants match too. */
  stream?: string;
  /** Event types, comma-separated; `effect.*` or `effect.` matches a namespace. */
  type?: string;
  since?: string;
  until?: string;
  /** The N most recent matching rows. */
  limit?: number;
}

/** The documented `history --json` row: one object per log row. */
export interface HistoryJson {
  seq: number;
  stream: string;
  version: number;
  type: string;
  data: unknown;
  state: unknown;
  at: string;
  cause: string;
  machine: string;
  hash: string;
}

export function historyJson(row: StoredRow): HistoryJson {
  return {
    seq: row.seq, stream: row.stream, version: row.version, type: row.event.type, data: row.event.data,
    state: row.state, at: row.at, cause: row.cause, machine: row.machine, hash: row.hash,
  };
}

/** `expctl history <id>`: the audit trail, filtered; or with `--at SEQ`, the state tree as of that row. */
export async function historyCommand(id: string, options: HistoryOptions, io: Io): Promise<void> {
  const store = openLogForReading(options.resultsDir);
  try {
    const key = experimentKey(store, id);
    if (options.at !== undefined) return printOne(io, experimentStatus(store, key, checkSeq(store, key, options.at)), options.json ?? false, { resultsDir: options.resultsDir, cwd: io.cwd, env: io.env });
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
      throw new UsageError(`--limit ${options.limit} is not a number of rows`, 'give a whole number of 1 or more');
    }
    const rows = selectedRows(store, key, options);
    if (options.jsonl) for (const row of rows) io.out(`${JSON.stringify(historyJson(row))}\n`);
    else if (options.json) io.out(`${JSON.stringify(rows.map(historyJson), null, 2)}\n`);
    else for (const row of rows) io.out(`${String(row.seq).padStart(6)}  ${row.at}  ${row.stream}  ${row.event.type}  → ${JSON.stringify(row.state)}\n`);
  } finally {
    store.close();
  }
}

/**
 * The rows the options select, in seq order. The log selects by stream and
 * type and, for --limit, reads newest first and stops after N (the recorded
 * times are checked here, as they are text the log cannot compare as times).
 */
function selectedRows(store: EventStore, key: string, o: HistoryOptions): StoredRow[] {
  const stream = o.stream ? (o.stream === key || o.stream.startsWith(`${key}/`) ? o.stream : `${key}/${o.stream}`) : null;
  const types = o.type?.split(',').map((t) => t.trim()).filter(Boolean).map((t) => (t.endsWith('.') ? `${t}*` : t));
  const since = o.since ? time('--since', o.since) : null;
  const until = o.until ? time('--until', o.until) : null;
  const inTime = (row: StoredRow) => (since === null || Date.parse(row.at) >= since) && (until === null || Date.parse(row.at) <= until);
  const query = { streams: stream ? [stream] : undefined, types: types?.length ? types : undefined, newestFirst: o.limit !== undefined };
  const rows: StoredRow[] = [];
  // without a time filter the log applies the limit itself
  for (const row of store.readRows(key, { ...query, limit: since === null && until === null ? o.limit : undefined })) {
    if (!inTime(row)) continue;
    rows.push(row);
    if (rows.length === o.limit) break;
  }
  return o.limit === undefined ? rows : rows.reverse();
}

/** A row of this experiment (rows of one experiment are not numbered 1…N when a log holds several). */
function checkSeq(store: EventStore, key: string, at: number): number {
  const last = store.head(key)!.headSeq;
  if (Number.isInteger(at) && [...store.readStates(key, { fromSeq: at, toSeq: at })].length === 1) return at;
  throw new UsageError(`--at ${at} is not a row of experiment ${key}`, `pick a seq from \`expctl history ${key}\` (its last row is ${last})`);
}

function time(flag: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} "${text}" is not a time`, 'use an ISO 8601 time such as 2026-11-28T06:00:00Z, or a date');
  return ms;
}

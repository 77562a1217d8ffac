import { lifecycleCodec } from '../runner/codec.js';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { planAppend, type PlannedRow } from '../store/rows.js';
import { CREATE_SCHEMA } from '../store/sqlite-schema.js';
import type { AppendRow } from '../store/types.js';
import { EXPERIMENT, line, rate, runLifecycleRows, withTempDir } from './fixtures.js';
import { openExperimentLog as openLog } from '../runner/log.js';

type Sync = 'FULL' | 'NORMAL';

/**
 * Append throughput of the store next to raw better-sqlite3 inserts of the
 * same finished row texts (same table, pragmas and transaction sizes). The
 * ratio is what the store adds: event validation, canonical JSON, hashing,
 * expected-version checks and the head update.
 */
export function appendBench(): string[] {
  const perRow = runLifecycleRows(300).rows; // 3,900 rows, one commit each
  const batched = runLifecycleRows(8000).rows; // 104,000 rows
  return [
    compare('append, 1 row/txn, synchronous=FULL', perRow, 1, 'FULL'),
    compare('append, 1 row/txn, synchronous=NORMAL', perRow, 1, 'NORMAL'),
    compare('append, 1000 rows/txn, FULL', batched, 1000, 'FULL'),
  ];
}

function compare(label: string, rows: AppendRow[], batch: number, sync: Sync): string {
  const finished = planAppend(EXPERIMENT, rows, () => 0, null, lifecycleCodec);
  const raw = rate(rows.length, 3, () => withTempDir((dir) => appendRaw(join(dir, 'raw.db'), finished, batch, sync)));
  const store = rate(rows.length, 3, () => withTempDir((dir) => appendWithStore(join(dir, 'expctl.db'), rows, batch, sync)));
  return line(label, store, raw, 'raw better-sqlite3');
}

function appendWithStore(file: string, rows: AppendRow[], batch: number, sync: Sync): void {
  const store = openLog(file, { synchronous: sync });
  for (let i = 0; i < rows.length; i += batch) store.append(EXPERIMENT, rows.slice(i, i + batch));
  store.close();
}

function appendRaw(file: string, rows: PlannedRow[], batch: number, sync: Sync): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec(CREATE_SCHEMA);
  const insert = db.prepare(`INSERT INTO events (experiment, stream, version, type, schema, data, state, context, snapshot_hash, machine, at, cause, prev_hash, hash)
    VALUES (@experiment, @stream, @version, @type, @schema, @data, @state, @context, @snapshotHash, @machine, @at, @cause, @prevHash, @hash)`);
  const write = db.transaction((part: PlannedRow[]) => {
    for (const r of part) insert.run({ ...r.raw, prevHash: r.prevHash, hash: r.hash });
  });
  for (let i = 0; i < rows.length; i += batch) write.immediate(rows.slice(i, i + batch));
  db.close();
}

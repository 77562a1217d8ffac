import Database from 'better-sqlite3';
import { join } from 'node:path';
import { lifecycleCodec } from '../runner/codec.js';
import { openExperimentLog as openLog } from '../runner/log.js';
import { planAppend, type PlannedRow } from '../store/rows.js';
import { CREATE_SCHEMA } from '../store/sqlite-schema.js';
import type { AppendRow } from '../store/types.js';
import { EXPERIMENT, runLifecycleRows, withTempDir } from './fixtures.js';
import { bestOfBoth, result, type BenchResult } from './result.js';

type Sync = 'FULL' | 'NORMAL';
type Bind = 'named' | 'positional';

/**
 * Append throughput of the store next to raw better-sqlite3 inserts of the
 * same finished row texts (same table and indexes, pragmas and transaction
 * sizes), taken in turns. The ratio is what the store adds: event
 * validation, canonical JSON, hashing, expected-version checks and the head
 * update. The baseline binds named parameters, as the store did when these
 * targets were set; the store binds positional ones, so the same comparison
 * against positional raw inserts is printed too.
 */
export function appendBench(full: boolean): BenchResult[] {
  const perRow = runLifecycleRows(full ? 300 : 100).rows; // 3,900 or 1,300 rows, one commit each
  const batched = runLifecycleRows(full ? 8000 : 2000).rows; // 104,000 or 26,000 rows
  const repeat = full ? 5 : 3;
  return [
    compare('append.full', 'append, 1 row/txn, synchronous=FULL', perRow, 1, 'FULL', repeat),
    compare('append.normal', 'append, 1 row/txn, synchronous=NORMAL', perRow, 1, 'NORMAL', repeat),
    compare('append.batched', 'append, 1000 rows/txn, FULL', batched, 1000, 'FULL', repeat),
    compare('append.normal.positional', 'append, 1 row/txn, NORMAL (positional raw)', perRow, 1, 'NORMAL', repeat, 'positional'),
    compare('append.batched.positional', 'append, 1000 rows/txn, FULL (positional raw)', batched, 1000, 'FULL', repeat, 'positional'),
  ];
}

function compare(name: string, label: string, rows: AppendRow[], batch: number, sync: Sync, repeat: number, bind: Bind = 'named'): BenchResult {
  const finished = planAppend(EXPERIMENT, rows, () => 0, null, lifecycleCodec);
  const [store, raw] = bestOfBoth(
    repeat,
    () => withTempDir((dir) => appendWithStore(join(dir, 'expctl.db'), rows, batch, sync)),
    () => withTempDir((dir) => appendRaw(join(dir, 'raw.db'), finished, batch, sync, bind)),
  );
  return result(name, label, rows.length / store, 'rows/s', rows.length / raw, `raw better-sqlite3${bind === 'positional' ? ' (?)' : ''}`);
}

function appendWithStore(file: string, rows: AppendRow[], batch: number, sync: Sync): void {
  const store = openLog(file, { synchronous: sync });
  for (let i = 0; i < rows.length; i += batch) store.append(EXPERIMENT, rows.slice(i, i + batch));
  store.close();
}

function appendRaw(file: string, rows: PlannedRow[], batch: number, sync: Sync, bind: Bind): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec(CREATE_SCHEMA);
  const columns = 'experiment, stream, version, type, schema, data, state, context, snapshot_hash, machine, at, cause, prev_hash, hash';
  const named = db.prepare(`INSERT INTO events (${columns})
    VALUES (@experiment, @stream, @version, @type, @schema, @data, @state, @context, @snapshotHash, @machine, @at, @cause, @prevHash, @hash)`);
  const positional = db.prepare(`INSERT INTO events (${columns}) VALUES (${Array(14).fill('?').join(', ')})`);
  const write = db.transaction((part: PlannedRow[]) => {
    for (const { raw: r, prevHash, hash } of part) {
      if (bind === 'named') named.run({ ...r, prevHash, hash });
      else positional.run(r.experiment, r.stream, r.version, r.type, r.schema, r.data, r.state, r.context, r.snapshotHash, r.machine, r.at, r.cause, prevHash, hash);
    }
  });
  for (let i = 0; i < rows.length; i += batch) write.immediate(rows.slice(i, i + batch));
  db.close();
}

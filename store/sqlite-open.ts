import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreOpenError } from './errors.js';
import { APPLICATION_ID, CREATE_SCHEMA, MIGRATIONS, REQUIRED_TABLES, STORE_SCHEMA_VERSION } from './sqlite-schema.js';

export interface OpenOptions {
  synchronous?: 'FULL' | 'NORMAL';
  readonly?: boolean;
  create?: boolean;
}

/** Open the file and make sure it is an expctl log (creating one if the file is new and empty). */
export function openDatabase(file: string, options: OpenOptions): Database.Database {
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
    } else db.pragma(`mmap_size = ${READ_MMAP_BYTES}`);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(file, `${(error as Error).message} (not a SQLite database, or damaged)`, 'point --results-dir at an expctl results directory, or restore the file from a backup', { cause: error });
  }
}

/**
 * A read-only open maps the file (up to 1 GiB) instead of copying each page it
 * reads through a system call: the read commands scan every row of a big
 * experiment's log (status of 10^4 runs: ~130 MB), a third faster so. The log
 * is only ever appended to, so a mapped page never goes away under a reader.
 */
const READ_MMAP_BYTES = 1 << 30;

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
  const version = layoutVersion(db);
  if (version > STORE_SCHEMA_VERSION) {
    throw new StoreOpenError(file, `it was written by a newer expctl (log format ${version}, this one reads up to ${STORE_SCHEMA_VERSION})`, 'upgrade expctl; the file was not changed');
  }
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
  const missing = [...REQUIRED_TABLES, ...(version >= 2 ? ['checkpoints'] : [])].filter((t) => !tables.has(t));
  if (missing.length > 0) {
    throw new StoreOpenError(file, `tables ${missing.join(', ')} are missing`, 'the file is damaged; restore it from a backup (it was not changed)');
  }
}

export const layoutVersion = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;

/**
 * Bring a log written by an earlier expctl to this layout version, in one
 * IMMEDIATE transaction (another process may be doing the same: the version
 * is read again under the lock). Called before the first write of a store,
 * never on open: a log that is only read, or refused, is never changed.
 */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    for (let version = layoutVersion(db); version < STORE_SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}

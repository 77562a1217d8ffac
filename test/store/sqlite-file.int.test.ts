import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExpectedVersionError, isProcessAlive, LeaseHeldError, StoreOpenError } from '../../store/index.js';
import { runRows } from '../support/rows.js';
import { useTempDir } from '../support/temp.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();
const dbFile = () => join(tempDir(), 'results', 'expctl.db');

function openError(file: string): StoreOpenError {
  try {
    openLog(file).close();
  } catch (error) {
    return error as StoreOpenError;
  }
  throw new Error('expected openStore to fail');
}

describe('SQLite event log file', () => {
  it('keeps rows across close and reopen, and continues the chain', () => {
    const file = dbFile();
    const rows = runRows('exp/T0/a/1', 4);
    const first = openLog(file);
    const written = first.append('exp', rows.slice(0, 3));
    first.close();
    const second = openLog(file);
    expect([...second.readExperiment('exp')].map((r) => r.hash)).toEqual(written.map((r) => r.hash));
    const [next] = second.append('exp', rows.slice(3, 4));
    expect(next!.prevHash).toBe(written[2]!.hash);
    second.close();
  });

  it('keeps appends that did not wait for the disk when the writing process is killed, between and after durable ones', () => {
    const file = dbFile();
    const script = `import { openLog } from ${JSON.stringify(join(process.cwd(), 'test/support/stores.ts'))};
import { runRows } from ${JSON.stringify(join(process.cwd(), 'test/support/rows.ts'))};
const log = openLog(${JSON.stringify(file)});
const rows = runRows('exp/T0/a/1', 6);
log.append('exp', rows.slice(0, 2), { durable: false });
log.append('exp', rows.slice(2, 3));
log.append('exp', rows.slice(3, 5), { durable: false });
log.append('exp', rows.slice(5, 7), { durable: false });
process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    const log = openLog(file);
    const rows = [...log.readExperiment('exp')];
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(log.head('exp')).toMatchObject({ rows: 7, headHash: rows[6]!.hash });
    log.close();
  });

  it('puts the log in WAL mode (I8)', () => {
    const file = dbFile();
    openLog(file).close();
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('refuses UPDATE and DELETE on events at the database level (I1)', () => {
    const file = dbFile();
    const store = openLog(file);
    store.append('exp', runRows('exp/T0/a/1', 1));
    store.close();
    const db = new Database(file);
    expect(() => db.prepare("UPDATE events SET type = 'x'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    db.close();
  });

  it('refuses a stale expected version from a second connection: the other writer appended first', () => {
    const file = dbFile();
    const rows = runRows('exp/T0/a/1', 2);
    const a = openLog(file);
    const b = openLog(file);
    a.append('exp', rows.slice(0, 2));
    b.append('exp', rows.slice(2, 3));
    expect(() => a.append('exp', [rows[2]!])).toThrow(ExpectedVersionError);
    expect(a.streamVersion('exp/T0/a/1')).toBe(3);
    a.close();
    b.close();
  });

  it('refuses a file that is not SQLite and leaves it byte for byte unchanged', () => {
    const file = join(tempDir(), 'expctl.db');
    const bytes = randomBytes(8192);
    writeFileSync(file, bytes);
    const error = openError(file);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error.message).toContain(file);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('refuses a foreign SQLite database and leaves it unchanged', () => {
    const file = join(tempDir(), 'app.db');
    const db = new Database(file);
    db.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada');");
    db.close();
    const before = readFileSync(file);
    const error = openError(file);
    expect(error.message).toBe(`cannot open event log ${file}: it is a SQLite database, but not an expctl event log`);
    expect(error.hint).toContain('the file was not changed');
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a log written by a newer expctl, and one with missing tables', () => {
    const newer = dbFile();
    openLog(newer).close();
    const db = new Database(newer);
    db.pragma('user_version = 99');
    db.close();
    expect(openError(newer).message).toContain('written by a newer expctl (log format 99');

    const damaged = dbFile();
    openLog(damaged).close();
    const db2 = new Database(damaged);
    db2.exec('DROP TABLE leases');
    db2.close();
    expect(openError(damaged).message).toContain('tables leases are missing');
  });

  it('reads a log of layout version 1 as it is, and brings it to version 2 with its first write', () => {
    const file = dbFile();
    const rows = runRows('exp/T0/a/1', 3);
    const written = openLog(file);
    written.append('exp', rows.slice(0, 3));
    written.close();
    const v1 = new Database(file);
    v1.exec(`DROP INDEX events_by_schema; DROP TABLE checkpoints; DROP TABLE snapshots; ALTER TABLE leases DROP COLUMN identity;
      CREATE TABLE snapshots (stream TEXT NOT NULL, version INTEGER NOT NULL, machine TEXT NOT NULL, state TEXT NOT NULL, context TEXT NOT NULL, snapshot_hash TEXT NOT NULL, PRIMARY KEY (stream, version))`);
    v1.pragma('user_version = 1');
    v1.close();
    const before = readFileSync(file);
    const layout = () => {
      const db = new Database(file, { readonly: true });
      const objects = (db.prepare("SELECT name FROM sqlite_master WHERE name IN ('checkpoints', 'events_by_schema') ORDER BY name").all() as { name: string }[]).map((o) => o.name);
      const version = db.pragma('user_version', { simple: true });
      db.close();
      return { version, objects };
    };
    for (const readonly of [true, false]) {
      const store = openLog(file, { readonly });
      expect(store.latestStates('exp').streams.map((s) => s.version)).toEqual([3]);
      expect([...store.readRows('exp', { newestFirst: true, limit: 1 })].map((r) => r.version)).toEqual([3]);
      expect(store.resumeBase('exp')).toBeNull();
      expect(store.checkpoints('exp')).toEqual([]);
      store.close();
      expect(readFileSync(file).equals(before), `opened ${readonly ? 'read-only' : 'to write'}, only read: unchanged`).toBe(true);
      expect(layout()).toEqual({ version: 1, objects: [] });
    }
    const store = openLog(file);
    const [next] = store.append('exp', rows.slice(3, 4));
    expect(layout()).toEqual({ version: 2, objects: ['checkpoints', 'events_by_schema'] });
    expect(store.saveCheckpoint('exp', { seq: next!.seq, hash: next!.hash, streams: 1 }, [])).toMatchObject({ rows: 4 });
    const columns = new Database(file, { readonly: true });
    expect((columns.prepare('SELECT name FROM pragma_table_info(\'snapshots\')').all() as { name: string }[]).map((c) => c.name)).toContain('record_hash');
    expect((columns.prepare('SELECT name FROM pragma_table_info(\'leases\')').all() as { name: string }[]).map((c) => c.name)).toContain('identity');
    columns.close();
    store.close();
  });

  it('opens read-only without creating anything', () => {
    const file = join(tempDir(), 'missing.db');
    expect(() => openLog(file, { readonly: true })).toThrow(StoreOpenError);
  });

  it('takes over the lease of a driver that died but is not reaped yet (a zombie)', async () => {
    const store = openLog(dbFile());
    // `sleep 0.05` becomes a child of the exec'd `sleep 3`, which never reaps it
    const shell = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zombie = Number(String((await once(shell.stdout!, 'data'))[0]).trim());
    await new Promise((r) => setTimeout(r, 300));
    try {
      expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /);
      expect(isProcessAlive(zombie)).toBe(false);
      store.acquireLease('exp', { id: 'zombie-driver', pid: zombie, host: hostname() }, { staleAfterMs: 120_000 });
      expect(store.acquireLease('exp', { id: 'me', pid: process.pid, host: hostname() }, { staleAfterMs: 120_000 }).takenOver?.pid).toBe(zombie);
    } finally {
      shell.kill('SIGKILL');
      store.close();
    }
  });

  it('takes over the lease of a driver whose process really died', () => {
    const store = openLog(dbFile());
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    store.acquireLease('exp', { id: 'dead-driver', pid: deadPid, host: hostname() }, { staleAfterMs: 120_000 });
    const { takenOver } = store.acquireLease('exp', { id: 'me', pid: process.pid, host: hostname() }, { staleAfterMs: 120_000 });
    expect(takenOver).toMatchObject({ id: 'dead-driver', pid: deadPid });
    expect(() => store.acquireLease('exp', { id: 'third', pid: 1, host: hostname() }, { staleAfterMs: 120_000 })).toThrow(LeaseHeldError);
    store.close();
  });
});


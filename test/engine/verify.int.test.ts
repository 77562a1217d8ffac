import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLog } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { GENESIS_HASH, rowHash } from '../../store/index.js';
import { completed, failed, finished, resumed } from '../support/events.js';
import { LogWriter } from '../support/log.js';
import { useTempDir } from '../support/temp.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();

/** A small real log: an experiment stream and two run streams, interleaved; returns the file. */
function writeLog(): string {
  const file = join(tempDir(), 'expctl.db');
  const store = openLog(file);
  const input = (run: number) => ({ tier: 'T0', subtest: 'a', run, maxAttempts: 2 });
  new LogWriter(store, lifecycleRegistry, 'exp')
    .create('exp', 'experiment', { experiment: 'exp', tiers: [{ id: 'T0', dependsOn: [] }], failFast: false, maxAttempts: 2 })
    .send('exp', completed('initializeExperiment'), completed('prepareRepository'), completed('preflightChecks'))
    .create('exp/T0/a/1', 'run', input(1), 'exp/T0/a')
    .create('exp/T0/a/2', 'run', input(2), 'exp/T0/a')
    .send('exp/T0/a/1', completed('createRunDir'), failed('createWorktree', 1, { message: 'no space left' }))
    .send('exp/T0/a/2', completed('createRunDir'))
    .send('exp/T0/a/1', resumed(), completed('createWorktree', 2))
    .send('exp', finished('tier', 'T0'));
  store.close();
  return file;
}

/** Tamper with the file as an attacker with SQLite access would: triggers dropped, one statement. */
function tamper(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER IF EXISTS events_are_never_updated; DROP TRIGGER IF EXISTS events_are_never_deleted;');
  db.prepare(sql).run(...params);
  db.close();
}

const verify = (file: string) => {
  const store = openLog(file, { readonly: true });
  try {
    return verifyLog(store, lifecycleRegistry, 'exp');
  } finally {
    store.close();
  }
};

const flip = (text: string, i: number) => text.slice(0, i) + (text[i] === 'a' ? 'b' : 'a') + text.slice(i + 1);

describe('verifyLog (I6 + I2/I4)', () => {
  it('passes an untouched log and reports its head hash', () => {
    const report = verify(writeLog());
    expect(report).toMatchObject({ ok: true, problem: null, rows: 12, streams: 3, machineChanges: [] });
    expect(report.headHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(['data', 'state', 'context'])('names the row when any single byte of its %s is edited', (column) => {
    const file = writeLog();
    const db = new Database(file, { readonly: true });
    const rows = db.prepare(`SELECT seq, ${column} AS text FROM events ORDER BY seq`).all() as { seq: number; text: string }[];
    db.close();
    for (const target of [rows[1]!, rows[7]!, rows[rows.length - 1]!]) {
      for (let i = 0; i < target.text.length; i++) {
        tamper(file, `UPDATE events SET ${column} = ? WHERE seq = ?`, flip(target.text, i), target.seq);
        const problem = verify(file).problem;
        expect(problem, `byte ${i} of row ${target.seq}`).toMatchObject({ seq: target.seq });
        // the chain catches it (or the row no longer decodes), before replay would
        expect(['hash', 'decode']).toContain(problem!.kind);
      }
      tamper(file, `UPDATE events SET ${column} = ? WHERE seq = ?`, target.text, target.seq);
      expect(verify(file).ok).toBe(true);
    }
  });

  it('names the row after a deleted row, for every row but the last', () => {
    for (let seq = 1; seq < 12; seq++) {
      const file = writeLog();
      tamper(file, 'DELETE FROM events WHERE seq = ?', seq);
      expect(verify(file).problem, `deleted ${seq}`).toMatchObject({ kind: 'chain', seq: seq + 1 });
    }
  });

  it('catches a deleted last row through the recorded head', () => {
    const file = writeLog();
    tamper(file, 'DELETE FROM events WHERE seq = 12');
    const report = verify(file);
    expect(report.problem).toMatchObject({ kind: 'head', seq: 11 });
    expect(report.problem!.message).toContain('rows were removed from the end');
  });

  it('names a row whose stored hash was rewritten', () => {
    const file = writeLog();
    tamper(file, 'UPDATE events SET hash = ? WHERE seq = 4', 'f'.repeat(64));
    expect(verify(file).problem).toMatchObject({ kind: 'hash', seq: 4 });
  });

  it('catches, by replay, a forged state even when the forger recomputed the whole chain (I4 behind I6)', () => {
    const file = writeLog();
    const store = openLog(file, { readonly: true });
    const rows = [...store.readExperiment('exp')];
    store.close();
    const db = new Database(file);
    db.exec('DROP TRIGGER events_are_never_updated');
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const raw = row.seq === 9 ? { ...row.raw, state: '"run_worktree_created"' } : row.raw;
      const hash = rowHash(prev, raw);
      db.prepare('UPDATE events SET state = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(raw.state, prev, hash, row.seq);
      prev = hash;
    }
    db.prepare('UPDATE heads SET head_hash = ?').run(prev);
    db.close();
    const report = verify(file);
    expect(report.problem).toMatchObject({ kind: 'replay', seq: 9, stream: 'exp/T0/a/2', version: 2 });
    expect(report.problem!.message).toContain('the log records state run_worktree_created, the machine now gives run_dir_created');
  });

  it('reports an unknown experiment', () => {
    const store = openLog(writeLog(), { readonly: true });
    expect(verifyLog(store, lifecycleRegistry, 'nope').problem).toMatchObject({ kind: 'head', message: 'there is no experiment nope in this log' });
    store.close();
  });
});

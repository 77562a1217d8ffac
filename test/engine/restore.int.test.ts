import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRow, Checkpointer, essenceOf, GENESIS, replay, restore, verifyLog, type ReplayedActor, type ReplayResult } from '../../engine/index.js';
import { driveExperiment, loadRunConfig, loadVerified } from '../../runner/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { parseExport } from '../../store/export.js';
import { decodeRow } from '../../store/rows.js';
import type { EventStore, ImportedRow } from '../../store/types.js';
import { fakes } from '../support/fake-collaborators.js';
import { writeExperiment } from '../support/experiment.js';
import { memoryLog, openLog } from '../support/stores.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-restore-');
const LOGS = join(import.meta.dirname, '..', 'fixtures', 'logs');

/** What an actor is, whichever way it was rebuilt. */
const actorOf = (a: ReplayedActor) => ({ essence: essenceOf(a.snapshot), version: a.version, parent: a.parent, created: a.created, recordedMachine: a.recordedMachine, ref: a.entry.ref });
const actorsOf = (r: ReplayResult) => [...r.actors.values()].map((a) => [a.stream, actorOf(a)]);

/** The checked-in logs: real drives with retries, rate limits, an interrupt and a resume, of both event schemas. */
function checkedIn(name: string): { key: string; rows: ImportedRow[] } {
  const { header, rows } = parseExport(readFileSync(join(LOGS, name), 'utf8').split('\n'), 2);
  return { key: header.experiment, rows };
}

/** A bigger real log: a driven experiment (fake collaborators) with fan-out, notices and retried agents. */
async function drivenLog(): Promise<{ key: string; rows: ImportedRow[] }> {
  const dir = tempDir();
  const store = memoryLog();
  const config = writeExperiment(dir, { runsPerSubtest: 3, limits: { maxConcurrentRuns: 3, maxConcurrentAgents: 2 } });
  await driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(config), collaborators: fakes([], { failRuns: (r) => r.attempt === 1 && r.stream.endsWith('/2'), retryable: true }) });
  return { key: 'exp-1', rows: [...store.readExperiment('exp-1')].map((r) => ({ ...r.raw, prevHash: r.prevHash, hash: r.hash })) };
}

/**
 * The log as a driver killed right after row `p` leaves it: rows 1..p, and
 * the checkpoints (with their snapshots) the runtime's Checkpointer records
 * every `every` rows along the way.
 */
function crashedAfter(rows: readonly ImportedRow[], key: string, p: number, every: number): EventStore {
  const store = memoryLog();
  store.importRows(key, rows.slice(0, p));
  const actors = new Map<string, ReplayedActor>();
  const checkpoints = new Checkpointer(store, key, { checked: GENESIS, changed: [], every });
  for (const row of store.readExperiment(key)) {
    applyRow(lifecycleRegistry, actors, row);
    checkpoints.committed([row]);
    if (checkpoints.due) checkpoints.write(actors);
  }
  return store;
}

describe('O(tail) resume from checkpoints (docs/design.md §3)', () => {
  const logs = [checkedIn('current.jsonl'), checkedIn('schema-1.jsonl')];

  it.each([1, 25])('gives the same actors as a full replay at every prefix of a real log (a checkpoint every %i rows)', async (every) => {
    for (const { key, rows } of [...logs, await drivenLog()]) {
      for (let p = 1; p <= rows.length; p++) {
        const store = crashedAfter(rows, key, p, every);
        const restored = restore(store, lifecycleRegistry, key);
        const full = replay(store, lifecycleRegistry, key);
        if (p < every) expect(restored, `${key}, ${p} rows: no checkpoint yet`).toBeNull();
        else {
          expect(restored, `${key}, ${p} rows`).not.toBeNull();
          expect(actorsOf(restored!), `${key}, ${p} rows`).toEqual(actorsOf(full));
          expect(restored!.machineChanges).toEqual(full.machineChanges);
          expect(restored!.rows, `${key}, ${p} rows: only the tail is replayed`).toBeLessThan(every);
          expect(restored!.checked).toEqual({ seq: full.lastSeq, hash: rows[p - 1]!.hash });
        }
        expect(actorsOf(loadVerified(store, key)), `${key}, ${p} rows`).toEqual(actorsOf(full));
      }
    }
  });

  it('a drive records checkpoints as it goes, so a resume replays only the rows after the last one', async () => {
    const { key, rows } = await drivenLog();
    const store = crashedAfter(rows, key, rows.length, 1000);
    expect(store.checkpoints(key)).toEqual([]);
    const dir = tempDir();
    const file = join(dir, 'expctl.db');
    const log = openLog(file);
    log.importRows(key, rows);
    const loaded = loadVerified(log, key); // no checkpoint: verified in full
    expect(loaded.rows).toBe(rows.length);
    const runtimeCheckpoints = new Checkpointer(log, key, { checked: loaded.checked, changed: loaded.changed });
    expect(runtimeCheckpoints.write(loaded.actors)).toMatchObject({ seq: loaded.lastSeq, rows: rows.length, streams: loaded.actors.size });
    const again = loadVerified(log, key);
    expect(again.rows).toBe(0);
    expect(actorsOf(again)).toEqual(actorsOf(loaded));
    expect(verifyLog(log, lifecycleRegistry, key).ok).toBe(true);
    log.close();
  });
});

describe('a checkpoint or snapshot that does not check out is not used', () => {
  /**
   * A SQLite log of the driven experiment with a checkpoint at row `at` (its
   * last by default) and the rest appended after it, and a way to change it
   * behind the store's back.
   */
  async function checkpointedFile(at?: number) {
    const { key, rows } = await drivenLog();
    const file = join(tempDir(), 'expctl.db');
    const store = openLog(file);
    store.importRows(key, rows.slice(0, at));
    const loaded = loadVerified(store, key);
    new Checkpointer(store, key, { checked: loaded.checked, changed: loaded.changed }).write(loaded.actors);
    for (const [i, row] of rows.slice(at ?? rows.length).entries()) {
      const stored = decodeRow(i, row, row.prevHash, row.hash, store.codec);
      const [appended] = store.append(key, [{ ...stored, expectedVersion: stored.version - 1 }]);
      expect(appended!.hash).toBe(row.hash);
    }
    const expected = actorsOf(replay(store, lifecycleRegistry, key));
    store.close();
    const edit = (sql: string) => {
      const db = new Database(file);
      db.exec('DROP TRIGGER IF EXISTS events_are_never_updated');
      db.exec(sql);
      db.close();
    };
    return { key, file, edit, expected, run: 'exp-1/T0/a/1' };
  }

  const check = (file: string, key: string, expected: unknown, problem: object | null) => {
    const store = openLog(file);
    try {
      expect(restore(store, lifecycleRegistry, key)).toBeNull();
      const report = verifyLog(store, lifecycleRegistry, key);
      if (problem === null) {
        expect(report.problem).toBeNull();
        expect(actorsOf(loadVerified(store, key))).toEqual(expected); // verified in full instead
      } else {
        expect(report.problem).toMatchObject(problem);
        expect(() => loadVerified(store, key)).toThrow(/does not verify|cannot be resumed|snapshot|checkpoint/);
      }
    } finally {
      store.close();
    }
  };

  it('a snapshot whose state was changed: refused, and verify names it', async () => {
    const { key, file, edit, expected, run } = await checkpointedFile();
    edit(`UPDATE snapshots SET state = '"run_failed"' WHERE stream = '${run}'`);
    check(file, key, expected, { kind: 'snapshot', stream: run });
  });

  it('a snapshot changed together with its row\'s snapshot hash: the row no longer hashes to its hash', async () => {
    const { key, file, edit, expected, run } = await checkpointedFile();
    edit(`UPDATE snapshots SET context = replace(context, '"attempt":1', '"attempt":2'), snapshot_hash = 'f' || substr(snapshot_hash, 2) WHERE stream = '${run}';
      UPDATE events SET snapshot_hash = 'f' || substr(snapshot_hash, 2) WHERE stream = '${run}' AND version = (SELECT version FROM snapshots WHERE stream = '${run}')`);
    check(file, key, expected, { kind: 'hash', stream: run });
  });

  it('a deleted snapshot, or one put back from an older row of its stream: not those the checkpoint recorded', async () => {
    const deleted = await checkpointedFile();
    deleted.edit(`DELETE FROM snapshots WHERE stream = '${deleted.run}'`);
    check(deleted.file, deleted.key, deleted.expected, { kind: 'checkpoint' });

    // a true snapshot of version 3 (it matches its row), but not the one as of the checkpoint
    const older = await checkpointedFile();
    older.edit(`UPDATE snapshots SET (version, state, context, snapshot_hash) = (SELECT version, state, context, snapshot_hash FROM events WHERE stream = '${older.run}' AND version = 3) WHERE stream = '${older.run}'`);
    check(older.file, older.key, older.expected, { kind: 'checkpoint' });
  });

  it('rows before the checkpoint are not read again: one changed there is found by verify, one of a newer event schema by resume too', async () => {
    const { key, file, edit, expected } = await checkpointedFile();
    edit(`UPDATE events SET at = '2027-01-01T00:00:00.000Z' WHERE seq = 5`);
    const store = openLog(file);
    expect(actorsOf(restore(store, lifecycleRegistry, key)!)).toEqual(expected); // the driver that recorded the checkpoint checked it
    expect(verifyLog(store, lifecycleRegistry, key).problem).toMatchObject({ kind: 'hash', seq: 5 });
    store.close();
    edit(`UPDATE events SET schema = 99 WHERE seq = 6`);
    check(file, key, expected, { kind: 'hash', seq: 5 });
  });

  it('a snapshot without its checkpoint (the checkpoints removed): the full log verifies, and the snapshot is checked against its row', async () => {
    const { key, file, edit, expected } = await checkpointedFile();
    edit('DELETE FROM checkpoints');
    const store = openLog(file);
    expect(store.resumeBase(key)).toBeNull();
    expect(actorsOf(loadVerified(store, key))).toEqual(expected);
    store.close();
  });

  it('a checkpoint whose hash or counts were changed: refused, and verify names it', async () => {
    const { key, file, edit, expected } = await checkpointedFile();
    edit('UPDATE checkpoints SET rows = rows - 1');
    check(file, key, expected, { kind: 'checkpoint' });
  });

  it('rows after the checkpoint are checked as verify checks them: a changed one is refused, naming it', async () => {
    const tail = await checkpointedFile(40);
    const store = openLog(tail.file, { readonly: true });
    expect(restore(store, lifecycleRegistry, tail.key)).toMatchObject({ rows: expect.any(Number) });
    expect(actorsOf(restore(store, lifecycleRegistry, tail.key)!)).toEqual(tail.expected);
    store.close();
    tail.edit(`UPDATE events SET at = '2027-01-01T00:00:00.000Z' WHERE seq = 50`);
    check(tail.file, tail.key, tail.expected, { kind: 'hash', seq: 50 });
  });
});

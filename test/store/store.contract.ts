import { describe, expect, it } from 'vitest';
import { ImportError } from '../../store/import-rows.js';
import { rawOf } from '../../store/rows.js';
import type { LeaseEnvironment } from '../../store/lease-policy.js';
import { ExpectedVersionError, GENESIS_HASH, InvalidAppendError, LeaseHeldError, LeaseLostError, rowHash } from '../../store/index.js';
import { snapshotsDigest } from '../../store/snapshot-digest.js';
import type { EventStore, ImportedRow, StoredRow } from '../../store/types.js';
import { completed } from '../support/events.js';
import { runRows } from '../support/rows.js';

export interface ContractEnv extends LeaseEnvironment {
  advance(ms: number): void;
  dead: Set<number>;
}

/** A controllable clock/host/pid world for lease tests. */
export function contractEnv(): ContractEnv {
  let now = 1_000_000;
  const dead = new Set<number>();
  return { now: () => now, advance: (ms) => void (now += ms), host: 'lab-1', isAlive: (pid) => !dead.has(pid), dead };
}

/** Every row of an experiment in its exported form (stored texts + hashes). */
export function exportedRows(store: EventStore, experiment: string): ImportedRow[] {
  return [...store.readExperiment(experiment)].map((r) => ({ ...r.raw, prevHash: r.prevHash, hash: r.hash }));
}

/** Re-hash rows from the genesis hash: an edit that keeps the chain valid, so only the edit itself is wrong. */
export function rechain(rows: readonly ImportedRow[]): ImportedRow[] {
  let prevHash = GENESIS_HASH;
  return rows.map((row) => {
    const hash = rowHash(prevHash, rawOf(row));
    const next = { ...row, prevHash, hash };
    prevHash = hash;
    return next;
  });
}

const withoutSeq = ({ seq: _, ...row }: StoredRow) => row;

function refusal(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ImportError);
    expect(error).toMatchObject({ code: 'EXPCTL_IMPORT' });
    return error as ImportError;
  }
  throw new Error('expected the import to be refused');
}

/**
 * The behaviour every EventStore must have (docs/design.md §3). Run against each
 * implementation with a factory that makes a fresh, empty store.
 */
export function storeContract(name: string, makeStore: (env: ContractEnv) => EventStore): void {
  const fresh = () => {
    const env = contractEnv();
    return { env, store: makeStore(env) };
  };

  describe(`${name} store contract`, () => {
    it('appends rows with consecutive versions, a global seq and a hash chain', () => {
      const { store } = fresh();
      const stored = store.append('exp', runRows('exp/T0/s1/1', 3));
      expect(stored.map((r) => [r.version, r.event.type])).toEqual([[1, 'actor.created'], [2, 'effect.completed'], [3, 'effect.completed'], [4, 'effect.completed']]);
      expect(stored.map((r) => r.seq)).toEqual([...stored.map((r) => r.seq)].sort((a, b) => a - b));
      expect(stored[0]!.prevHash).toBe(GENESIS_HASH);
      for (let i = 1; i < stored.length; i++) expect(stored[i]!.prevHash).toBe(stored[i - 1]!.hash);
      expect(store.head('exp')).toEqual({ experiment: 'exp', rows: 4, headSeq: stored[3]!.seq, headHash: stored[3]!.hash });
      expect(store.streamVersion('exp/T0/s1/1')).toBe(4);
      store.close();
    });

    it('reads back exactly what was appended, by stream and by experiment in seq order', () => {
      const { store } = fresh();
      const a = runRows('exp/T0/s1/1', 2, 1);
      const b = runRows('exp/T0/s1/2', 2, 2);
      store.append('exp', [a[0]!, b[0]!]);
      store.append('exp', [a[1]!, b[1]!, a[2]!]);
      store.append('exp', [b[2]!]);
      const stream = store.readStream('exp/T0/s1/1');
      expect(stream.map((r) => r.event)).toEqual(a.map((r) => r.event));
      expect(stream.map((r) => r.state)).toEqual(a.map((r) => r.state));
      expect(stream.map((r) => r.context)).toEqual(a.map((r) => r.context));
      expect(stream[1]!.at).toBe(a[1]!.at);
      const all = [...store.readExperiment('exp')];
      expect(all.map((r) => `${r.stream.slice(-1)}v${r.version}`)).toEqual(['1v1', '2v1', '1v2', '2v2', '1v3', '2v3']);
      expect([...store.readExperiment('exp', { fromSeq: all[2]!.seq, toSeq: all[3]!.seq })].map((r) => r.seq)).toEqual([all[2]!.seq, all[3]!.seq]);
      expect(store.readStream('exp/T0/s1/2', { fromVersion: 2, toVersion: 2 }).map((r) => r.version)).toEqual([2]);
      expect(store.streams('exp')).toEqual([
        { stream: 'exp/T0/s1/1', machine: a[0]!.machine, version: 3 },
        { stream: 'exp/T0/s1/2', machine: b[0]!.machine, version: 3 },
      ]);
      store.close();
    });

    it('reads each stream\'s latest state with when it was created and last changed, and the end rows of named effects', () => {
      const { store } = fresh();
      const a = runRows('exp/T0/s1/1', 6, 1).map((row, i) => ({ ...row, at: `2026-01-01T00:00:0${i}.000Z` }));
      const b = runRows('exp/T0/s1/2', 2, 2);
      store.append('exp', [a[0]!, b[0]!, ...a.slice(1, 4)]);
      store.append('exp', [b[1]!, ...a.slice(4), b[2]!]);
      const latest = store.latestStates('exp').streams;
      expect(latest.map((s) => [s.stream, s.createdAt, s.at])).toEqual([
        ['exp/T0/s1/1', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:06.000Z'],
        ['exp/T0/s1/2', b[0]!.at, b[2]!.at],
      ]);
      const ends = store.readEffectRows('exp', ['runAgent', 'createWorktree']);
      expect(ends.map((r) => `${r.stream.slice(-1)}:${(r.event.data as { effect: string }).effect}`)).toEqual(['1:createWorktree', '1:runAgent', '2:createWorktree']);
      expect(store.readEffectRows('exp', ['runAgent'], ends[1]!.seq - 1)).toEqual([]);
      expect(store.readEffectRows('exp', [])).toEqual([]);
      store.close();
    });

    it('refuses an append with a stale expected version and writes nothing of the batch', () => {
      const { store } = fresh();
      const rows = runRows('exp/T0/s1/1', 3);
      store.append('exp', rows.slice(0, 2));
      const head = store.head('exp');
      const other = runRows('exp/T0/s1/2', 0, 2);
      let error: unknown;
      try {
        store.append('exp', [other[0]!, { ...rows[2]!, expectedVersion: 1 }]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExpectedVersionError);
      expect(error).toMatchObject({ stream: 'exp/T0/s1/1', expected: 1, actual: 2, code: 'EXPCTL_VERSION_CONFLICT' });
      expect(store.head('exp')).toEqual(head);
      expect(store.streamVersion('exp/T0/s1/2')).toBe(0);
      expect([...store.readExperiment('exp')]).toHaveLength(2);
      store.close();
    });

    it('refuses to create a stream twice', () => {
      const { store } = fresh();
      const rows = runRows('exp/T0/s1/1', 0);
      store.append('exp', rows);
      expect(() => store.append('exp', rows)).toThrow(ExpectedVersionError);
      store.close();
    });

    it('refuses a stream outside its experiment and an event that breaks its schema', () => {
      const { store } = fresh();
      expect(() => store.append('exp', runRows('other/T0/s1/1', 0))).toThrow(InvalidAppendError);
      const [created, next] = runRows('exp/T0/s1/1', 1);
      const bad = { ...next!, event: { ...completed('createRunDir'), data: { effect: 'createRunDir', attempt: 0, output: null } } };
      expect(() => store.append('exp', [created!, bad])).toThrow(/data\.attempt/);
      expect(store.head('exp')).toBeNull();
      store.close();
    });

    it('keeps one independent chain per experiment', () => {
      const { store } = fresh();
      const [a] = store.append('a', runRows('a/T0/s1/1', 0));
      const [b] = store.append('b', runRows('b/T0/s1/1', 0));
      expect(a!.prevHash).toBe(GENESIS_HASH);
      expect(b!.prevHash).toBe(GENESIS_HASH);
      expect(store.experiments().map((h) => [h.experiment, h.rows])).toEqual([['a', 1], ['b', 1]]);
      expect([...store.readExperiment('a')].map((r) => r.stream)).toEqual(['a/T0/s1/1']);
      store.close();
    });

    /** Source log: two run streams written in interleaved batches (exp), plus an unrelated experiment. */
    const sourceLog = () => {
      const { store } = fresh();
      const a = runRows('exp/T0/s1/1', 3, 1);
      const b = runRows('exp/T0/s1/2', 2, 2);
      store.append('exp', [a[0]!, b[0]!]);
      store.append('other', runRows('other/T0/s1/1', 1));
      store.append('exp', [a[1]!, b[1]!, a[2]!]);
      store.append('exp', [b[2]!, a[3]!]);
      return { store, rows: exportedRows(store, 'exp'), next: runRows('exp/T0/s1/1', 4, 1)[4]! };
    };

    /** A target that already has another experiment, so its seq numbers differ from the source's. */
    const targetLog = () => {
      const { store } = fresh();
      store.append('before', runRows('before/T0/s1/1', 2));
      return store;
    };

    const unchanged = (target: EventStore) => {
      expect(target.head('exp')).toBeNull();
      expect([...target.readExperiment('exp')]).toEqual([]);
      expect(target.streamVersion('exp/T0/s1/1')).toBe(0);
      expect(target.streams('exp')).toEqual([]);
      expect(target.experiments().map((h) => h.experiment)).toEqual(['before']);
    };

    it('imports the rows of another log: same rows and hashes, its own seq numbers, the head recorded, appends continue the chain', () => {
      const { store: source, rows, next } = sourceLog();
      const target = targetLog();
      const imported = target.importRows('exp', rows);
      const original = [...source.readExperiment('exp')];
      const read = [...target.readExperiment('exp')];
      expect(imported.map(withoutSeq)).toEqual(original.map(withoutSeq));
      expect(read.map(withoutSeq)).toEqual(original.map(withoutSeq));
      expect(read.map((r) => r.seq)).toEqual(imported.map((r) => r.seq));
      expect(read.map((r) => r.seq)).not.toEqual(original.map((r) => r.seq));
      expect(exportedRows(target, 'exp')).toEqual(rows);
      const head = target.head('exp')!;
      expect(head).toEqual({ experiment: 'exp', rows: rows.length, headSeq: read.at(-1)!.seq, headHash: source.head('exp')!.headHash });
      expect(target.streams('exp')).toEqual(source.streams('exp'));
      expect(target.streamVersion('exp/T0/s1/1')).toBe(4);
      expect(target.readStream('exp/T0/s1/2').map(withoutSeq)).toEqual(source.readStream('exp/T0/s1/2').map(withoutSeq));
      const [appended] = target.append('exp', [next]);
      expect(appended!.prevHash).toBe(head.headHash);
      expect(target.head('exp')).toMatchObject({ rows: rows.length + 1, headHash: appended!.hash });
      expect([...target.readExperiment('before')]).toHaveLength(3);
      source.close();
      target.close();
    });

    it('refuses a broken chain (a row removed), naming the row, and writes nothing', () => {
      const { store: source, rows } = sourceLog();
      const target = targetLog();
      const error = refusal(() => target.importRows('exp', rows.filter((_, i) => i !== 2)));
      expect(error.row).toBe(3);
      expect(error.message).toMatch(/^cannot import: row 3: its prevHash is not the hash of the row before it/);
      unchanged(target);
      const reordered = [rows[1]!, rows[0]!, ...rows.slice(2)];
      expect(refusal(() => target.importRows('exp', reordered)).message).toMatch(/row 1: its prevHash is not the genesis hash/);
      expect(refusal(() => target.importRows('exp', rows.slice(1))).row).toBe(1);
      unchanged(target);
      source.close();
      target.close();
    });

    it('refuses a row with one changed byte, naming it, and writes nothing', () => {
      const { store: source, rows } = sourceLog();
      const target = targetLog();
      const changed = rows.map((r, i) => (i === 4 ? { ...r, data: r.data.replace('"attempt":1', '"attempt":2') } : r));
      expect(changed[4]!.data).not.toBe(rows[4]!.data);
      const error = refusal(() => target.importRows('exp', changed));
      expect(error.message).toMatch(/^cannot import: row 5: its hash does not match its content/);
      unchanged(target);
      const at = rows.map((r, i) => (i === 6 ? { ...r, at: r.at.replace('2026', '2027') } : r));
      expect(refusal(() => target.importRows('exp', at)).row).toBe(7);
      unchanged(target);
      source.close();
      target.close();
    });

    it('refuses a gap in a stream\'s versions even with a valid chain, and writes nothing', () => {
      const { store: source, rows } = sourceLog();
      const target = targetLog();
      // rows[2] is exp/T0/s1/1 version 2; its next row (rows[4], version 3) then follows version 1
      expect([rows[2]!.stream, rows[2]!.version, rows[4]!.version]).toEqual(['exp/T0/s1/1', 2, 3]);
      const error = refusal(() => target.importRows('exp', rechain(rows.filter((_, i) => i !== 2))));
      expect(error.message).toMatch(/^cannot import: row 4: stream exp\/T0\/s1\/1 goes from version 1 to 3/);
      unchanged(target);
      source.close();
      target.close();
    });

    it('refuses an experiment that exists already, and writes nothing', () => {
      const { store: source, rows } = sourceLog();
      const target = targetLog();
      target.importRows('exp', rows);
      const head = target.head('exp');
      const all = [...target.readExperiment('exp')];
      expect(refusal(() => target.importRows('exp', rows)).message).toMatch(/experiment exp already exists in this log/);
      expect(target.head('exp')).toEqual(head);
      expect([...target.readExperiment('exp')]).toEqual(all);
      source.close();
      target.close();
    });

    it('refuses rows of another experiment, events that do not decode and events of a newer schema, naming the row', () => {
      const { store: source, rows } = sourceLog();
      const target = targetLog();
      expect(refusal(() => target.importRows('exp2', rows)).message).toMatch(/row 1: it belongs to experiment "exp", not "exp2"/);
      const badEvent = rechain(rows.map((r, i) => (i === 3 ? { ...r, data: r.data.replace('"attempt":1', '"attempt":0') } : r)));
      expect(refusal(() => target.importRows('exp', badEvent)).message).toMatch(/row 4: stream exp\/T0\/s1\/2, version 2 cannot be read: .*data\.attempt/);
      const newer = rechain(rows.map((r, i) => (i === 5 ? { ...r, schema: 99 } : r)));
      expect(refusal(() => target.importRows('exp', newer)).message).toMatch(/row 6: .*event schema 99, newer than this expctl's/);
      const badJson = rechain(rows.map((r, i) => (i === 1 ? { ...r, state: '{' } : r)));
      expect(refusal(() => target.importRows('exp', badJson)).message).toMatch(/row 2: .*its state is not valid JSON/);
      expect(refusal(() => target.importRows('exp', [])).message).toMatch(/no rows/);
      unchanged(target);
      source.close();
      target.close();
    });

    it('gives the lease to one driver at a time and refuses a second, naming the holder (I7)', () => {
      const { store, env } = fresh();
      const first = { id: 'driver-1', pid: 4121, host: 'lab-1' };
      const second = { id: 'driver-2', pid: 5000, host: 'lab-1' };
      expect(store.acquireLease('exp', first, { staleAfterMs: 120_000 })).toMatchObject({ takenOver: null, lease: { pid: 4121, heartbeatAt: env.now() } });
      env.advance(100_000);
      store.heartbeat('exp', 'driver-1');
      env.advance(100_000);
      let error: unknown;
      try {
        store.acquireLease('exp', second, { staleAfterMs: 120_000 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LeaseHeldError);
      expect((error as Error).message).toBe('experiment exp is being driven by pid 4121 on host lab-1 (heartbeat 100 s ago)');
      expect(store.readLease('exp')).toMatchObject({ id: 'driver-1', pid: 4121 });
      expect(store.acquireLease('exp', first, { staleAfterMs: 120_000 }).takenOver).toBeNull();
      store.close();
    });

    it('takes over a lease whose heartbeat is older than the timeout; the old holder then loses it', () => {
      const { store, env } = fresh();
      store.acquireLease('exp', { id: 'old', pid: 4121, host: 'lab-2' }, { staleAfterMs: 120_000 });
      env.advance(120_001);
      const { takenOver, lease } = store.acquireLease('exp', { id: 'new', pid: 5000, host: 'lab-1' }, { staleAfterMs: 120_000 });
      expect(takenOver).toMatchObject({ id: 'old', pid: 4121, host: 'lab-2' });
      expect(lease).toMatchObject({ id: 'new', pid: 5000 });
      expect(() => store.heartbeat('exp', 'old')).toThrow(LeaseLostError);
      store.releaseLease('exp', 'old');
      expect(store.readLease('exp')?.id).toBe('new');
      store.close();
    });

    it('takes over at once a lease whose holder pid is dead on this host, but not one on another host', () => {
      const { store, env } = fresh();
      store.acquireLease('here', { id: 'old', pid: 4121, host: 'lab-1' }, { staleAfterMs: 120_000 });
      store.acquireLease('there', { id: 'old', pid: 4121, host: 'lab-9' }, { staleAfterMs: 120_000 });
      env.dead.add(4121);
      expect(store.acquireLease('here', { id: 'new', pid: 5000, host: 'lab-1' }, { staleAfterMs: 120_000 }).takenOver?.pid).toBe(4121);
      expect(() => store.acquireLease('there', { id: 'new', pid: 5000, host: 'lab-1' }, { staleAfterMs: 120_000 })).toThrow(LeaseHeldError);
      store.close();
    });

    it('frees a released lease', () => {
      const { store } = fresh();
      store.acquireLease('exp', { id: 'a', pid: 1, host: 'lab-1' }, { staleAfterMs: 1000 });
      store.releaseLease('exp', 'a');
      expect(store.readLease('exp')).toBeNull();
      expect(store.acquireLease('exp', { id: 'b', pid: 2, host: 'lab-1' }, { staleAfterMs: 1000 }).takenOver).toBeNull();
      store.close();
    });

    it('records a checkpoint with snapshots at a row of the chain, carrying the digest of the snapshots forward', () => {
      const { store } = fresh();
      const a = store.append('exp', runRows('exp/T0/s1/1', 2));
      const b = store.append('exp', runRows('exp/T0/s1/2', 1, 2));
      const snap = (row: StoredRow, first: StoredRow) => ({
        stream: row.stream, version: row.version, machine: row.machine, recordedMachine: row.machine, state: row.raw.state, context: row.raw.context,
        snapshotHash: row.snapshotHash, parent: null, createdSeq: first.seq, created: first.at,
      });
      expect(store.resumeBase('exp')).toBeNull();
      const first = store.saveCheckpoint('exp', { seq: a[1]!.seq, hash: a[1]!.hash, streams: 1 }, [snap(a[1]!, a[0]!)]);
      expect(first).toEqual({ experiment: 'exp', seq: a[1]!.seq, hash: a[1]!.hash, rows: 2, streams: 1, digest: snapshotsDigest([snap(a[1]!, a[0]!)]) });
      const last = b[b.length - 1]!;
      store.saveCheckpoint('exp', { seq: last.seq, hash: last.hash, streams: 2 }, [snap(a[2]!, a[0]!), snap(last, b[0]!)]);
      expect(store.checkpoints('exp').map((c) => [c.seq, c.rows, c.streams])).toEqual([[a[1]!.seq, 2, 1], [last.seq, 5, 2]]);
      // a stream keeps only its newest snapshot, and the newest checkpoint's digest is of the snapshots there are
      expect(store.snapshots('exp')).toEqual([snap(a[2]!, a[0]!), snap(last, b[0]!)]);
      const base = store.resumeBase('exp')!;
      expect(base.checkpoint).toEqual({ experiment: 'exp', seq: last.seq, hash: last.hash, rows: 5, streams: 2, digest: snapshotsDigest(store.snapshots('exp')) });
      expect(base.row).toEqual({ ...last.raw, seq: last.seq, prevHash: last.prevHash, hash: last.hash });
      expect(base.rows).toBe(5);
      expect(base.snapshots.map((s) => s.stream)).toEqual(['exp/T0/s1/1', 'exp/T0/s1/2']);
      store.close();
    });

    it('refuses a checkpoint that is not at a row of the experiment with that hash', () => {
      const { store } = fresh();
      const rows = store.append('exp', runRows('exp/T0/s1/1', 1));
      store.append('other', runRows('other/T0/s1/1', 1));
      expect(() => store.saveCheckpoint('exp', { seq: rows[1]!.seq, hash: 'f'.repeat(64), streams: 1 }, [])).toThrow(/does not match the log: that row has another hash/);
      expect(() => store.saveCheckpoint('exp', { seq: rows[1]!.seq + 1, hash: rows[1]!.hash, streams: 1 }, [])).toThrow(/does not match the log: it has no such row/);
      expect(store.checkpoints('exp')).toEqual([]);
      store.close();
    });

    it('reads the rows a query selects: streams and those below, types and namespaces, a data field, newest first with a limit', () => {
      const { store } = fresh();
      store.append('exp', runRows('exp/T0/s1/1', 3));
      store.append('exp', runRows('exp/T0/s10/1', 2));
      store.append('exp', runRows('exp/T1/s1/1', 1));
      const read = (query: Parameters<EventStore['readRows']>[1]) => [...store.readRows('exp', query)].map((r) => `${r.seq}:${r.stream.slice(4)}:${r.event.type}`);
      const all = read({});
      expect(all).toHaveLength(9);
      expect(read({ streams: ['exp/T0/s1'] })).toEqual(all.filter((r) => r.includes(':T0/s1/')));
      expect(read({ streams: ['exp/T0/s1/1', 'exp/T1'] })).toEqual(all.filter((r) => r.includes(':T0/s1/') || r.includes(':T1/')));
      expect(read({ types: ['actor.created'] })).toEqual(all.filter((r) => r.endsWith('actor.created')));
      expect(read({ types: ['effect.*'] })).toEqual(all.filter((r) => r.includes('effect.')));
      expect(read({ types: ['eff*', 'actor.created'] })).toEqual(all);
      expect(read({ types: ['effect'] })).toEqual([]);
      expect(read({ dataField: { field: 'effect', values: ['createWorktree', 'applyResources'] } })).toEqual([all[2], all[3], all[6]]);
      expect(read({ newestFirst: true, limit: 4 })).toEqual(all.slice(-4).reverse());
      expect(read({ newestFirst: true, fromSeq: 2, toSeq: 5 })).toEqual(all.slice(1, 5).reverse());
      expect(read({ fromSeq: 3, toSeq: 4 })).toEqual(all.slice(2, 4));
      store.close();
    });

    it('reads every row with its recorded state and context, without decoding events', () => {
      const { store } = fresh();
      const rows = store.append('exp', runRows('exp/T0/s1/1', 2));
      const states = [...store.readStates('exp', { fromSeq: rows[1]!.seq })];
      expect(states).toEqual(rows.slice(1).map((r) => ({ seq: r.seq, stream: r.stream, version: r.version, type: r.event.type, at: r.at, machine: r.machine, state: r.state, context: r.context })));
      store.close();
    });

    it('refuses experiment keys that have a "/" (a stream\'s name says whose it is)', () => {
      const { store } = fresh();
      expect(() => store.append('exp/T0', runRows('exp/T0/s1/1', 1))).toThrow(InvalidAppendError);
      store.close();
    });
  });
}

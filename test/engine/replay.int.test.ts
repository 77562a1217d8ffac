import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { essenceOf, pendingEffect, replay, restore, snapshotHash, snapshotOf, verifyLog } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { completed, failed } from '../support/events.js';
import { LogWriter } from '../support/log.js';
import { useTempDir } from '../support/temp.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();
const runInput = (run: number) => ({ tier: 'T0', subtest: 'a', run, maxAttempts: 2 });

function writeLog(file: string): LogWriter {
  const store = openLog(file);
  const writer = new LogWriter(store, lifecycleRegistry, 'exp')
    .create('exp/T0/a', 'subtest', { tier: 'T0', subtest: 'a', runs: 2, maxAttempts: 2 })
    .send('exp/T0/a', completed('startRuns'))
    .create('exp/T0/a/1', 'run', runInput(1), 'exp/T0/a')
    .create('exp/T0/a/2', 'run', runInput(2), 'exp/T0/a')
    .send('exp/T0/a/1', completed('createRunDir'), completed('createWorktree'))
    .send('exp/T0/a/2', failed('createRunDir', 1, { retryable: true }));
  store.close();
  return writer;
}

describe('replay (I2, I3)', () => {
  it('rebuilds every actor of an experiment exactly, with its parent and version, running no effect', () => {
    const file = join(tempDir(), 'expctl.db');
    const writer = writeLog(file);
    const store = openLog(file, { readonly: true });
    const { actors, rows, lastSeq } = replay(store, lifecycleRegistry, 'exp');
    expect(rows).toBe(7);
    expect(lastSeq).toBe(7);
    for (const stream of ['exp/T0/a', 'exp/T0/a/1', 'exp/T0/a/2']) {
      expect(essenceOf(actors.get(stream)!.snapshot)).toEqual(essenceOf(writer.snapshot(stream)));
    }
    expect(actors.get('exp/T0/a/1')).toMatchObject({ version: 3, parent: 'exp/T0/a' });
    store.close();
  });

  it('finds the effect each actor still waits for, with its idempotency key (I3)', () => {
    const file = join(tempDir(), 'expctl.db');
    writeLog(file);
    const store = openLog(file, { readonly: true });
    const { actors } = replay(store, lifecycleRegistry, 'exp');
    const pending = [...actors.values()].map((a) => pendingEffect(a.stream, a.snapshot));
    expect(pending).toEqual([
      null,
      { stream: 'exp/T0/a/1', state: 'run_worktree_created', effect: 'applyResources', attempt: 1, key: 'exp/T0/a/1/run_worktree_created/1' },
      { stream: 'exp/T0/a/2', state: 'run_pending', effect: 'createRunDir', attempt: 2, key: 'exp/T0/a/2/run_pending/2' },
    ]);
    store.close();
  });

  it('stops at a chosen row (the state as of that seq)', () => {
    const file = join(tempDir(), 'expctl.db');
    writeLog(file);
    const store = openLog(file, { readonly: true });
    const { actors } = replay(store, lifecycleRegistry, 'exp', { toSeq: 5 });
    expect(actors.get('exp/T0/a/1')!.snapshot.value).toBe('run_dir_created');
    expect(actors.get('exp/T0/a/2')!.snapshot.value).toBe('run_pending');
    store.close();
  });

  it('resumes from a checkpoint to the same state, and verify checks every snapshot against replay', () => {
    const file = join(tempDir(), 'expctl.db');
    writeLog(file);
    const store = openLog(file);
    const full = replay(store, lifecycleRegistry, 'exp');
    const run1 = store.readStream('exp/T0/a/1', { toVersion: 2 })[1]!;
    const snapshotsAt = replay(store, lifecycleRegistry, 'exp', { toSeq: run1.seq }).actors;
    store.saveCheckpoint('exp', { seq: run1.seq, hash: run1.hash, streams: snapshotsAt.size }, [...snapshotsAt.values()].map((a) => snapshotOf(a)));
    const fromSnapshots = restore(store, lifecycleRegistry, 'exp')!;
    expect(fromSnapshots.rows).toBe(full.rows - run1.seq);
    for (const [stream, actor] of full.actors) expect(essenceOf(fromSnapshots.actors.get(stream)!.snapshot)).toEqual(essenceOf(actor.snapshot));
    expect(verifyLog(store, lifecycleRegistry, 'exp').ok).toBe(true);

    // a snapshot recorded wrong (here: of the run's last state, as of its version 2) is what verify finds
    const wrong = snapshotOf({ ...snapshotsAt.get('exp/T0/a/1')!, snapshot: full.actors.get('exp/T0/a/1')!.snapshot });
    store.saveCheckpoint('exp', { seq: run1.seq, hash: run1.hash, streams: snapshotsAt.size }, [wrong]);
    expect(verifyLog(store, lifecycleRegistry, 'exp').problem).toMatchObject({ kind: 'snapshot', stream: 'exp/T0/a/1', version: 2 });
    expect(snapshotHash(full.actors.get('exp/T0/a/1')!.snapshot)).toBe(wrong.snapshotHash);
    store.close();
  });
});

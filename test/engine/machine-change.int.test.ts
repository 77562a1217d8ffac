import { join } from 'node:path';
import { assign, createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRegistry, replay, ReplayDivergenceError, verifyLog } from '../../engine/index.js';
import { experimentMachine, runMachine, subtestMachine, tierMachine } from '../../machines/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { completed, failed, resumed } from '../support/events.js';
import { LogWriter } from '../support/log.js';
import { useTempDir } from '../support/temp.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();
const withRun = (run: typeof runMachine | ReturnType<typeof createMachine>) =>
  createRegistry([experimentMachine, tierMachine, subtestMachine, run as typeof runMachine]);

/** A real log: a run that retried, failed, was resumed and went on. */
function writeLog(file: string): void {
  const store = openLog(file);
  new LogWriter(store, lifecycleRegistry, 'exp')
    .create('exp/T0/a/1', 'run', { tier: 'T0', subtest: 'a', run: 1, maxAttempts: 2 })
    .send('exp/T0/a/1', completed('createRunDir'), failed('createWorktree', 1, { retryable: true }), failed('createWorktree', 2, { retryable: true }))
    .send('exp/T0/a/1', resumed(), completed('createWorktree', 3), completed('applyResources'));
  store.close();
}

describe('machine definition changes (I5)', () => {
  it('refuses a changed transition, naming the stream, version, row and both states', () => {
    const file = join(tempDir(), 'expctl.db');
    writeLog(file);
    const config = runMachine.config as Record<string, any>;
    const skipping = createMachine(
      {
        ...config,
        states: {
          ...config.states,
          run_dir_created: {
            ...config.states.run_dir_created,
            on: { ...config.states.run_dir_created.on, 'effect.completed': { ...config.states.run_dir_created.on['effect.completed'], target: 'run_resources_applied' } },
          },
        },
      } as any,
      runMachine.implementations as any,
    );
    const store = openLog(file, { readonly: true });
    let error: unknown;
    try {
      replay(store, withRun(skipping), 'exp');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReplayDivergenceError);
    expect(error).toMatchObject({ stream: 'exp/T0/a/1', version: 6, seq: 6, expectedState: 'run_worktree_created', actualState: 'run_resources_applied' });
    expect((error as Error).message).toContain('the log records state run_worktree_created, the machine now gives run_resources_applied');
    expect((error as ReplayDivergenceError).hint).toContain('expctl fork <id> --at 5');
    const report = verifyLog(store, withRun(skipping), 'exp');
    expect(report.problem).toMatchObject({ kind: 'replay', seq: 6, stream: 'exp/T0/a/1', version: 6 });
    store.close();
  });

  it('refuses a changed action with a readable diff of the context', () => {
    const file = join(tempDir(), 'expctl.db');
    writeLog(file);
    const doubling = runMachine.provide({
      actions: { attemptFailed: assign(({ context }) => ({ attempt: context.attempt + 2, failures: context.failures + 1 })) },
    });
    const store = openLog(file, { readonly: true });
    expect(() => replay(store, withRun(doubling), 'exp')).toThrow(ReplayDivergenceError);
    try {
      replay(store, withRun(doubling), 'exp');
    } catch (e) {
      const error = e as ReplayDivergenceError;
      expect(error.version).toBe(3);
      expect(error.diff).toEqual(['context.attempt: expected 2, got 3']);
      expect(error.message).toContain('context.attempt: expected 2, got 3');
    }
    store.close();
  });

  it('accepts a compatible change (a new unrelated state) and reports the new definition', () => {
    const file = join(tempDir(), 'expctl.db');
    writeLog(file);
    const config = runMachine.config as Record<string, any>;
    const extended = createMachine(
      { ...config, states: { ...config.states, run_archived: { type: 'final' } } } as any,
      runMachine.implementations as any,
    );
    const registry = withRun(extended);
    expect(registry.get('run')!.ref).not.toBe(lifecycleRegistry.get('run')!.ref);
    const store = openLog(file, { readonly: true });
    const report = verifyLog(store, registry, 'exp');
    expect(report).toMatchObject({ ok: true, problem: null, rows: 7 });
    expect(report.machineChanges).toEqual([{ recorded: lifecycleRegistry.get('run')!.ref, current: registry.get('run')!.ref, streams: 1 }]);
    expect(replay(store, registry, 'exp').actors.get('exp/T0/a/1')!.snapshot.value).toBe('run_resources_applied');
    store.close();
  });
});

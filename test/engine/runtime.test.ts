import { describe, expect, it, vi } from 'vitest';
import { EffectFailure, replay, Runtime, type EffectHandler, type RuntimeOptions } from '../../engine/index.js';
import { RUN_STEPS } from '../../machines/index.js';
import { LOCAL_EFFECTS, lifecycleRegistry } from '../../runner/registry.js';
import type { EventStore } from '../../store/types.js';
import { memoryLog } from '../support/stores.js';

const runInput = (run: number) => ({ tier: 'T0', subtest: 'a', run, maxAttempts: 2 });
const subtestInput = { tier: 'T0', subtest: 'a', runs: 2, maxAttempts: 2 };

function runtime(store: EventStore, handler: (effect: string) => EffectHandler, extra: Partial<RuntimeOptions> = {}) {
  return new Runtime({ store, registry: lifecycleRegistry, experiment: 'e', handler: (request) => handler(request.effect), ...extra });
}

const ok: EffectHandler = async () => ({ output: null });
const spawnRuns: EffectHandler = async (ctx) => ({
  output: null,
  spawn: [1, 2].map((run) => ({ stream: `${ctx.request.stream}/${run}`, machine: 'run', input: runInput(run) })),
});

describe('Runtime (the live loop)', () => {
  it('drives a subtest and its runs to the end; children report to the parent in the same append', async () => {
    const store = memoryLog();
    const rt = runtime(store, (effect) => (effect === 'startRuns' ? spawnRuns : ok));
    rt.create([{ stream: 'e/T0/a', machine: 'subtest', input: subtestInput }], null);
    await rt.whenIdle();
    expect(rt.actors.get('e/T0/a')!.snapshot.value).toBe('subtest_aggregated');
    expect(rt.actors.get('e/T0/a/1')!.snapshot.value).toBe('run_worktree_cleaned');
    const rows = [...store.readExperiment('e')];
    const finishing = rows.find((r) => r.stream === 'e/T0/a/1' && r.state === 'run_worktree_cleaned')!;
    const notice = rows.find((r) => r.stream === 'e/T0/a' && r.event.type === 'run.finished' && r.event.data.child === '1')!;
    expect(notice.seq).toBe(finishing.seq + 1);
    expect(notice.cause).toBe('child');
    // children are created in the same append as the completion that spawned them
    const created = rows.filter((r) => r.event.type === 'actor.created' && r.stream.startsWith('e/T0/a/'));
    const spawned = rows.find((r) => r.stream === 'e/T0/a' && r.event.type === 'effect.completed')!;
    expect(created.map((r) => r.seq)).toEqual([spawned.seq - 2, spawned.seq - 1]);
  });

  it('appends the transition before starting the effect it names (I1)', async () => {
    const store = memoryLog();
    const seen: string[] = [];
    const rt = runtime(store, () => async (ctx) => {
      seen.push(`${ctx.request.state}:${store.readStream(ctx.request.stream).at(-1)!.state}`);
      return { output: null };
    });
    rt.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await rt.whenIdle();
    expect(seen).toEqual(RUN_STEPS.map(([state]) => `${state}:${state}`));
  });

  it('waits for the disk before the agent, the judges and a timed wait, not before local steps (group commit, I1)', async () => {
    const store = memoryLog();
    const appends: { states: string[]; durable: boolean }[] = [];
    const append = store.append.bind(store);
    store.append = (experiment, rows, options) => {
      const stored = append(experiment, rows, options);
      appends.push({ states: stored.map((r) => String(r.state)), durable: options?.durable ?? true });
      return stored;
    };
    let calls = 0;
    const rt = runtime(store, (effect) => async () => {
      if (effect === 'runAgent' && calls++ === 0) throw new EffectFailure('429', true, { retryAt: Date.now() + 20 });
      return { output: null };
    }, { localEffects: LOCAL_EFFECTS });
    rt.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await rt.whenIdle();
    const durable = appends.filter((a) => a.durable).map((a) => a.states.at(-1));
    // entering the agent's state (twice: first try, then after the wait), the wait itself, the judges' state
    expect(durable).toEqual(['run_prompt_written', 'run_rate_limited', 'run_prompt_written', 'run_diff_captured']);
    expect(appends.length).toBe(store.readStream('e/r').length);

    const everyRow = memoryLog();
    const flags: boolean[] = [];
    const appendAll = everyRow.append.bind(everyRow);
    everyRow.append = (experiment, rows, options) => (flags.push(options?.durable ?? true), appendAll(experiment, rows, options));
    const plain = runtime(everyRow, () => ok);
    plain.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await plain.whenIdle();
    expect(flags.every(Boolean)).toBe(true);
  });

  it('records a failure, retries with the next attempt after the backoff, then fails the run', async () => {
    const store = memoryLog();
    const attempts: number[] = [];
    const rt = runtime(store, (effect) => async (ctx) => {
      if (effect !== 'createRunDir') return { output: null };
      attempts.push(ctx.request.attempt);
      throw new EffectFailure('disk full', true);
    }, { backoffMs: (failures) => failures * 5 });
    rt.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await rt.whenIdle();
    expect(attempts).toEqual([1, 2]);
    expect(rt.actors.get('e/r')!.snapshot.value).toBe('run_failed');
    expect(store.readStream('e/r').filter((r) => r.event.type === 'effect.failed').map((r) => r.event.data)).toEqual([
      expect.objectContaining({ attempt: 1, retryable: true, error: { message: 'disk full', code: 'EXPCTL_EFFECT_FAILED' } }),
      expect.objectContaining({ attempt: 2 }),
    ]);
  });

  it('pauses a rate-limited run until the recorded deadline, then retries the agent', async () => {
    const store = memoryLog();
    let calls = 0;
    const started = Date.now();
    const rt = runtime(store, (effect) => async () => {
      if (effect === 'runAgent' && calls++ === 0) throw new EffectFailure('429', true, { retryAt: Date.now() + 80 });
      return { output: null };
    });
    rt.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await rt.whenIdle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    const types = store.readStream('e/r').map((r) => `${r.event.type}${r.state === 'run_rate_limited' ? '*' : ''}`);
    expect(types).toContain('effect.failed*');
    expect(types).toContain('timer.elapsed');
    expect(rt.actors.get('e/r')!.snapshot.value).toBe('run_worktree_cleaned');
  });

  it('stop() aborts running effects without recording them; resume restarts them with the same key (I3)', async () => {
    const store = memoryLog();
    const keys: string[] = [];
    const blocking: EffectHandler = (ctx) => {
      keys.push(ctx.request.key);
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const first = runtime(store, () => blocking);
    first.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await vi.waitFor(() => expect(keys).toHaveLength(1));
    await first.stop('SIGINT');
    expect(store.readStream('e/r').map((r) => r.event.type)).toEqual(['actor.created']);

    const { actors } = replay(store, lifecycleRegistry, 'e');
    const second = new Runtime({ store, registry: lifecycleRegistry, experiment: 'e', handler: () => async (ctx) => (keys.push(ctx.request.key), { output: null }) }, actors);
    second.resumeEffects();
    await second.whenIdle();
    expect(keys.slice(0, 2)).toEqual(['e/r/run_pending/1', 'e/r/run_pending/1']);
    expect(second.actors.get('e/r')!.snapshot.value).toBe('run_worktree_cleaned');
  });

  it('records started commands as effect.started without changing state', async () => {
    const store = memoryLog();
    const rt = runtime(store, (effect) => async (ctx) => {
      if (effect === 'runAgent') ctx.recordStart({ pid: 123, pgid: 123, startTicks: 99, command: ['node', 'agent.mjs'] });
      return { output: null };
    });
    rt.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await rt.whenIdle();
    const started = store.readStream('e/r').find((r) => r.event.type === 'effect.started')!;
    expect(started.event.data).toEqual({ effect: 'runAgent', attempt: 1, key: 'e/r/run_prompt_written/1', pid: 123, pgid: 123, startTicks: 99, command: ['node', 'agent.mjs'] });
    expect(started.state).toBe('run_prompt_written');
  });

  it('admits effects through the given gate (concurrency limits)', async () => {
    const store = memoryLog();
    let active = 0;
    let peak = 0;
    const waiting: (() => void)[] = [];
    let free = 1;
    const admit = () =>
      new Promise<() => void>((resolve) => {
        const grant = () => (free--, resolve(() => (free++, waiting.shift()?.())));
        if (free > 0) grant();
        else waiting.push(grant);
      });
    const rt = runtime(store, (effect) => (effect === 'startRuns' ? spawnRuns : async () => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 1));
      active--;
      return { output: null };
    }), { admit });
    rt.create([{ stream: 'e/T0/a', machine: 'subtest', input: subtestInput }], null);
    await rt.whenIdle();
    expect(peak).toBe(1);
    expect(rt.actors.get('e/T0/a')!.snapshot.value).toBe('subtest_aggregated');
  });

  it('stops everything and reports the error when the log refuses an append', async () => {
    const store = memoryLog();
    const rt = runtime(store, (effect) => async (ctx) => {
      // another writer appends to the same stream behind the runtime's back
      if (effect === 'createWorktree') ctx.store.append('e', [{ ...ctx.history().at(-1)!, expectedVersion: ctx.history().length, event: { type: 'timer.elapsed', data: { timer: 'x', at: 0 } } }]);
      return { output: null };
    });
    rt.create([{ stream: 'e/r', machine: 'run', input: runInput(1) }], null);
    await expect(rt.whenIdle()).rejects.toThrow(/another writer appended first/);
    expect(rt.stopping).toBe(true);
  });
});

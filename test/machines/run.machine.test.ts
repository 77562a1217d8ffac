import { describe, expect, it } from 'vitest';
import { isFinal } from '../../engine/index.js';
import { RUN_STEPS, runMachine } from '../../machines/index.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import { completed, failed, finished, reset, resumed, timerElapsed } from '../support/events.js';
import { given, when } from '../support/given.js';

const input = { tier: 'T0', subtest: '00-empty', run: 1, maxAttempts: 3 };
/** Completions of every step up to (not including) `state`. */
const upTo = (state: string): LifecycleEvent[] => {
  const steps = RUN_STEPS.map(([s, effect]) => ({ s, effect }));
  return steps.slice(0, steps.findIndex((x) => x.s === state)).map((x) => completed(x.effect));
};

describe('run machine', () => {
  it('starts in run_pending and asks for the run directory', () => {
    const snapshot = given(runMachine, input);
    expect(snapshot.value).toBe('run_pending');
    expect(snapshot.getMeta()).toEqual({ 'run.run_pending': { effect: 'createRunDir' } });
  });

  it('walks the happy path through every state of docs/design.md §2.4 to run_worktree_cleaned, one effect per state', () => {
    let snapshot = given(runMachine, input);
    const visited: unknown[] = [snapshot.value];
    for (const [, effect] of RUN_STEPS) {
      const step = when(runMachine, snapshot, completed(effect));
      snapshot = step.snapshot;
      visited.push(step.state);
      expect(step.effects.length).toBe(isFinal(snapshot) ? 0 : 1);
    }
    expect(visited).toEqual([
      'run_pending', 'run_dir_created', 'run_worktree_created', 'run_resources_applied', 'run_config_committed',
      'run_prompt_written', 'run_agent_complete', 'run_changes_committed', 'run_diff_captured', 'run_judge_complete',
      'run_finalized', 'run_report_written', 'run_worktree_cleaned',
    ]);
    expect(isFinal(snapshot)).toBe(true);
  });

  it('ignores a completion from an earlier attempt or of another effect', () => {
    const snapshot = given(runMachine, input, [failed('createRunDir', 1, { retryable: true })]);
    expect(when(runMachine, snapshot, completed('createRunDir', 1)).state).toBe('run_pending');
    expect(when(runMachine, snapshot, completed('createWorktree', 2)).state).toBe('run_pending');
    expect(when(runMachine, snapshot, completed('createRunDir', 2)).state).toBe('run_dir_created');
  });

  it('retries a retryable effect error in the same state with the next attempt', () => {
    const snapshot = given(runMachine, input, upTo('run_diff_captured'));
    const step = when(runMachine, snapshot, failed('runJudges', 1, { retryable: true }));
    expect(step.state).toBe('run_diff_captured');
    expect(step.context).toMatchObject({ attempt: 2, failures: 1 });
    expect(step.effects).toEqual(['runJudges']);
  });

  it('fails the run after maxAttempts retryable errors (docs/design.md §2.6 effect error row)', () => {
    const snapshot = given(runMachine, input, [
      failed('createRunDir', 1, { retryable: true }),
      failed('createRunDir', 2, { retryable: true }),
    ]);
    const step = when(runMachine, snapshot, failed('createRunDir', 3, { retryable: true, message: 'disk full' }));
    expect(step.state).toBe('run_failed');
    expect(step.context).toMatchObject({ resumeTo: 'run_pending', failure: { state: 'run_pending', effect: 'createRunDir', message: 'disk full' } });
    expect(step.snapshot.getMeta()).toEqual({ 'run.run_failed': { outcome: 'failed' } });
  });

  it('fails at once on a non-retryable error', () => {
    const step = when(runMachine, given(runMachine, input, upTo('run_agent_complete')), failed('commitChanges'));
    expect(step.state).toBe('run_failed');
    expect(step.context.resumeTo).toBe('run_agent_complete');
  });

  it('on resume, goes back to the state that failed and restarts its effect with a new attempt', () => {
    const snapshot = given(runMachine, input, [...upTo('run_agent_complete'), failed('commitChanges', 1)]);
    const step = when(runMachine, snapshot, resumed());
    expect(step.state).toBe('run_agent_complete');
    expect(step.context).toMatchObject({ attempt: 2, failures: 0, resumeTo: null, failure: null });
    expect(step.effects).toEqual(['commitChanges']);
  });

  it('pauses on a rate limit with the recorded deadline instead of failing (docs/design.md §2.6 rate-limit row)', () => {
    const snapshot = given(runMachine, input, upTo('run_prompt_written'));
    const step = when(runMachine, snapshot, failed('runAgent', 1, { retryAt: 1_700_000_060_000 }));
    expect(step.state).toBe('run_rate_limited');
    expect(step.context).toMatchObject({ retryAt: 1_700_000_060_000, rateLimits: 1, failures: 0 });
    expect(step.snapshot.getMeta()).toEqual({ 'run.run_rate_limited': { timer: { name: 'retryAfter', field: 'retryAt' } } });
  });

  it('retries the agent step when the rate-limit wait has elapsed, as a new attempt', () => {
    const snapshot = given(runMachine, input, [...upTo('run_prompt_written'), failed('runAgent', 1, { retryAt: 5 })]);
    expect(when(runMachine, snapshot, timerElapsed('other')).state).toBe('run_rate_limited');
    const step = when(runMachine, snapshot, timerElapsed('retryAfter', 5));
    expect(step.state).toBe('run_prompt_written');
    expect(step.context).toMatchObject({ attempt: 2, retryAt: null });
    expect(step.effects).toEqual(['runAgent']);
  });

  it('treats a rate limit outside the agent step as an ordinary failure', () => {
    const step = when(runMachine, given(runMachine, input, upTo('run_diff_captured')), failed('runJudges', 1, { retryAt: 5 }));
    expect(step.state).toBe('run_failed');
  });

  it('is unchanged by events that are not its own', () => {
    const snapshot = given(runMachine, input, upTo('run_prompt_written'));
    const step = when(runMachine, snapshot, finished('run', '1'));
    expect(step.state).toBe('run_prompt_written');
    expect(step.context).toEqual(snapshot.context);
  });

  it('an operator reset sends even a completed run back to a state, as a new attempt that starts its effect', () => {
    const done = given(runMachine, input, RUN_STEPS.map(([, effect]) => completed(effect)));
    expect(isFinal(done)).toBe(true);
    const step = when(runMachine, done, reset('run_agent_complete'));
    expect(step.state).toBe('run_agent_complete');
    expect(step.context).toMatchObject({ attempt: 2, failures: 0 });
    expect(step.effects).toEqual(['commitChanges']);
    expect(isFinal(step.snapshot)).toBe(false);
  });

  it('an operator reset to the current state restarts its effect; to an unknown state does nothing', () => {
    const snapshot = given(runMachine, input, upTo('run_prompt_written'));
    expect(when(runMachine, snapshot, reset('run_prompt_written')).effects).toEqual(['runAgent']);
    expect(when(runMachine, snapshot, reset('nonsense')).context).toEqual(snapshot.context);
  });
});

import { describe, expect, it } from 'vitest';
import { isFinal } from '../../engine/index.js';
import { subtestMachine } from '../../machines/index.js';
import { completed, failed, finished, reset, resumed, retried } from '../support/events.js';
import { given, when } from '../support/given.js';

const input = { tier: 'T0', subtest: '00-empty', runs: 3, maxAttempts: 2 };
const inProgress = [completed('startRuns')];

describe('subtest machine', () => {
  it('fans out, waits for every run, aggregates (happy path)', () => {
    let snapshot = given(subtestMachine, input);
    expect(snapshot.value).toBe('subtest_pending');
    snapshot = when(subtestMachine, snapshot, completed('startRuns')).snapshot;
    expect(snapshot.value).toBe('subtest_runs_in_progress');
    expect(snapshot.context.expected).toEqual(['1', '2', '3']);
    snapshot = when(subtestMachine, snapshot, finished('run', '2')).snapshot;
    snapshot = when(subtestMachine, snapshot, finished('run', '1')).snapshot;
    expect(snapshot.value).toBe('subtest_runs_in_progress');
    const step = when(subtestMachine, snapshot, finished('run', '3'));
    expect(step.state).toBe('subtest_runs_complete');
    expect(step.effects).toEqual(['aggregateSubtest']);
    expect(isFinal(when(subtestMachine, step.snapshot, completed('aggregateSubtest')).snapshot)).toBe(true);
  });

  it('continues when some runs failed (docs/design.md §2.6: fails only if all runs failed)', () => {
    const snapshot = given(subtestMachine, input, [...inProgress, finished('run', '1', 'failed'), finished('run', '2', 'failed')]);
    expect(when(subtestMachine, snapshot, finished('run', '3')).state).toBe('subtest_runs_complete');
  });

  it('fails when every run failed, and says so', () => {
    const snapshot = given(subtestMachine, input, [...inProgress, finished('run', '1', 'failed'), finished('run', '2', 'failed')]);
    const step = when(subtestMachine, snapshot, finished('run', '3', 'failed'));
    expect(step.state).toBe('subtest_failed');
    expect(step.context).toMatchObject({ resumeTo: 'subtest_runs_in_progress', failure: { message: 'no child completed' } });
  });

  it('ignores reports from runs it does not have', () => {
    const snapshot = given(subtestMachine, input, inProgress);
    expect(when(subtestMachine, snapshot, finished('run', '9')).context.children).toEqual({});
  });

  it('when resumed after every run failed, forgets the retried runs and waits for them again', () => {
    const failedAll = given(subtestMachine, input, [
      ...inProgress, finished('run', '1', 'failed'), finished('run', '2', 'failed'), finished('run', '3', 'failed'),
    ]);
    const forgotten = given(subtestMachine, input, [
      ...inProgress, finished('run', '1', 'failed'), finished('run', '2', 'failed'), finished('run', '3', 'failed'),
      retried('run', '1'), retried('run', '3'),
    ]);
    expect(forgotten.value).toBe('subtest_failed');
    expect(forgotten.context.children).toEqual({ '2': 'failed' });
    const step = when(subtestMachine, forgotten, resumed());
    expect(step.state).toBe('subtest_runs_in_progress');
    expect(when(subtestMachine, failedAll, resumed()).state).toBe('subtest_failed');
  });

  it('a retried run that completes replaces its failed outcome', () => {
    const snapshot = given(subtestMachine, input, [...inProgress, finished('run', '1', 'failed'), retried('run', '1'), finished('run', '1')]);
    expect(snapshot.context.children).toEqual({ '1': 'completed' });
  });

  it('fails on an effect error after retries and resumes into that effect', () => {
    const snapshot = given(subtestMachine, input, [failed('startRuns', 1, { retryable: true })]);
    const step = when(subtestMachine, snapshot, failed('startRuns', 2, { retryable: true }));
    expect(step.state).toBe('subtest_failed');
    const back = when(subtestMachine, step.snapshot, resumed());
    expect(back.state).toBe('subtest_pending');
    expect(back.effects).toEqual(['startRuns']);
    expect(back.context.attempt).toBe(3);
  });

  it('reset to its pending state forgets every run; reset to waiting keeps the outcomes it was not told to forget', () => {
    const aggregated = given(subtestMachine, input, [...inProgress, finished('run', '1'), finished('run', '2'), finished('run', '3'), completed('aggregateSubtest')]);
    const fromStart = when(subtestMachine, aggregated, reset('subtest_pending'));
    expect(fromStart.state).toBe('subtest_pending');
    expect(fromStart.context.children).toEqual({});
    const forgotten = when(subtestMachine, aggregated, retried('run', '2')).snapshot;
    expect(forgotten.value).toBe('subtest_aggregated');
    const waiting = when(subtestMachine, forgotten, reset('subtest_runs_in_progress'));
    expect(waiting.state).toBe('subtest_runs_in_progress');
    expect(waiting.context.children).toEqual({ '1': 'completed', '3': 'completed' });
    expect(when(subtestMachine, waiting.snapshot, finished('run', '2')).state).toBe('subtest_runs_complete');
  });
});

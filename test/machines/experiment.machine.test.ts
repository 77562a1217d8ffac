import { describe, expect, it } from 'vitest';
import { isFinal } from '../../engine/index.js';
import { experimentMachine } from '../../machines/index.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import { completed, failed, finished, interrupted, operator, resumed, retried } from '../support/events.js';
import { given, when } from '../support/given.js';

const tiers = [{ id: 'T0', dependsOn: [] }, { id: 'T1', dependsOn: [] }, { id: 'T5', dependsOn: ['T0', 'T1'] }];
const input = (failFast = false) => ({ experiment: 'demo', tiers, failFast, maxAttempts: 2 });
const toTiers = [completed('initializeExperiment'), completed('prepareRepository'), completed('preflightChecks')];

describe('experiment machine', () => {
  it('runs setup, waits for every tier, writes reports, completes (happy path)', () => {
    let snapshot = given(experimentMachine, input(), toTiers);
    expect(snapshot.value).toBe('exp_tiers_running');
    for (const tier of ['T0', 'T1']) snapshot = when(experimentMachine, snapshot, finished('tier', tier)).snapshot;
    expect(snapshot.value).toBe('exp_tiers_running');
    const step = when(experimentMachine, snapshot, finished('tier', 'T5'));
    expect(step.state).toBe('exp_tiers_complete');
    expect(step.effects).toEqual(['writeExperimentReports']);
    snapshot = when(experimentMachine, step.snapshot, completed('writeExperimentReports')).snapshot;
    snapshot = when(experimentMachine, snapshot, completed('completeExperiment')).snapshot;
    expect(snapshot.value).toBe('exp_complete');
    expect(isFinal(snapshot)).toBe(true);
  });

  it('continues past a failed tier without failFast (docs/design.md §2.6)', () => {
    const snapshot = given(experimentMachine, input(false), [...toTiers, finished('tier', 'T0', 'failed'), finished('tier', 'T1')]);
    expect(when(experimentMachine, snapshot, finished('tier', 'T5')).state).toBe('exp_tiers_complete');
  });

  it('fails on the first failed tier with failFast', () => {
    const step = when(experimentMachine, given(experimentMachine, input(true), toTiers), finished('tier', 'T1', 'failed'));
    expect(step.state).toBe('exp_failed');
    expect(step.context.resumeTo).toBe('exp_tiers_running');
  });

  it('records tier outcomes that arrive while failed, and resumes to wait for the retried tier', () => {
    let snapshot = given(experimentMachine, input(true), [...toTiers, finished('tier', 'T1', 'failed'), finished('tier', 'T0')]);
    expect(snapshot.value).toBe('exp_failed');
    expect(snapshot.context.children).toEqual({ T0: 'completed', T1: 'failed' });
    snapshot = when(experimentMachine, snapshot, retried('tier', 'T1')).snapshot;
    const step = when(experimentMachine, snapshot, resumed());
    expect(step.state).toBe('exp_tiers_running');
    expect(step.context.children).toEqual({ T0: 'completed' });
  });

  it('is interrupted from any working state and resumes exactly there (docs/design.md §2.6 SIGINT row)', () => {
    const atRepo = given(experimentMachine, input(), [completed('initializeExperiment')]);
    const stopped = when(experimentMachine, atRepo, interrupted('SIGTERM'));
    expect(stopped.state).toBe('exp_interrupted');
    expect(stopped.effects).toEqual([]);
    const back = when(experimentMachine, stopped.snapshot, resumed());
    expect(back.state).toBe('exp_dir_created');
    expect(back.effects).toEqual(['prepareRepository']);
    expect(back.context.attempt).toBe(2);
  });

  it('keeps a tier outcome that arrives after the interrupt', () => {
    const stopped = given(experimentMachine, input(), [...toTiers, interrupted(), finished('tier', 'T0')]);
    expect(stopped.value).toBe('exp_interrupted');
    expect(stopped.context.children).toEqual({ T0: 'completed' });
    expect(when(experimentMachine, stopped, resumed()).state).toBe('exp_tiers_running');
  });

  it('ignores a late completion of the interrupted effect; resume restarts it', () => {
    const stopped = given(experimentMachine, input(), [interrupted()]);
    expect(when(experimentMachine, stopped, completed('initializeExperiment')).state).toBe('exp_interrupted');
  });

  it('fails when setup keeps failing, and resumes into it', () => {
    const once = given(experimentMachine, input(), [failed('initializeExperiment', 1, { retryable: true })]);
    const step = when(experimentMachine, once, failed('initializeExperiment', 2, { retryable: true }));
    expect(step.state).toBe('exp_failed');
    expect(when(experimentMachine, step.snapshot, resumed()).state).toBe('exp_initializing');
  });

  it('takes tiers added while running and waits for them too (docs/design.md §5: adding tiers is additive)', () => {
    const snapshot = given(experimentMachine, input(), [...toTiers, added('T9'), finished('tier', 'T0'), finished('tier', 'T1'), finished('tier', 'T5')]);
    expect(snapshot.value).toBe('exp_tiers_running');
    expect(snapshot.context.expected).toEqual(['T0', 'T1', 'T5', 'T9']);
    expect(when(experimentMachine, snapshot, finished('tier', 'T9')).state).toBe('exp_tiers_complete');
  });

  it('goes back to running tiers when one is added after the tiers were done, also through an interrupt', () => {
    const done = [...toTiers, finished('tier', 'T0'), finished('tier', 'T1'), finished('tier', 'T5')];
    expect(when(experimentMachine, given(experimentMachine, input(), done), added('T9')).state).toBe('exp_tiers_running');
    const stopped = given(experimentMachine, input(), [...done, completed('writeExperimentReports'), interrupted(), added('T9')]);
    expect(stopped.context.resumeTo).toBe('exp_tiers_running');
    expect(when(experimentMachine, stopped, resumed()).state).toBe('exp_tiers_running');
  });
});

function added(id: string): LifecycleEvent {
  return { type: 'experiment.tiers_added', data: { tiers: [{ id, dependsOn: [] }], start: { config: {}, configDir: '/x' }, operator } };
}

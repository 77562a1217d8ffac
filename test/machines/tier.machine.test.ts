import { describe, expect, it } from 'vitest';
import { isFinal } from '../../engine/index.js';
import { tierMachine } from '../../machines/index.js';
import { completed, failed, finished, resumed, retried } from '../support/events.js';
import { given, when } from '../support/given.js';

const input = { tier: 'T1', maxAttempts: 2 };
const running = [completed('loadTierConfig', 1, { subtests: ['a', 'b'] }), completed('startSubtests')];

describe('tier machine', () => {
  it('loads its subtests from the effect output, runs them, selects the best, reports, completes', () => {
    let snapshot = given(tierMachine, input, running);
    expect(snapshot.value).toBe('tier_subtests_running');
    expect(snapshot.context.expected).toEqual(['a', 'b']);
    snapshot = when(tierMachine, snapshot, finished('subtest', 'a')).snapshot;
    snapshot = when(tierMachine, snapshot, finished('subtest', 'b', 'failed')).snapshot;
    expect(snapshot.value).toBe('tier_subtests_complete');
    snapshot = when(tierMachine, snapshot, completed('selectBestSubtest', 1, { subtest: 'a', reason: 'highest median score' })).snapshot;
    expect(snapshot.value).toBe('tier_best_selected');
    expect(snapshot.context.best).toEqual({ subtest: 'a', reason: 'highest median score' });
    snapshot = when(tierMachine, snapshot, completed('writeTierReport')).snapshot;
    expect(snapshot.value).toBe('tier_reports_generated');
    snapshot = when(tierMachine, snapshot, completed('completeTier')).snapshot;
    expect(snapshot.value).toBe('tier_complete');
    expect(isFinal(snapshot)).toBe(true);
  });

  it('fails when no subtest succeeded (docs/design.md §2.6)', () => {
    const step = when(tierMachine, given(tierMachine, input, [...running, finished('subtest', 'a', 'failed')]), finished('subtest', 'b', 'failed'));
    expect(step.state).toBe('tier_failed');
    expect(step.snapshot.getMeta()).toEqual({ 'tier.tier_failed': { outcome: 'failed' } });
  });

  it('resumes a failed tier into its running subtests once a failed subtest is being retried', () => {
    const step = when(
      tierMachine,
      given(tierMachine, input, [...running, finished('subtest', 'a', 'failed'), finished('subtest', 'b', 'failed'), retried('subtest', 'b')]),
      resumed(),
    );
    expect(step.state).toBe('tier_subtests_running');
    expect(step.context.children).toEqual({ a: 'failed' });
  });

  it('fails when writing its report keeps failing, and resumes into writing it', () => {
    const atReport = [...running, finished('subtest', 'a'), finished('subtest', 'b'), completed('selectBestSubtest', 1, { subtest: 'a', reason: 'x' })];
    const step = when(tierMachine, given(tierMachine, input, atReport), failed('writeTierReport'));
    expect(step.state).toBe('tier_failed');
    expect(when(tierMachine, step.snapshot, resumed()).effects).toEqual(['writeTierReport']);
  });

  it('a tier with no subtests to run fails rather than hanging', () => {
    const step = when(tierMachine, given(tierMachine, input, [completed('loadTierConfig', 1, { subtests: [] })]), completed('startSubtests'));
    expect(step.state).toBe('tier_failed');
  });
});

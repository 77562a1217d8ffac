import { setup } from 'xstate';
import type { LifecycleEvent } from '../schemas/events.js';
import { NOTICES, childOutcomeActions, lifecycleActions, lifecycleContext, lifecycleGuards, parentGuards, type LifecycleContext, type ParentContext } from './lifecycle.js';
import { awaitingState, childEvents, completed, effectState, parentResetExits, resumeExits, type StateMeta } from './states.js';

export interface SubtestInput {
  tier: string;
  subtest: string;
  runs: number;
  maxAttempts: number;
}

export interface SubtestContext extends LifecycleContext, ParentContext {
  tier: string;
  subtest: string;
}

const STEPS = ['subtest_pending', 'subtest_runs_in_progress', 'subtest_runs_complete'] as const;

/** Run ids of a subtest: "1" … "N". */
export const runIds = (runs: number) => Array.from({ length: runs }, (_, i) => String(i + 1));

export const subtestMachine = setup({
  types: {} as { context: SubtestContext; events: LifecycleEvent; input: SubtestInput; meta: StateMeta },
  guards: { ...lifecycleGuards, ...parentGuards, shouldFail: parentGuards.noChildCompleted },
  actions: { ...lifecycleActions<SubtestContext>(), ...childOutcomeActions<SubtestContext>() },
}).createMachine({
  id: 'subtest',
  version: '1',
  context: ({ input }) => ({
    ...lifecycleContext(input.maxAttempts),
    tier: input.tier,
    subtest: input.subtest,
    expected: runIds(input.runs),
    children: {},
  }),
  initial: 'subtest_pending',
  on: { ...childEvents(NOTICES.run), 'operator.reset': parentResetExits(STEPS, ['subtest_pending']) },
  states: {
    subtest_pending: effectState('subtest_pending', 'startRuns', 'subtest_runs_in_progress', 'subtest_failed'),
    subtest_runs_in_progress: awaitingState('subtest_runs_in_progress', 'run', 'subtest_runs_complete', 'subtest_failed'),
    subtest_runs_complete: effectState('subtest_runs_complete', 'aggregateSubtest', 'subtest_aggregated', 'subtest_failed'),
    subtest_failed: { meta: { outcome: 'failed' }, on: { 'operator.resumed': resumeExits(STEPS) } },
    subtest_aggregated: completed,
  },
});

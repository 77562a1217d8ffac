import { assertEvent, assign, setup } from 'xstate';
import type { LifecycleEvent } from '../schemas/events.js';
import { NOTICES, childOutcomeActions, lifecycleActions, lifecycleContext, lifecycleGuards, parentGuards, type LifecycleContext, type ParentContext } from './lifecycle.js';
import { awaitingState, childEvents, completed, effectState, recordingOutput, parentResetExits, resumeExits, type StateMeta } from './states.js';

export interface TierInput {
  tier: string;
  maxAttempts: number;
}

export interface TierContext extends LifecycleContext, ParentContext {
  tier: string;
  /** The best subtest and why, once selected (docs/design.md §6). */
  best: { subtest: string; reason: string } | null;
}

const STEPS = [
  'tier_pending',
  'tier_config_loaded',
  'tier_subtests_running',
  'tier_subtests_complete',
  'tier_best_selected',
  'tier_reports_generated',
] as const;

/** `loadTierConfig` outputs `{ subtests: string[] }`: the subtests this tier runs (after `maxSubtests`). */
function subtestsOf(event: LifecycleEvent): string[] {
  assertEvent(event, 'effect.completed');
  const output = event.data.output as { subtests?: unknown } | null;
  const list = output?.subtests;
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
}

/** `selectBestSubtest` outputs `{ subtest, reason }`, or null when no subtest completed. */
function bestOf(event: LifecycleEvent): TierContext['best'] {
  assertEvent(event, 'effect.completed');
  const output = event.data.output as { subtest?: unknown; reason?: unknown } | null;
  return typeof output?.subtest === 'string' ? { subtest: output.subtest, reason: String(output.reason ?? '') } : null;
}

export const tierMachine = setup({
  types: {} as { context: TierContext; events: LifecycleEvent; input: TierInput; meta: StateMeta },
  guards: { ...lifecycleGuards, ...parentGuards, shouldFail: parentGuards.noChildCompleted },
  actions: {
    ...lifecycleActions<TierContext>(),
    ...childOutcomeActions<TierContext>(),
    recordSubtests: assign(({ event }) => ({ expected: subtestsOf(event) })),
    recordBest: assign(({ event }) => ({ best: bestOf(event) })),
  },
}).createMachine({
  id: 'tier',
  version: '1',
  context: ({ input }) => ({
    ...lifecycleContext(input.maxAttempts),
    tier: input.tier,
    expected: [],
    children: {},
    best: null,
  }),
  initial: 'tier_pending',
  on: { ...childEvents(NOTICES.subtest), 'operator.reset': parentResetExits(STEPS, ['tier_pending', 'tier_config_loaded']) },
  states: {
    tier_pending: recordingOutput(effectState('tier_pending', 'loadTierConfig', 'tier_config_loaded', 'tier_failed'), 'recordSubtests'),
    tier_config_loaded: effectState('tier_config_loaded', 'startSubtests', 'tier_subtests_running', 'tier_failed'),
    tier_subtests_running: awaitingState('tier_subtests_running', 'subtest', 'tier_subtests_complete', 'tier_failed'),
    tier_subtests_complete: recordingOutput(
      effectState('tier_subtests_complete', 'selectBestSubtest', 'tier_best_selected', 'tier_failed'),
      'recordBest',
    ),
    tier_best_selected: effectState('tier_best_selected', 'writeTierReport', 'tier_reports_generated', 'tier_failed'),
    tier_reports_generated: effectState('tier_reports_generated', 'completeTier', 'tier_complete', 'tier_failed'),
    tier_failed: { meta: { outcome: 'failed' }, on: { 'operator.resumed': resumeExits(STEPS) } },
    tier_complete: completed,
  },
});

/**
 * Builders for the three kinds of state every lifecycle machine has. They
 * return plain XState state configs that name guards and actions defined in
 * lifecycle.ts, so each machine file still reads as a list of its states.
 */

import type { StateMeta } from '../engine/state-meta.js';

export type { StateMeta };

/**
 * An action state. Its effect's completion (current attempt only) leads to
 * `next`; a retryable failure re-enters it with the next attempt; any other
 * failure leads to `failed`, remembering this state for resume.
 */
export function effectState(self: string, effect: string, next: string, failed: string) {
  const current = { effect };
  return {
    entry: { type: 'startEffect', params: current },
    meta: { effect } satisfies StateMeta,
    on: {
      'effect.completed': { guard: { type: 'isCurrentEffect', params: current }, target: next, actions: 'stepCompleted' },
      'effect.failed': [
        { guard: { type: 'canRetry', params: current }, target: self, reenter: true, actions: 'attemptFailed' },
        { guard: { type: 'isCurrentEffect', params: current }, target: failed, actions: { type: 'recordFailure', params: { state: self, effect } } },
      ],
    },
  } as const;
}

/** An action state whose completion also records the effect's output with `action`. */
export function recordingOutput<A extends string>(state: ReturnType<typeof effectState>, action: A) {
  const completed = { ...state.on['effect.completed'], actions: [action, 'stepCompleted'] as const };
  return { ...state, on: { ...state.on, 'effect.completed': completed } };
}

/**
 * A state that waits for children (`<child>.finished` events) and moves on
 * once every expected child has an outcome: to `failed` when none completed
 * (or, with `failFast`, when one failed), else to `next`.
 */
export function awaitingState(self: string, child: string, next: string, failed: string) {
  return {
    meta: { awaits: child } satisfies StateMeta,
    always: [
      { guard: 'shouldFail', target: failed, actions: { type: 'recordFailure', params: { state: self, effect: null } } },
      { guard: 'allChildrenFinished', target: next, actions: 'stepCompleted' },
    ],
  } as const;
}

/** Recording and forgetting child outcomes, in any state (machine root), so none is lost. */
export function childEvents(notices: { finished: string; retried: string }) {
  return {
    [notices.finished]: { guard: 'isExpectedChild', actions: 'recordChild' },
    [notices.retried]: { guard: 'isExpectedChild', actions: 'forgetChild' },
  } as const;
}

/** Leave a failed or interrupted state on `operator.resumed`, back to the state recorded in `resumeTo`. */
export function resumeExits(states: readonly string[]) {
  return states.map((state) => ({
    guard: { type: 'resumesTo' as const, params: { state } },
    target: state,
    actions: 'resumeAttempt' as const,
  }));
}

/** `operator.reset` from any state (machine root) to one of `states`: the work after it is redone with a new attempt. */
export function resetExits(states: readonly string[]) {
  return states.map((state) => ({ guard: { type: 'resetsTo' as const, params: { state } }, target: `.${state}`, actions: 'resumeAttempt' as const }));
}

/** As resetExits, for a parent: a reset to a state before the fan-out (`beforeChildren`) also forgets every child's outcome. */
export function parentResetExits(states: readonly string[], beforeChildren: readonly string[]) {
  return states.map((state) => ({
    guard: { type: 'resetsTo' as const, params: { state } },
    target: `.${state}`,
    actions: beforeChildren.includes(state) ? ['resumeAttempt' as const, 'forgetAllChildren' as const] : ['resumeAttempt' as const],
  }));
}

/** A completion state: final for the lifecycle (docs/design.md §2), yet an operator may reset it, so not an XState final state. */
export const completed = { meta: { final: true, outcome: 'completed' } satisfies StateMeta } as const;

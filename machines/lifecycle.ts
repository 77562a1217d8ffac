import { assertEvent, assign } from 'xstate';
import type { ChildOutcome, LifecycleEvent } from '../schemas/events.js';

/**
 * The part of every lifecycle actor's context that drives effects, retries,
 * failure and resume. Kept small: it is copied on every transition and hashed
 * into every row.
 */
export interface LifecycleContext {
  /** Execution number of the current state's effect; part of its idempotency key. */
  attempt: number;
  /** Failed attempts of the current state's effect. */
  failures: number;
  maxAttempts: number;
  /** Where `operator.resumed` leads from a failed or interrupted state (the "history"). */
  resumeTo: string | null;
  failure: { state: string; effect: string | null; message: string } | null;
}

/** Children of an awaiting state, by local id, with their latest outcome. */
export type ChildOutcomes = Record<string, ChildOutcome>;

export function lifecycleContext(maxAttempts: number): LifecycleContext {
  return { attempt: 1, failures: 0, maxAttempts, resumeTo: null, failure: null };
}

type Args = { context: LifecycleContext; event: LifecycleEvent };

function isCurrentEffect({ context, event }: Args, params: { effect: string }): boolean {
  if (event.type !== 'effect.completed' && event.type !== 'effect.failed') return false;
  return event.data.effect === params.effect && event.data.attempt === context.attempt;
}

/** Guards shared by the four machines. All pure: they read only context, event and params. */
export const lifecycleGuards = {
  /** Completions and failures of an earlier attempt (a killed driver's) are ignored. */
  isCurrentEffect,
  canRetry: (args: Args, params: { effect: string }) =>
    isCurrentEffect(args, params) &&
    args.event.type === 'effect.failed' &&
    args.event.data.retryable &&
    args.context.failures + 1 < args.context.maxAttempts,
  isRateLimit: (args: Args, params: { effect: string }) =>
    isCurrentEffect(args, params) && args.event.type === 'effect.failed' && args.event.data.rateLimit !== undefined,
  resumesTo: ({ context }: Args, params: { state: string }) => context.resumeTo === params.state,
  resetsTo: ({ event }: Args, params: { state: string }) => event.type === 'operator.reset' && event.data.to === params.state,
};

type Patch<C> = Partial<C>;

/** Actions shared by the four machines; `startEffect` is only named here and performed by the engine. */
export function lifecycleActions<C extends LifecycleContext>() {
  return {
    startEffect: (_: unknown, _params: { effect: string }) => {},
    stepCompleted: assign<C, LifecycleEvent, undefined, LifecycleEvent, never>(
      () => ({ attempt: 1, failures: 0, resumeTo: null, failure: null }) as Patch<C>,
    ),
    attemptFailed: assign<C, LifecycleEvent, undefined, LifecycleEvent, never>(
      ({ context }) => ({ attempt: context.attempt + 1, failures: context.failures + 1 }) as Patch<C>,
    ),
    recordFailure: assign<C, LifecycleEvent, { state: string; effect: string | null }, LifecycleEvent, never>(
      ({ context, event }, params) =>
        ({ failures: context.failures + 1, resumeTo: params.state, failure: { ...params, message: failureMessage(event) } }) as Patch<C>,
    ),
    recordInterrupt: assign<C, LifecycleEvent, { state: string }, LifecycleEvent, never>(
      (_, params) => ({ resumeTo: params.state }) as Patch<C>,
    ),
    resumeAttempt: assign<C, LifecycleEvent, undefined, LifecycleEvent, never>(
      ({ context }) => ({ attempt: context.attempt + 1, failures: 0, resumeTo: null, failure: null }) as Patch<C>,
    ),
  };
}

function failureMessage(event: LifecycleEvent): string {
  if (event.type === 'effect.failed') return event.data.error.message;
  if (event.type.endsWith('.finished')) return 'no child completed';
  return event.type;
}

/** Context of a machine whose state waits for children. */
export interface ParentContext {
  /** Local ids of the children it waits for (run numbers, subtest or tier ids). */
  expected: string[];
  children: ChildOutcomes;
}

type ParentArgs = { context: LifecycleContext & ParentContext; event: LifecycleEvent };

const finishedAll = (c: ParentContext) => c.expected.every((id) => c.children[id] !== undefined);

/**
 * The notices a child machine's actors send their parent, by the child's
 * machine id: the parent handles them at its root (childEvents), the engine
 * sends them (the registry declares them, runner/registry.ts).
 */
export const NOTICES = {
  tier: { finished: 'tier.finished', retried: 'tier.retried' },
  subtest: { finished: 'subtest.finished', retried: 'subtest.retried' },
  run: { finished: 'run.finished', retried: 'run.retried' },
} as const;

type Notice = Extract<LifecycleEvent, { data: { child: string } }>;

const isNotice = (event: LifecycleEvent): event is Notice => 'child' in (event.data as object);

export const parentGuards = {
  isExpectedChild: ({ context, event }: ParentArgs) =>
    (event.type.endsWith('.finished') || event.type.endsWith('.retried')) && isNotice(event) && context.expected.includes(event.data.child),
  allChildrenFinished: ({ context }: ParentArgs) => finishedAll(context),
  /** Every child finished and none completed (docs/design.md §2.6: a subtest/tier fails only then). */
  noChildCompleted: ({ context }: ParentArgs) =>
    finishedAll(context) && context.expected.every((id) => context.children[id] === 'failed'),
  anyChildFailed: ({ context }: ParentArgs) => Object.values(context.children).includes('failed'),
};

/** Children: record an outcome, or forget one that is being retried. */
export function childOutcomeActions<C extends LifecycleContext & ParentContext>() {
  return {
    recordChild: assign<C, LifecycleEvent, undefined, LifecycleEvent, never>(({ context, event }) => {
      assertEvent(event, [NOTICES.tier.finished, NOTICES.subtest.finished, NOTICES.run.finished]);
      const { child, outcome } = event.data;
      return { children: { ...context.children, [child]: outcome } } as Patch<C>;
    }),
    /** Reset to before the fan-out: every child starts over, so no outcome is kept. */
    forgetAllChildren: assign<C, LifecycleEvent, undefined, LifecycleEvent, never>(() => ({ children: {} }) as Patch<C>),
    forgetChild: assign<C, LifecycleEvent, undefined, LifecycleEvent, never>(({ context, event }) => {
      assertEvent(event, [NOTICES.tier.retried, NOTICES.subtest.retried, NOTICES.run.retried]);
      const { [event.data.child]: _forgotten, ...children } = context.children;
      return { children } as Patch<C>;
    }),
  };
}

import { z } from 'zod';
import { EVENT_SCHEMA_VERSION } from './event-version.js';
import { ActorCreated, childFinished, childRetried, EffectAdopted, EffectCompleted, EffectFailed, EffectStarted, TimerElapsed, type ChildOutcome } from './engine-events.js';

/**
 * The experiment lifecycle's events: the engine's own (schemas/engine-events.ts),
 * the notices of its four machines and the operator's actions. Store
 * metadata (seq, version, hash, recorded time) lives on the row, never in the
 * event. Bump EVENT_SCHEMA_VERSION when a shape changes, and add an upcaster
 * (runner/codec.ts).
 */
export { EVENT_SCHEMA_VERSION };

/** Who did something by hand: recorded on every operator action. */
export const Operator = z.strictObject({
  user: z.string(),
  host: z.string(),
  pid: z.int(),
  version: z.string(),
  reason: z.string().optional(),
});
export type Operator = z.infer<typeof Operator>;

/** Notices of the lifecycle's children (the names machines/ declares for each machine). */
export const RunFinished = childFinished('run.finished');
export const SubtestFinished = childFinished('subtest.finished');
export const TierFinished = childFinished('tier.finished');
export const RunRetried = childRetried('run.retried');
export const SubtestRetried = childRetried('subtest.retried');
export const TierRetried = childRetried('tier.retried');

export const OperatorInterrupted = z.strictObject({
  type: z.literal('operator.interrupted'),
  data: z.strictObject({ operator: Operator, signal: z.string() }),
});

export const OperatorResumed = z.strictObject({
  type: z.literal('operator.resumed'),
  data: z.strictObject({
    operator: Operator,
    /** I5: machines whose definition changed compatibly since the log was written, adopted from here on. */
    upgraded: z.array(z.strictObject({ recorded: z.string(), current: z.string(), streams: z.int() })).optional(),
  }),
});

/** Tiers added to a running experiment by `run` with a config that has more tiers (additive, docs/design.md §5). */
export const TiersAdded = z.strictObject({
  type: z.literal('experiment.tiers_added'),
  data: z.strictObject({
    tiers: z.array(z.strictObject({ id: z.string(), dependsOn: z.array(z.string()) })),
    /** The config the experiment continues with (what `resume` uses from now on), and its fingerprint (since schema 2). */
    start: z.strictObject({ config: z.unknown(), configDir: z.string(), fingerprint: z.unknown().optional() }),
    operator: Operator,
  }),
});

/** An operator sends an actor back to a state (`--from-*`): the work after it is redone; earlier history stays. */
export const OperatorReset = z.strictObject({
  type: z.literal('operator.reset'),
  data: z.strictObject({ to: z.string(), operator: Operator }),
});

/** A driver stopped early on purpose (`--until-*`): nothing failed; `resume` without the flags continues. */
export const OperatorPaused = z.strictObject({
  type: z.literal('operator.paused'),
  data: z.strictObject({
    until: z.strictObject({ experiment: z.string().optional(), tier: z.string().optional(), run: z.string().optional() }),
    held: z.int().nonnegative(),
    /** Set when a spending limit stopped agents from starting (since schema 2). */
    budget: z.strictObject({ limit: z.enum(['maxCostUsd', 'maxTokens']), max: z.number(), spent: z.number(), perAgent: z.number() }).optional(),
    operator: Operator,
  }),
});

/** The spending limits an experiment continues with from here on (`--max-cost-usd`, or a config with other limits); since schema 2. */
export const LimitsChanged = z.strictObject({
  type: z.literal('operator.limits_changed'),
  data: z.strictObject({
    limits: z.strictObject({ maxCostUsd: z.number().positive().nullable(), maxTokens: z.int().positive().nullable() }),
    operator: Operator,
  }),
});

/** The first row after the copied prefix of a forked experiment: where it came from. */
export const ExperimentForked = z.strictObject({
  type: z.literal('experiment.forked'),
  data: z.strictObject({ from: z.strictObject({ experiment: z.string(), seq: z.int().positive() }), operator: Operator }),
});

export const LeaseTakenOver = z.strictObject({
  type: z.literal('lease.taken_over'),
  data: z.strictObject({
    previous: z.strictObject({ pid: z.int(), host: z.string(), heartbeatAt: z.number() }),
    operator: Operator,
  }),
});

export const LifecycleEvent = z.discriminatedUnion('type', [
  ActorCreated,
  EffectStarted,
  EffectAdopted,
  EffectCompleted,
  EffectFailed,
  TimerElapsed,
  RunFinished,
  SubtestFinished,
  TierFinished,
  RunRetried,
  SubtestRetried,
  TierRetried,
  OperatorInterrupted,
  OperatorResumed,
  LeaseTakenOver,
  TiersAdded,
  OperatorReset,
  OperatorPaused,
  LimitsChanged,
  ExperimentForked,
]);

export type LifecycleEvent = z.infer<typeof LifecycleEvent>;
export type LifecycleEventType = LifecycleEvent['type'];
export type EventOf<T extends LifecycleEventType> = Extract<LifecycleEvent, { type: T }>;
export type { ChildOutcome };
export { ActorCreated, EffectAdopted, EffectCompleted, EffectFailed, EffectStarted, TimerElapsed };

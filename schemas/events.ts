import { z } from 'zod';

/**
 * Lifecycle events: the domain facts stored in the log. Store metadata (seq,
 * version, hash, recorded time) lives on the row, never in the event.
 * Bump EVENT_SCHEMA_VERSION when a shape changes, and add an upcaster.
 */
export const EVENT_SCHEMA_VERSION = 1;

const EffectName = z.string().min(1);
const Attempt = z.int().positive();

/** Who did something by hand: recorded on every operator action. */
export const Operator = z.strictObject({
  user: z.string(),
  host: z.string(),
  pid: z.int(),
  version: z.string(),
  reason: z.string().optional(),
});
export type Operator = z.infer<typeof Operator>;

export const ActorCreated = z.strictObject({
  type: z.literal('actor.created'),
  data: z.strictObject({ input: z.unknown(), parent: z.string().nullable() }),
});

/** An effect began; for commands, the process (group) that runs it, so a later driver can stop survivors. */
export const EffectStarted = z.strictObject({
  type: z.literal('effect.started'),
  data: z.strictObject({
    effect: EffectName,
    attempt: Attempt,
    key: z.string(),
    pid: z.int().optional(),
    pgid: z.int().optional(),
    /** Kernel start time of the process (Linux clock ticks), to tell it from a later process reusing the pid. */
    startTicks: z.number().optional(),
    command: z.array(z.string()).optional(),
  }),
});

export const EffectCompleted = z.strictObject({
  type: z.literal('effect.completed'),
  data: z.strictObject({ effect: EffectName, attempt: Attempt, output: z.unknown() }),
});

export const EffectFailed = z.strictObject({
  type: z.literal('effect.failed'),
  data: z.strictObject({
    effect: EffectName,
    attempt: Attempt,
    error: z.strictObject({ message: z.string(), code: z.string().optional() }),
    retryable: z.boolean(),
    /** Present when the failure was a rate limit: retry at this time (epoch ms), not before. */
    rateLimit: z.strictObject({ retryAt: z.number(), reason: z.string().optional() }).optional(),
  }),
});

export const TimerElapsed = z.strictObject({
  type: z.literal('timer.elapsed'),
  data: z.strictObject({ timer: z.string(), at: z.number() }),
});

const Outcome = z.enum(['completed', 'failed']);
const childFinished = <T extends string>(type: T) =>
  z.strictObject({ type: z.literal(type), data: z.strictObject({ child: z.string(), outcome: Outcome }) });

/** A parent learns of a child's end through an event in its own stream (SPEC §2.5). */
export const RunFinished = childFinished('run.finished');
export const SubtestFinished = childFinished('subtest.finished');
export const TierFinished = childFinished('tier.finished');

/** A parent forgets a failed child's outcome because the child is being retried (recorded by resume). */
const childRetried = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), data: z.strictObject({ child: z.string() }) });
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

/** Tiers added to a running experiment by `run` with a config that has more tiers (additive, SPEC §5). */
export const TiersAdded = z.strictObject({
  type: z.literal('experiment.tiers_added'),
  data: z.strictObject({
    tiers: z.array(z.strictObject({ id: z.string(), dependsOn: z.array(z.string()) })),
    /** The config the experiment continues with (what `resume` uses from now on). */
    start: z.strictObject({ config: z.unknown(), configDir: z.string() }),
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
  ExperimentForked,
]);

export type LifecycleEvent = z.infer<typeof LifecycleEvent>;
export type LifecycleEventType = LifecycleEvent['type'];
export type EventOf<T extends LifecycleEventType> = Extract<LifecycleEvent, { type: T }>;
export type ChildOutcome = z.infer<typeof Outcome>;

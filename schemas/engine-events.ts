import { z } from 'zod';

/**
 * The events the engine itself writes, whatever machines it drives: an
 * actor's creation, an effect's start and end, a timer, and the notices a
 * child sends its parent. A domain's event union (schemas/events.ts for the
 * experiment lifecycle) includes these. Store metadata (seq, version, hash,
 * recorded time) lives on the row, never in the event.
 */

/** Any event as the log stores it: a type and JSON data. */
export interface AnyEvent {
  type: string;
  data: unknown;
}

const EffectName = z.string().min(1);
const Attempt = z.int().positive();

export const ActorCreated = z.strictObject({
  type: z.literal('actor.created'),
  data: z.strictObject({ input: z.unknown(), parent: z.string().nullable() }),
});

/** An effect began; for commands, the process (group) that runs it, so a later driver can find it. */
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
    /** The supervisor the command runs under (it outlives the driver; since schema 2). */
    supervisor: z.strictObject({ pid: z.int(), startTicks: z.number().nullable() }).optional(),
  }),
});

/**
 * A driver collected a command an earlier driver started (it outlived that
 * driver under its supervisor): still running, so this driver waits for it,
 * or finished, so its recorded outcome is the effect's result. Since schema 2.
 */
export const EffectAdopted = z.strictObject({
  type: z.literal('effect.adopted'),
  data: z.strictObject({
    effect: EffectName,
    attempt: Attempt,
    key: z.string(),
    /** Which command of the effect (`…#agent`, `…#judge-1`). */
    command: z.string(),
    state: z.enum(['running', 'finished']),
    pgid: z.int().nullable(),
    supervisor: z.int().nullable(),
    startedAt: z.number(),
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
    /** What the failed attempt produced that must not be lost (e.g. the spend of an agent that was rate limited). Since schema 2. */
    output: z.unknown().optional(),
  }),
});

export const TimerElapsed = z.strictObject({
  type: z.literal('timer.elapsed'),
  data: z.strictObject({ timer: z.string(), at: z.number() }),
});

export const ChildOutcome = z.enum(['completed', 'failed']);
export type ChildOutcome = z.infer<typeof ChildOutcome>;

/** A parent learns of a child's end through this notice in its own stream (docs/design.md §2.5). */
export const childFinished = <T extends string>(type: T) =>
  z.strictObject({ type: z.literal(type), data: z.strictObject({ child: z.string(), outcome: ChildOutcome }) });

/** A parent forgets a failed child's outcome because the child is being retried. */
export const childRetried = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), data: z.strictObject({ child: z.string() }) });

export type ActorCreated = z.infer<typeof ActorCreated>;
export type EffectStarted = z.infer<typeof EffectStarted>;
export type EffectCompleted = z.infer<typeof EffectCompleted>;
export type EffectAdopted = z.infer<typeof EffectAdopted>;
export type EffectFailed = z.infer<typeof EffectFailed>;
export type TimerElapsed = z.infer<typeof TimerElapsed>;
export interface ChildFinished { type: string; data: { child: string; outcome: ChildOutcome } }
export interface ChildRetried { type: string; data: { child: string } }

/** The events the engine writes (the notices under the names their machines declare). */
export type EngineEvent = ActorCreated | EffectStarted | EffectAdopted | EffectCompleted | EffectFailed | TimerElapsed;

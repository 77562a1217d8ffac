import type { AnyEvent, EventStore, StoredRow } from '../store/types.js';
import { ExpctlError, type ErrorCode } from '../util/errors.js';
import type { ReplayedActor } from './replay.js';
import { isEvent } from './events.js';
import type { EffectRequest } from './step.js';

/** A new actor to create, under a parent stream. */
export interface SpawnSpec {
  stream: string;
  machine: string;
  input: unknown;
}

/** What a successful effect returns: its output (recorded in the log) and children to create with it, atomically. */
export interface EffectResult {
  output: unknown;
  spawn?: SpawnSpec[];
  /** Events for other actors (e.g. restarting children that already exist), appended before the completion. */
  events?: { stream: string; event: AnyEvent }[];
}

/** A process an effect started, recorded as `effect.started` so a later driver can stop survivors. */
export interface StartedCommand {
  pid?: number;
  pgid?: number;
  startTicks?: number | null;
  command?: string[];
}

export interface EffectContext {
  request: EffectRequest;
  actor: ReplayedActor;
  /** Aborted when the runtime stops (interrupt, lost lease): stop work, kill processes. */
  signal: AbortSignal;
  /** Record a started command in the actor's stream, before waiting for it. */
  recordStart(command: StartedCommand): void;
  /** The actor's stream so far (outputs of its earlier effects are in its `effect.completed` rows). */
  history(): StoredRow[];
  store: EventStore;
}

export type EffectHandler = (context: EffectContext) => Promise<EffectResult>;

/**
 * An effect that did not succeed. `retryable` failures are retried by the
 * machine up to its maxAttempts; a `rateLimit` pauses the actor until
 * `retryAt`; `output` is recorded with the failure (what the attempt produced
 * that must not be lost). Any other error thrown by a handler counts as a
 * retryable failure.
 */
export class EffectFailure extends ExpctlError {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly rateLimit?: { retryAt: number; reason?: string },
    readonly output?: unknown,
    code: ErrorCode = 'EXPCTL_EFFECT_FAILED',
  ) {
    super(code, message);
  }
}

/** The `effect.started` event of a command an effect started (recorded before waiting for it). */
export function startedEvent(request: EffectRequest, command: StartedCommand): AnyEvent {
  const data = {
    effect: request.effect,
    attempt: request.attempt,
    key: request.key,
    ...(command.pid !== undefined ? { pid: command.pid } : {}),
    ...(command.pgid !== undefined ? { pgid: command.pgid } : {}),
    ...(command.startTicks != null ? { startTicks: command.startTicks } : {}),
    ...(command.command ? { command: command.command } : {}),
  };
  return { type: 'effect.started', data };
}

/** The latest `effect.completed` output of `effect` in a stream's rows, if any. */
export function outputOf<T = unknown>(rows: readonly Pick<StoredRow, 'event'>[], effect: string): T | undefined {
  for (let i = rows.length - 1; i >= 0; i--) {
    const { event } = rows[i]!;
    if (isEvent(event, 'effect.completed') && event.data.effect === effect) return event.data.output as T;
  }
  return undefined;
}

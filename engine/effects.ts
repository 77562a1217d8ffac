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
  /** The supervisor it runs under, when it outlives the driver. */
  supervisor?: { pid: number; startTicks: number | null } | null;
}

/** A command an earlier driver started, collected by this one (recorded as `effect.adopted`). */
export interface AdoptedCommand {
  command: string;
  state: 'running' | 'finished';
  pgid: number | null;
  supervisor: number | null;
  startedAt: number;
}

export interface EffectContext {
  request: EffectRequest;
  actor: ReplayedActor;
  /** Aborted when the runtime stops (interrupt, lost lease): stop work, kill processes. */
  signal: AbortSignal;
  /** Record a started command in the actor's stream, before waiting for it. */
  recordStart(command: StartedCommand): void;
  /** Record that a command an earlier driver started was found (still running, or finished) and is collected instead of run again. */
  recordAdoption(command: AdoptedCommand): void;
  /**
   * This attempt's state was entered before this driver took over: an
   * earlier driver may have started its work (look for it before starting
   * it again).
   */
  resumed: boolean;
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

/** The latest `effect.completed` output of `effect` in a stream's rows, if any. */
export function outputOf<T = unknown>(rows: readonly Pick<StoredRow, 'event'>[], effect: string): T | undefined {
  for (let i = rows.length - 1; i >= 0; i--) {
    const { event } = rows[i]!;
    if (isEvent(event, 'effect.completed') && event.data.effect === effect) return event.data.output as T;
  }
  return undefined;
}

/** An effect's records of its commands: started (`effect.started`), or collected from an earlier driver (`effect.adopted`). */
export function commandRecords(request: EffectRequest, commit: (event: AnyEvent) => void): Pick<EffectContext, 'recordStart' | 'recordAdoption'> {
  const effect = { effect: request.effect, attempt: request.attempt, key: request.key };
  return {
    recordStart: (command: StartedCommand) => {
      const data = {
        ...effect,
        ...(command.pid !== undefined ? { pid: command.pid } : {}),
        ...(command.pgid !== undefined ? { pgid: command.pgid } : {}),
        ...(command.startTicks != null ? { startTicks: command.startTicks } : {}),
        ...(command.command ? { command: command.command } : {}),
        ...(command.supervisor ? { supervisor: command.supervisor } : {}),
      };
      commit({ type: 'effect.started', data });
    },
    recordAdoption: (adopted: AdoptedCommand) => commit({ type: 'effect.adopted', data: { ...effect, ...adopted } }),
  };
}

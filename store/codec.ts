import type { AnyEvent } from '../schemas/engine-events.js';
import { ExpctlError } from '../util/errors.js';

/** An event as it leaves the log, before validation: its type and its parsed data. */
export type UpcastEvent = AnyEvent;

/**
 * Turns an event of schema N into the same event at schema N + 1. Pure; it
 * sees only the event (not the row), and must accept every event type,
 * returning the ones it does not change as they are.
 */
export type Upcaster = (event: UpcastEvent) => UpcastEvent;

/** The outcome of checking one event against a codec's schema. */
export type EventCheck<E extends AnyEvent> = { ok: true; event: E } | { ok: false; problem: string };

/**
 * How a log's events are checked on the way in and out: the current event
 * schema version, the check itself, and the upcaster chain that brings older
 * events to the current version (`upcasters[N]` turns schema N into N + 1).
 * The store knows no event types: the domain gives its codec when it opens a
 * log (the experiment lifecycle's is runner/codec.ts, from its zod schemas).
 */
export interface EventCodec<E extends AnyEvent = AnyEvent> {
  version: number;
  check(event: UpcastEvent): EventCheck<E>;
  upcasters: Readonly<Record<number, Upcaster>>;
}

/** The codec of a log opened without one: any `{ type, data }` event, schema 1, no upcasters. */
export const ANY_EVENT_CODEC: EventCodec = {
  version: 1,
  upcasters: {},
  check(event) {
    const ok = typeof event === 'object' && event !== null && typeof event.type === 'string' && event.type !== '' && 'data' in event;
    return ok ? { ok: true, event: { type: event.type, data: event.data } } : { ok: false, problem: 'an event needs a type and data' };
  },
};

/** A step of the upcaster chain is missing (a bug: every schema bump must add its upcaster). */
export class MissingUpcasterError extends ExpctlError {
  constructor(readonly from: number, readonly to: number, readonly missing: number) {
    super(
      'EXPCTL_UPCAST_MISSING',
      `no upcaster from event schema ${missing} to ${missing + 1} (needed to read a schema-${from} event as schema ${to})`,
      'every event schema bump needs an upcaster in its codec (runner/codec.ts); this is a bug in expctl, please report it',
    );
  }
}

/**
 * Apply the upcasters `fromSchema → fromSchema + 1 → … → toSchema` in order.
 * Returns the event unchanged when the versions are equal; throws
 * MissingUpcasterError naming the first missing step.
 *
 * @example upcast({ type: 'effect.failed', data }, 1, 2, { 1: toSchema2 })
 */
export function upcast(event: UpcastEvent, fromSchema: number, toSchema: number, upcasters: Readonly<Record<number, Upcaster>>): UpcastEvent {
  if (fromSchema > toSchema) throw new RangeError(`cannot upcast an event from schema ${fromSchema} down to ${toSchema}`);
  let current = event;
  for (let version = fromSchema; version < toSchema; version++) {
    const step = Object.hasOwn(upcasters, version) ? upcasters[version] : undefined;
    if (!step) throw new MissingUpcasterError(fromSchema, toSchema, version);
    const next = step(current);
    if (next === null || typeof next !== 'object' || typeof next.type !== 'string') {
      throw new TypeError(`the upcaster from event schema ${version} to ${version + 1} returned no event for a ${current.type} event`);
    }
    current = next;
  }
  return current;
}

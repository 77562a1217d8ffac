import type { z } from 'zod';
import { EVENT_SCHEMA_VERSION, LifecycleEvent } from '../schemas/events.js';
import { ExpctlError } from '../util/errors.js';

/** An event as it leaves the log, before validation: its type and its parsed data. */
export interface UpcastEvent {
  type: string;
  data: unknown;
}

/**
 * Turns an event of schema N into the same event at schema N + 1. Pure; it
 * sees only the event (not the row), and must accept every event type,
 * returning the ones it does not change as they are.
 */
export type Upcaster = (event: UpcastEvent) => UpcastEvent;

/**
 * The upcaster chain, keyed by the schema version each one upgrades FROM
 * (`UPCASTERS[1]` turns a schema-1 event into a schema-2 one). Empty while the
 * current version is 1. When you bump EVENT_SCHEMA_VERSION, add the step here
 * and regenerate nothing: old logs keep their stored texts (and hashes) and are
 * upcast each time they are read.
 */
export const UPCASTERS: Record<number, Upcaster> = {};

/** How stored events are read: the current schema version, its zod schema and the chain that reaches it. */
export interface EventCodec {
  /** The current event schema version; rows of an older one are upcast, rows of a newer one refused. */
  version: number;
  schema: z.ZodType<LifecycleEvent>;
  upcasters: Readonly<Record<number, Upcaster>>;
}

/** The codec of this expctl (tests inject others to simulate a schema bump). */
export const CURRENT_CODEC: EventCodec = { version: EVENT_SCHEMA_VERSION, schema: LifecycleEvent, upcasters: UPCASTERS };

/** A step of the upcaster chain is missing (a bug in expctl: every bump must add its upcaster). */
export class MissingUpcasterError extends ExpctlError {
  constructor(readonly from: number, readonly to: number, readonly missing: number) {
    super(
      'EXPCTL_UPCAST_MISSING',
      `no upcaster from event schema ${missing} to ${missing + 1} (needed to read a schema-${from} event as schema ${to})`,
      'every EVENT_SCHEMA_VERSION bump needs an upcaster in store/upcast.ts; this is a bug in expctl, please report it',
    );
  }
}

/**
 * Apply the upcasters `fromSchema → fromSchema + 1 → … → toSchema` in order.
 * Returns the event unchanged when the versions are equal; throws
 * MissingUpcasterError naming the first missing step.
 *
 * @example upcast({ type: 'effect.failed', data }, 1, 2) // UPCASTERS[1] applied once
 */
export function upcast(event: UpcastEvent, fromSchema: number, toSchema: number, upcasters: Readonly<Record<number, Upcaster>> = UPCASTERS): UpcastEvent {
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

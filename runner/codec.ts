import type { z } from 'zod';
import type { AnyEvent } from '../schemas/engine-events.js';
import { EVENT_SCHEMA_VERSION, LifecycleEvent } from '../schemas/events.js';
import { formatPath } from '../schemas/issues.js';
import type { EventCodec, Upcaster } from '../store/codec.js';

/**
 * The upcaster chain of the lifecycle's events, keyed by the schema version
 * each one upgrades FROM (`UPCASTERS[1]` turns a schema-1 event into a
 * schema-2 one). When you bump EVENT_SCHEMA_VERSION, add the step here: old
 * logs keep their stored texts (and hashes) and are upcast each time they
 * are read.
 */
export const UPCASTERS: Record<number, Upcaster> = {
  // 1 → 2 only added optional fields (effect.failed `output`, experiment.tiers_added `start.fingerprint`): a schema-1 event is a valid schema-2 event
  1: (event) => event,
};

/**
 * A codec from a zod schema of the whole event union.
 *
 * @example const codec = zodCodec(LifecycleEvent, 1, {});
 */
export function zodCodec<E extends AnyEvent>(schema: z.ZodType<E>, version: number, upcasters: Readonly<Record<number, Upcaster>> = {}): EventCodec<E> {
  return {
    version,
    upcasters,
    check(event) {
      const parsed = schema.safeParse(event);
      if (parsed.success) return { ok: true, event: parsed.data };
      const issue = parsed.error.issues[0];
      return { ok: false, problem: issue ? `${formatPath(issue.path)}: ${issue.message}` : 'invalid' };
    },
  };
}
/** How the lifecycle's events are checked and upcast in every log expctl opens. */
export const lifecycleCodec: EventCodec<LifecycleEvent> = zodCodec(LifecycleEvent, EVENT_SCHEMA_VERSION, UPCASTERS);

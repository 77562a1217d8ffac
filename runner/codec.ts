import { EVENT_SCHEMA_VERSION, LifecycleEvent } from '../schemas/events.js';
import { zodCodec, type EventCodec, type Upcaster } from '../store/codec.js';

/**
 * The upcaster chain of the lifecycle's events, keyed by the schema version
 * each one upgrades FROM (`UPCASTERS[1]` turns a schema-1 event into a
 * schema-2 one). Empty while the current version is 1. When you bump
 * EVENT_SCHEMA_VERSION, add the step here: old logs keep their stored texts
 * (and hashes) and are upcast each time they are read.
 */
export const UPCASTERS: Record<number, Upcaster> = {};

/** How the lifecycle's events are checked and upcast in every log expctl opens. */
export const lifecycleCodec: EventCodec<LifecycleEvent> = zodCodec(LifecycleEvent, EVENT_SCHEMA_VERSION, UPCASTERS);

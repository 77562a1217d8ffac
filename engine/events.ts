import type { AnyEvent, EngineEvent } from '../schemas/engine-events.js';

export type { AnyEvent, EngineEvent };

/** Narrows a stored event to one of the engine's by its type (the store's codec checked its shape on the way in and out). */
export function isEvent<T extends EngineEvent['type']>(event: AnyEvent, type: T): event is Extract<EngineEvent, { type: T }> {
  return event.type === type;
}

import type { EventStore } from '../store/types.js';
import { ExperimentNotFoundError } from './errors.js';

/* Experiment keys in a log; light (no schemas, no machines), for commands that must start fast. */

/** The log keys of an id's generations (`id`, `id~2`, …), oldest first. */
export function generations(store: EventStore, id: string): string[] {
  const generation = (key: string) => (key === id ? 1 : Number(key.slice(id.length + 1)));
  const older = new RegExp(`^${escapeRegExp(id)}~\\d+$`);
  return store.experiments().map((h) => h.experiment).filter((key) => key === id || older.test(key)).sort((a, b) => generation(a) - generation(b));
}

/** The key of generation `id~N` as stored: the first generation's is the id itself (`demo~1` is `demo`). */
export function generationKey(id: string): string {
  return id.replace(/~0*1$/, '');
}

/** An experiment id (its latest generation) or a generation `id~N`, as stored in the log; throws if there is none. */
export function experimentKey(store: EventStore, id: string): string {
  const key = id.includes('~') ? generationKey(id) : generations(store, id).at(-1);
  if (!key || !store.head(key)) throw new ExperimentNotFoundError(id, store.location, store.experiments().map((h) => h.experiment));
  return key;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

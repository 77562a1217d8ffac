import type { LifecycleEvent } from '../schemas/events.js';
import { openStore, type SqliteStoreOptions } from '../store/sqlite-store.js';
import type { EventStore } from '../store/types.js';
import { lifecycleCodec } from './codec.js';

/*
 * Opening the log, apart from loading and verifying it (log.ts): what the
 * read commands need loads no machine, no engine and no config schema.
 */

/** The log of experiments: an event store whose events are the lifecycle's. */
export type ExperimentLog = EventStore<LifecycleEvent>;

/**
 * Open (or create) the SQLite log of a results directory, checking every
 * event against the lifecycle's schemas on the way in and out.
 *
 * @example const log = openExperimentLog('results/expctl.db', { readonly: true });
 */
export function openExperimentLog(file: string, options: Omit<SqliteStoreOptions<LifecycleEvent>, 'codec'> = {}): ExperimentLog {
  return openStore(file, { ...options, codec: lifecycleCodec });
}

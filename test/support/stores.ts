import { lifecycleCodec, openExperimentLog, type ExperimentLog } from '../../runner/index.js';
import { createMemoryStore } from '../../store/index.js';
import type { LeaseEnvironment, SqliteStoreOptions } from '../../store/index.js';
import type { LifecycleEvent } from '../../schemas/events.js';

/** An experiment log in memory: the lifecycle's codec checks every event, as in every log expctl opens. */
export function memoryLog(options: { leaseEnvironment?: LeaseEnvironment } = {}): ExperimentLog {
  return createMemoryStore({ ...options, codec: lifecycleCodec });
}

/** An experiment log in a real SQLite file (runner/log.ts). */
export function openLog(file: string, options: Omit<SqliteStoreOptions<LifecycleEvent>, 'codec'> = {}): ExperimentLog {
  return openExperimentLog(file, options);
}

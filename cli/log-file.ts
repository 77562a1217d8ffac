import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { logFile } from '../runner/paths.js';
import { EVENT_SCHEMA_VERSION } from '../schemas/event-version.js';
import { ANY_EVENT_CODEC } from '../store/codec.js';
import { openStore } from '../store/sqlite-store.js';
import type { EventStore } from '../store/types.js';
import { ExpctlError } from '../util/errors.js';

/** The event log file of a results directory, which must exist. */
export function existingLog(resultsDir: string): string {
  const file = logFile(resolve(resultsDir));
  if (!existsSync(file)) {
    throw new ExpctlError('EXPCTL_NOT_FOUND', `no event log in ${resolve(resultsDir)} (expected ${file})`, 'run an experiment first, or pass --results-dir DIR');
  }
  return file;
}

/**
 * The log of a results directory, read-only, for reading recorded states
 * (`status`): it decodes no events, so it loads no schemas; rows from a newer
 * expctl are still refused.
 */
export function openLogForStates(resultsDir: string): EventStore {
  return openStore(existingLog(resultsDir), { readonly: true, codec: { ...ANY_EVENT_CODEC, version: EVENT_SCHEMA_VERSION } });
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openStore } from '../store/index.js';
import type { EventStore } from '../store/types.js';
import { ExperimentNotFoundError } from '../runner/errors.js';
import { logFile } from '../runner/paths.js';
import { createResume } from '../runner/resume/resume.js';
import { ExpctlError } from '../util/errors.js';

/** The event log of a results directory, read-only: inspecting never changes it. */
export function openLogForReading(resultsDir: string): EventStore {
  return openStore(existingLog(resultsDir), { readonly: true });
}

/** The event log of a results directory that must already exist (commands that add to an experiment). */
export function openExistingLog(resultsDir: string): EventStore {
  return openStore(existingLog(resultsDir), { create: false });
}

function existingLog(resultsDir: string): string {
  const file = logFile(resolve(resultsDir));
  if (!existsSync(file)) {
    throw new ExpctlError('EXPCTL_NOT_FOUND', `no event log in ${resolve(resultsDir)} (expected ${file})`, 'run an experiment first, or pass --results-dir DIR');
  }
  return file;
}

/** An experiment id (its latest generation) or an exact `id~N` key, as stored in the log. */
export function experimentKey(store: EventStore, id: string): string {
  const generations = createResume().generations(store, id);
  const key = id.includes('~') ? id : generations.at(-1);
  if (!key || !store.head(key)) throw new ExperimentNotFoundError(id, store.location, store.experiments().map((h) => h.experiment));
  return key;
}

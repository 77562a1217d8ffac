import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openExperimentLog, type ExperimentLog } from '../runner/log.js';
import { logFile } from '../runner/paths.js';
import { ExpctlError } from '../util/errors.js';

export { experimentKey } from '../runner/log.js';

/** The event log of a results directory, read-only: inspecting never changes it. */
export function openLogForReading(resultsDir: string): ExperimentLog {
  return openExperimentLog(existingLog(resultsDir), { readonly: true });
}

/** The event log of a results directory that must already exist (commands that add to an experiment). */
export function openExistingLog(resultsDir: string): ExperimentLog {
  return openExperimentLog(existingLog(resultsDir), { create: false });
}

function existingLog(resultsDir: string): string {
  const file = logFile(resolve(resultsDir));
  if (!existsSync(file)) {
    throw new ExpctlError('EXPCTL_NOT_FOUND', `no event log in ${resolve(resultsDir)} (expected ${file})`, 'run an experiment first, or pass --results-dir DIR');
  }
  return file;
}

import { openExperimentLog, type ExperimentLog } from '../runner/log-open.js';
import { existingLog } from './log-file.js';

export { experimentKey } from '../runner/log-keys.js';

/** The event log of a results directory, read-only: inspecting never changes it. */
export function openLogForReading(resultsDir: string): ExperimentLog {
  return openExperimentLog(existingLog(resultsDir), { readonly: true });
}

/** The event log of a results directory that must already exist (commands that add to an experiment). */
export function openExistingLog(resultsDir: string): ExperimentLog {
  return openExperimentLog(existingLog(resultsDir), { create: false });
}

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { experimentPaths } from '../runner/paths.js';
import { ExperimentResult } from '../schemas/results.js';
import { ExpctlError } from '../util/errors.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface ReportOptions {
  resultsDir: string;
  json?: boolean;
}

/** `expctl report <id>`: the results tables of a finished experiment. */
export async function reportCommand(id: string, options: ReportOptions, io: Io): Promise<void> {
  const store = openLogForReading(options.resultsDir);
  let key: string;
  try {
    key = experimentKey(store, id);
  } finally {
    store.close();
  }
  const paths = experimentPaths(resolve(options.resultsDir), key);
  if (!existsSync(paths.result)) {
    throw new ExpctlError('EXPCTL_NO_RESULTS', `experiment ${key} has no results yet (${paths.result})`, `see \`expctl status ${key}\`; results are written when all tiers are done`);
  }
  const result = ExperimentResult.parse(JSON.parse(readFileSync(paths.result, 'utf8')));
  if (options.json) return io.out(`${JSON.stringify(result, null, 2)}\n`);
  io.out(readFileSync(paths.report, 'utf8'));
}

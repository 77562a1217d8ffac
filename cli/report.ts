import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { actorsFromStates, experimentPaths, experimentResultOf, resultsAvailable, writeResultsFromLog } from '../runner/index.js';
import { experimentReport } from '../results/markdown.js';
import { ExpctlError } from '../util/errors.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface ReportOptions {
  resultsDir: string;
  json?: boolean;
}

/**
 * `expctl report <id>`: the results tables of a finished experiment, computed
 * from its log (the same numbers the result files hold). Result files that
 * are missing (an imported experiment, deleted files) are written again.
 */
export async function reportCommand(id: string, options: ReportOptions, io: Io): Promise<void> {
  const resultsDir = resolve(io.cwd, options.resultsDir);
  const store = openLogForReading(resultsDir);
  try {
    const key = experimentKey(store, id);
    const scope = { key, store, actors: actorsFromStates(store.latestStates(key).streams) };
    const paths = experimentPaths(resultsDir, key);
    if (!resultsAvailable(scope)) {
      throw new ExpctlError('EXPCTL_NO_RESULTS', `experiment ${key} has no results yet: it is in ${String(scope.actors.get(key)?.snapshot.value ?? 'no state')}`, `see \`expctl status ${key}\`; results are written when all tiers are done`);
    }
    const result = experimentResultOf(scope);
    if (!existsSync(paths.result) || !existsSync(paths.report) || !existsSync(paths.summary)) {
      writeResultsFromLog(scope, paths);
      io.err(`the result files of ${key} were missing; written again from its log into ${paths.dir}\n`);
    }
    if (options.json) return io.out(`${JSON.stringify(result, null, 2)}\n`);
    const rel = (file: string) => relative(paths.dir, file);
    io.out(experimentReport(result, result.tiers.map(({ tier }) => ({ tier, report: rel(paths.tier(tier).report), summary: rel(paths.tier(tier).summary) }))));
  } finally {
    store.close();
  }
}

import { resolve } from 'node:path';
import { forkExperiment } from '../runner/resume/fork.js';
import type { Io } from './io.js';
import { expctlCommand } from './shell.js';
import { experimentKey, openExistingLog } from './open-log.js';

export interface ForkOptions {
  resultsDir: string;
  at: number;
  id?: string;
  reason?: string;
  json?: boolean;
}

/** `expctl fork <id> --at SEQ [--id NEW]`: a new experiment from the source's history up to SEQ. */
export async function forkCommand(id: string, options: ForkOptions, io: Io): Promise<void> {
  const resultsDir = resolve(io.cwd, options.resultsDir);
  const store = openExistingLog(resultsDir);
  try {
    const result = await forkExperiment({ store, resultsDir, source: experimentKey(store, id), at: options.at, id: options.id, reason: options.reason });
    if (options.json) return io.out(`${JSON.stringify(result, null, 2)}\n`);
    io.out(`forked ${result.from.experiment} at row ${result.from.seq} as ${result.key} (${result.rows} rows, verified)\n`);
    for (const line of result.reset) io.out(`  workspace rebuilt from an earlier state: ${line}\n`);
    io.out(`continue it with: ${expctlCommand(['resume', result.key], resultsDir, io)}\n`);
  } finally {
    store.close();
  }
}

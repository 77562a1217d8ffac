import { resolve } from 'node:path';
import { logFile } from '../runner/paths.js';
import { importExperiment } from '../runner/transfer.js';
import type { Io } from './io.js';

export interface ImportOptions {
  resultsDir: string;
  json?: boolean;
}

/** The documented `import --json` object. */
export interface ImportJson {
  experiment: string;
  rows: number;
  streams: number;
  headHash: string;
  log: string;
}

/** `expctl import <file>`: an experiment exported with `expctl export` into the log of this results directory (runner/transfer.ts). */
export async function importCommand(file: string, options: ImportOptions, io: Io): Promise<void> {
  const imported = importExperiment(resolve(io.cwd, file), logFile(resolve(io.cwd, options.resultsDir)));
  const { machineChanges, ...result } = imported;
  if (options.json) {
    io.out(`${JSON.stringify(result satisfies ImportJson, null, 2)}\n`);
    return;
  }
  io.out(`imported ${result.experiment}: ${result.rows} rows in ${result.streams} streams into ${result.log} (hash chain and replay of every stream verified)\n`);
  io.out(`head hash ${result.headHash}\n`);
  for (const change of machineChanges) io.out(`note: ${change.streams} stream(s) written by ${change.recorded} replay under ${change.current}\n`);
}

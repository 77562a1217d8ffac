import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { verifyLog, type MachineChange, type VerifyReport } from '../engine/index.js';
import { parseExport } from '../store/export.js';
import { ImportError } from '../store/import-rows.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { ImportedRow } from '../store/types.js';
import { ExpctlError } from '../util/errors.js';
import { lifecycleCodec } from './codec.js';
import { openExperimentLog } from './log.js';
import { actorsFromStates } from './finalization/recorded.js';
import { writeResultsFromLog } from './finalization/rebuild.js';
import { experimentPaths } from './paths.js';
import { lifecycleRegistry } from './registry.js';

/** What an import added to a log. */
export interface Imported {
  experiment: string;
  rows: number;
  streams: number;
  headHash: string;
  log: string;
  machineChanges: MachineChange[];
}

/**
 * Import an experiment exported with `expctl export` into the log `target`.
 * The file is checked line by line (hash chain, versions, header), then the
 * experiment is built in memory and verified (every stream replayed through
 * the machines); only then is it written, in one transaction. Refused if the
 * log already has the experiment. Every ImportError names `file` and its line.
 */
export function importExperiment(file: string, target: string): Imported {
  const located = (error: unknown): unknown => {
    if (!(error instanceof ImportError)) return error;
    const line = error.line ?? (error.row !== undefined ? error.row + 1 : undefined);
    return new ImportError(error.problem, { file, line, row: error.row }, error.hint);
  };
  const { header, rows } = attempt(() => parseExport(readExport(file).split('\n'), lifecycleCodec.version), located);
  const key = header.experiment;
  // fail fast, before the replay (importRows checks again, atomically)
  if (existsSync(target)) {
    const existing = openExperimentLog(target, { readonly: true });
    try {
      if (existing.head(key)) throw alreadyThere(key, target);
    } finally {
      existing.close();
    }
  }
  const report = verifiedInMemory(key, rows, file, located);
  const store = openExperimentLog(target);
  try {
    if (store.head(key)) throw alreadyThere(key, target);
    attempt(() => store.importRows(key, rows), located);
    // the results folder gets the experiment's result files and reports, written from the log
    writeResultsFromLog({ key, store, actors: actorsFromStates(store.latestStates(key).streams) }, experimentPaths(dirname(target), key));
  } finally {
    store.close();
  }
  return { experiment: key, rows: report.rows, streams: report.streams, headHash: report.headHash!, log: target, machineChanges: report.machineChanges };
}

function readExport(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExpctlError('EXPCTL_NOT_FOUND', `cannot read ${file}: ${(error as Error).message}`, 'pass a file written by `expctl export <id> --format jsonl --out FILE`', { cause: error });
  }
}

/** The experiment in memory first: the chain, every event, then a replay of every stream. */
function verifiedInMemory(key: string, rows: ImportedRow[], file: string, located: (error: unknown) => unknown): VerifyReport {
  const memory = createMemoryStore({ codec: lifecycleCodec });
  attempt(() => memory.importRows(key, rows), located);
  const report = verifyLog(memory, lifecycleRegistry, key);
  if (report.ok) return report;
  const seq = report.problem!.seq ?? undefined; // in a fresh memory store, seq N is row N (line N + 1)
  throw new ImportError(
    `it does not verify: ${report.problem!.message}`,
    { file, line: seq !== undefined ? seq + 1 : undefined, row: seq },
    'the export was changed, or its machines are incompatible with this expctl; nothing was imported',
  );
}

function attempt<T>(work: () => T, located: (error: unknown) => unknown): T {
  try {
    return work();
  } catch (error) {
    throw located(error);
  }
}

function alreadyThere(key: string, target: string): ImportError {
  return new ImportError(
    `experiment ${key} already exists in ${target}`,
    {},
    'import into another results directory (--results-dir DIR); the experiment id is part of every row\'s hash, so it cannot be renamed on import',
  );
}

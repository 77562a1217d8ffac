import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { verifyLog } from '../engine/index.js';
import { lifecycleRegistry } from '../machines/index.js';
import { logFile } from '../runner/paths.js';
import { parseExport } from '../store/export.js';
import { ImportError } from '../store/import-rows.js';
import { createMemoryStore, openStore } from '../store/index.js';
import { ExpctlError } from '../util/errors.js';
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

/**
 * `expctl import <file>`: an experiment exported with `expctl export` into the
 * log of this results directory. The file is checked line by line (hash
 * chain, versions, header), then the experiment is built in memory and
 * verified (every stream replayed through the machines); only then is it
 * written, in one transaction. Refused if the log already has the experiment.
 */
export async function importCommand(file: string, options: ImportOptions, io: Io): Promise<void> {
  const path = resolve(io.cwd, file);
  const target = logFile(resolve(io.cwd, options.resultsDir));
  const located = (error: unknown): unknown => {
    if (!(error instanceof ImportError)) return error;
    const line = error.line ?? (error.row !== undefined ? error.row + 1 : undefined);
    return new ImportError(error.problem, { file: path, line, row: error.row }, error.hint);
  };

  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ExpctlError('EXPCTL_NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`, 'pass a file written by `expctl export <id> --format jsonl --out FILE`', { cause: error });
  }
  let parsed: ReturnType<typeof parseExport>;
  try {
    parsed = parseExport(text.split('\n'));
  } catch (error) {
    throw located(error);
  }
  const { header, rows } = parsed;
  const key = header.experiment;
  // fail fast, before the replay (importRows checks again, atomically)
  if (existsSync(target)) {
    const existing = openStore(target, { readonly: true });
    try {
      if (existing.head(key)) throw alreadyThere(key, target);
    } finally {
      existing.close();
    }
  }

  // the experiment in memory first: the chain, every event, then a replay of every stream
  const memory = createMemoryStore();
  try {
    memory.importRows(key, rows);
  } catch (error) {
    throw located(error);
  }
  const report = verifyLog(memory, lifecycleRegistry, key);
  if (!report.ok) {
    const seq = report.problem!.seq ?? undefined; // in a fresh memory store, seq N is row N (line N + 1)
    throw new ImportError(
      `it does not verify: ${report.problem!.message}`,
      { file: path, line: seq !== undefined ? seq + 1 : undefined, row: seq },
      'the export was changed, or its machines are incompatible with this expctl; nothing was imported',
    );
  }

  const store = openStore(target);
  try {
    if (store.head(key)) throw alreadyThere(key, target);
    store.importRows(key, rows);
  } catch (error) {
    throw located(error);
  } finally {
    store.close();
  }

  const result: ImportJson = { experiment: key, rows: report.rows, streams: report.streams, headHash: report.headHash!, log: target };
  if (options.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  io.out(`imported ${key}: ${result.rows} rows in ${result.streams} streams into ${target} (hash chain and replay of every stream verified)\n`);
  io.out(`head hash ${result.headHash}\n`);
  for (const change of report.machineChanges) io.out(`note: ${change.streams} stream(s) written by ${change.recorded} replay under ${change.current}\n`);
}

function alreadyThere(key: string, target: string): ImportError {
  return new ImportError(
    `experiment ${key} already exists in ${target}`,
    {},
    'import into another results directory (--results-dir DIR); the experiment id is part of every row\'s hash, so it cannot be renamed on import',
  );
}

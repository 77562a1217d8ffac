import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportLines } from '../store/export.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface ExportOptions {
  resultsDir: string;
  format: 'jsonl';
  /** A file to write (must not exist yet); stdout when absent. */
  out?: string;
}

const CHUNK = 1 << 20;

/**
 * `expctl export <id> --format jsonl [--out FILE]`: every row of the
 * experiment's log with its hashes, as JSON lines after a header line
 * (store/export.ts), for `expctl import` into another results directory.
 */
export async function exportCommand(id: string, options: ExportOptions, io: Io): Promise<void> {
  if (options.format !== 'jsonl') {
    throw new UsageError(`unknown export format "${String(options.format)}"`, 'the one format is jsonl: --format jsonl');
  }
  const store = openLogForReading(resolve(io.cwd, options.resultsDir));
  try {
    const key = experimentKey(store, id);
    if (options.out === undefined) {
      for (const line of exportLines(store, key)) io.out(`${line}\n`);
      return;
    }
    const file = resolve(io.cwd, options.out);
    const rows = writeNewFile(file, exportLines(store, key)) - 1;
    const head = store.head(key)!;
    io.out(`exported ${key}: ${rows} rows to ${file}\nhead hash ${head.headHash}\n`);
  } finally {
    store.close();
  }
}

/** Write the lines to a file that must not exist yet ('wx': never overwrites); removed again if writing fails. Returns the line count. */
function writeNewFile(file: string, lines: Iterable<string>): number {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`${file} already exists; export never overwrites a file`, 'choose another --out path, or remove the file first');
    throw new UsageError(`cannot create ${file}: ${(error as Error).message}`, 'check that the directory exists and is writable', { cause: error });
  }
  let count = 0;
  try {
    let buffer = '';
    for (const line of lines) {
      buffer += `${line}\n`;
      count += 1;
      if (buffer.length >= CHUNK) {
        writeFileSync(fd, buffer);
        buffer = '';
      }
    }
    if (buffer) writeFileSync(fd, buffer);
  } catch (error) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw error;
  }
  closeSync(fd);
  return count;
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildViewer } from '../observe/viewer/index.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface ViewOptions {
  resultsDir: string;
  /** The HTML file to write (overwritten); default `<resultsDir>/<key>/view.html`. */
  out?: string;
}

/** `expctl view <id> [--out FILE.html]`: write the offline viewer page of an experiment and print its path. */
export async function viewCommand(id: string, options: ViewOptions, io: Io): Promise<void> {
  const resultsDir = resolve(io.cwd, options.resultsDir);
  const store = openLogForReading(resultsDir);
  try {
    const key = experimentKey(store, id);
    const { html, data } = buildViewer(store, key);
    const file = options.out === undefined ? join(resultsDir, key, 'view.html') : resolve(io.cwd, options.out);
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, html);
    } catch (error) {
      throw new UsageError(`cannot write ${file}: ${(error as Error).message}`, 'choose another --out path, or check that its directory is writable', { cause: error });
    }
    io.out(`${file}\n`);
    if (io.isTTY) io.err(`${key}: ${data.rows} rows, ${Math.round(Buffer.byteLength(html) / 1024)} KiB; open it in a browser (it needs no network)\n`);
  } finally {
    store.close();
  }
}

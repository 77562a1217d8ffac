import { lifecycleRegistry } from '../runner/registry.js';
import { startInspection } from '../observe/inspector/inspector.js';
import type { StoredRow } from '../store/types.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { parseSpeed } from './options.js';

export { parseSpeed };
import { experimentKey, openLogForReading } from './open-log.js';

export interface InspectOptions {
  resultsDir: string;
  /** Relay port on 127.0.0.1 (`--port`); a free one when absent. */
  port?: number;
  /** Recorded time differences are divided by this (`--speed`, default 1: as recorded); 0 (`--speed max`): no delay. */
  speed?: number;
  /** Replay up to and including this row (`--until SEQ`). */
  until?: number;
  /** After the replay, keep the relay up until Ctrl+C (or `signal`); default true (`--no-wait`: false). */
  wait?: boolean;
  /** Ends the replay and the wait: the relay is closed and the command returns. */
  signal?: AbortSignal;
}

/**
 * `expctl inspect <id>`: replay a stored history into a local inspector relay
 * (the Stately inspector UI in a browser): actors by stream name with their
 * parents, every event and snapshot, with the recorded times, paced by them
 * (divided by --speed, no single wait over 5 s). Then keeps the relay up
 * until Ctrl+C, unless --no-wait. The log is only read.
 */
export async function inspectCommand(id: string, options: InspectOptions, io: Io): Promise<void> {
  const speed = options.speed ?? 1;
  if (typeof speed !== 'number' || !(speed >= 0)) parseSpeed(String(speed));
  if (options.until !== undefined && (!Number.isInteger(options.until) || options.until < 1)) {
    throw new UsageError(`--until ${options.until} is not a row number`, 'rows are numbered from 1; see `expctl history <id>`');
  }
  const { key, rows } = readRows(id, options);
  const inspection = await startInspection({ port: options.port, onError: (error) => io.err(`inspector: ${(error as Error)?.message ?? String(error)}\n`) });
  try {
    io.out(`inspector: ${inspection.url}\n`);
    const pace = speed === 0 || !Number.isFinite(speed) ? 'no delay' : speed === 1 ? 'at the recorded pace' : `${speed}× the recorded pace`;
    io.out(`replaying ${key}: ${rows.length} row(s)${options.until !== undefined ? ` up to seq ${options.until}` : ''}, ${pace}; open the page above to watch\n`);
    const summary = await inspection.replay(rows, { registry: lifecycleRegistry, speed, signal: options.signal });
    const range = summary.rows > 0 ? ` (seq ${summary.firstSeq}…${summary.lastSeq})` : '';
    io.out(`${summary.aborted ? 'stopped after' : 'replayed'} ${summary.rows} row(s) of ${key}${range}\n`);
    if (options.wait !== false && !options.signal?.aborted) {
      io.out('the relay stays up so the page keeps working; press Ctrl+C to stop\n');
      await aborted(options.signal);
    }
  } finally {
    await inspection.stop();
  }
}

function readRows(id: string, options: InspectOptions): { key: string; rows: StoredRow[] } {
  const store = openLogForReading(options.resultsDir);
  try {
    const key = experimentKey(store, id);
    const rows = [...store.readExperiment(key, options.until !== undefined ? { toSeq: options.until } : {})];
    if (rows.length === 0) {
      let first: StoredRow | undefined;
      for (const row of store.readExperiment(key)) {
        first = row;
        break;
      }
      throw new UsageError(`experiment ${key} has no rows up to seq ${options.until}`, `its rows run from seq ${first?.seq ?? '?'} to ${store.head(key)?.headSeq ?? '?'}`);
    }
    return { key, rows };
  } finally {
    store.close();
  }
}

/** Resolves when the signal aborts; never without one (Ctrl+C then ends the process, the relay with it). */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

import type { StoredRow } from '../store/types.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './log.js';

export interface HistoryOptions {
  resultsDir: string;
  json?: boolean;
  jsonl?: boolean;
}

/** The documented `history --json` row: one object per log row. */
export interface HistoryJson {
  seq: number;
  stream: string;
  version: number;
  type: string;
  data: unknown;
  state: unknown;
  at: string;
  cause: string;
  machine: string;
  hash: string;
}

export function historyJson(row: StoredRow): HistoryJson {
  return {
    seq: row.seq, stream: row.stream, version: row.version, type: row.event.type, data: row.event.data,
    state: row.state, at: row.at, cause: row.cause, machine: row.machine, hash: row.hash,
  };
}

/** `expctl history <id>`: the audit trail, every row in order. */
export async function historyCommand(id: string, options: HistoryOptions, io: Io): Promise<void> {
  const store = openLogForReading(options.resultsDir);
  try {
    const rows = [...store.readExperiment(experimentKey(store, id))];
    if (options.jsonl) for (const row of rows) io.out(`${JSON.stringify(historyJson(row))}\n`);
    else if (options.json) io.out(`${JSON.stringify(rows.map(historyJson), null, 2)}\n`);
    else for (const row of rows) io.out(`${String(row.seq).padStart(6)}  ${row.at}  ${row.stream}  ${row.event.type}  → ${JSON.stringify(row.state)}\n`);
  } finally {
    store.close();
  }
}

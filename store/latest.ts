import { CorruptRowError } from './errors.js';
import type { StreamState } from './types.js';

/** The latest row of a stream, with its state and context as stored (JSON text). */
export interface LatestRow {
  stream: string;
  version: number;
  seq: number;
  machine: string;
  state: string;
  context: string;
  createdAt: string;
  at: string;
}

/** Parse a stream's latest state; a text that is not JSON is a corrupt row. */
export function parseLatest(row: LatestRow): StreamState {
  const json = (text: string, field: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new CorruptRowError(row.seq, row.stream, row.version, `its ${field} is not valid JSON`);
    }
  };
  return { stream: row.stream, version: row.version, seq: row.seq, machine: row.machine, state: json(row.state, 'state') as StreamState['state'], context: json(row.context, 'context'), createdAt: row.createdAt, at: row.at };
}

/** A row written with a newer event schema than this expctl reads. */
export function newerSchemaError(row: { seq: number; stream: string; version: number; schema: number }, current: number): CorruptRowError {
  return new CorruptRowError(row.seq, row.stream, row.version, `it was written with event schema ${row.schema}, newer than this expctl's ${current}; upgrade expctl`);
}

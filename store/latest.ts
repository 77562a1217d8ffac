import { CorruptRowError } from './errors.js';
import type { StateRow, StreamState } from './types.js';

/** A row of a stream, with its state and context as stored (JSON text). */
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

const parseText = (row: { seq: number; stream: string; version: number }, text: string, field: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptRowError(row.seq, row.stream, row.version, `its ${field} is not valid JSON`);
  }
};

/** Parse a stream's latest state; a text that is not JSON is a corrupt row. */
export function parseLatest(row: LatestRow): StreamState {
  const { stream, version, seq, machine, createdAt, at } = row;
  return { stream, version, seq, machine, state: parseText(row, row.state, 'state') as StreamState['state'], context: parseText(row, row.context, 'context'), createdAt, at };
}

/** A row's recorded state value alone. */
export function parseState(row: { seq: number; stream: string; version: number; state: string }): StateRow['state'] {
  return parseText(row, row.state, 'state') as StateRow['state'];
}

/** A row's recorded state, as the read commands show it; rows of a newer event schema are refused (`current` is the codec's). */
export function parseStateRow(row: Omit<LatestRow, 'createdAt'> & { type: string; schema: number }, current: number): StateRow {
  if (row.schema > current) throw newerSchemaError(row, current);
  return { seq: row.seq, stream: row.stream, version: row.version, type: row.type, at: row.at, machine: row.machine, state: parseState(row), context: parseText(row, row.context, 'context') };
}

/** A row written with a newer event schema than this expctl reads. */
export function newerSchemaError(row: { seq: number; stream: string; version: number; schema: number }, current: number): CorruptRowError {
  return new CorruptRowError(row.seq, row.stream, row.version, `it was written with event schema ${row.schema}, newer than this expctl's ${current}; upgrade expctl`);
}

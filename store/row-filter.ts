import type { RawRow, RowQuery } from './types.js';

/*
 * What a RowQuery selects, for the stores that filter in memory; the SQLite
 * store asks the database the same (store/sqlite-sql.ts), and both pass the
 * contract tests.
 */

const under = (stream: string, prefix: string) => stream === prefix || stream.startsWith(`${prefix}/`);

function dataFieldIs(data: string, field: string, values: readonly string[]): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return true; // selected, so that decoding it names the row
  }
  const value = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' && values.includes(value);
}

/** Whether a row (seq and stored texts) is one `query` selects, seq bounds included. */
export function selects(query: RowQuery, seq: number, raw: RawRow): boolean {
  if (seq < (query.fromSeq ?? 1) || seq > (query.toSeq ?? Number.MAX_SAFE_INTEGER)) return false;
  if (query.streams?.length && !query.streams.some((s) => under(raw.stream, s))) return false;
  if (query.types?.length && !query.types.some((t) => (t.endsWith('*') ? raw.type.startsWith(t.slice(0, -1)) : raw.type === t))) return false;
  return !query.dataField || dataFieldIs(raw.data, query.dataField.field, query.dataField.values);
}

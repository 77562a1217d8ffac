import { z } from 'zod';
import { formatPath } from '../schemas/issues.js';
import { ExpctlError } from '../util/errors.js';
import { checkImportedRows, ImportError } from './import-rows.js';
import { rawOf } from './rows.js';
import type { EventStore, ImportedRow } from './types.js';

/** A row hash or prev_hash as stored: lower-case hex SHA-256. */
const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256');

/** One row line of an export: a row in its stored form with its hashes (ImportedRow). */
export const ImportedRowSchema = z.strictObject({
  experiment: z.string().min(1),
  stream: z.string().min(1),
  version: z.int().positive(),
  type: z.string().min(1),
  schema: z.int().positive(),
  data: z.string(),
  state: z.string(),
  context: z.string(),
  snapshotHash: z.string(),
  machine: z.string(),
  at: z.string(),
  cause: z.string(),
  prevHash: Hash,
  hash: Hash,
});

/** The shape check of a row line, for checkImportedRows. */
function rowLine(value: unknown): ImportedRow | string {
  const parsed = ImportedRowSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return issue ? `${formatPath(issue.path)}: ${issue.message}` : '';
}

/**
 * The export format (`expctl export <id> --format jsonl`): JSON lines, the
 * first a header, then one line per row of the experiment in seq order with
 * the row's stored texts and hashes (ImportedRow), so the chain recomputes
 * wherever it is imported. Seq numbers are not exported: they belong to a log.
 */
export const EXPORT_FORMAT = 'expctl-log';
export const EXPORT_FORMAT_VERSION = 1;

export const ExportHeader = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  formatVersion: z.int().positive(),
  experiment: z.string().min(1),
  rows: z.int().positive(),
  headHash: Hash,
  /** The event schema of the log that exported (each row also carries its own). */
  eventSchema: z.int().positive(),
});
export type ExportHeader = z.infer<typeof ExportHeader>;

/**
 * The lines of an experiment's export (without line ends): the header, then
 * every row in seq order. Throws if the rows read do not end at the recorded
 * head (a log truncated or extended outside expctl).
 *
 * @example for (const line of exportLines(store, 'demo-001')) out.write(`${line}\n`);
 */
export function* exportLines(store: EventStore, experiment: string): Generator<string> {
  const head = store.head(experiment);
  if (!head) throw new ExpctlError('EXPCTL_NOT_FOUND', `no experiment ${experiment} in ${store.location}`, 'see `expctl status` for the experiments of this log');
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    experiment,
    rows: head.rows,
    headHash: head.headHash,
    eventSchema: store.codec.version,
  };
  yield JSON.stringify(header);
  let rows = 0;
  let last: string | null = null;
  for (const row of store.readExperiment(experiment)) {
    const line: ImportedRow = { ...rawOf(row.raw), prevHash: row.prevHash, hash: row.hash };
    yield JSON.stringify(line);
    rows += 1;
    last = row.hash;
  }
  if (rows !== head.rows || last !== head.headHash) {
    throw new ExpctlError(
      'EXPCTL_VERIFY_FAILED',
      `the log of ${experiment} has ${rows} rows ending in hash ${last ?? '(none)'}, but its recorded head is ${head.rows} rows ending in ${head.headHash}: the export is incomplete`,
      `the log was changed outside expctl; run \`expctl verify ${experiment}\``,
    );
  }
}

/**
 * Read an export: the header (line 1) and every row line, checked as a whole
 * experiment's log (shape, experiment, hash chain, stream versions, and the
 * header's row count and head hash). Events are not decoded here: importRows
 * does that. Throws ImportError naming the line at the first problem. A
 * trailing empty line (the file's final newline) is allowed; `\r\n` is too.
 * `eventSchema` is the newest event schema the importing log reads.
 */
export function parseExport(lines: Iterable<string>, eventSchema: number): { header: ExportHeader; rows: ImportedRow[] } {
  let header: ExportHeader | null = null;
  const values: unknown[] = [];
  let lineNo = 0;
  let blank: number | null = null;
  for (const text of lines) {
    lineNo += 1;
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.trim() === '') {
      blank ??= lineNo;
      continue;
    }
    if (blank !== null) throw new ImportError('it is empty; an export has no empty lines', { line: blank });
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ImportError('it is not valid JSON', { line: lineNo });
    }
    if (header === null) header = parseHeader(value, lineNo, eventSchema);
    else values.push(value);
  }
  if (header === null) throw new ImportError('the file is empty: it has no header line', { line: 1 });
  const rows = checkImportedRows(header.experiment, values, (index) => ({ line: index + 2, row: index + 1 }), rowLine);
  if (rows.length !== header.rows || rows.at(-1)?.hash !== header.headHash) {
    throw new ImportError(
      `the header says ${header.rows} rows ending in hash ${header.headHash}, but the file ends at line ${rows.length + 1} after ${rows.length} rows${rows.length > 0 ? ` ending in ${rows.at(-1)!.hash}` : ''}: rows were removed from or added at the end`,
      { line: 1 },
    );
  }
  return { header, rows };
}

function parseHeader(value: unknown, line: number, eventSchema: number): ExportHeader {
  if (typeof value === 'object' && value !== null && (value as { format?: unknown }).format !== EXPORT_FORMAT) {
    throw new ImportError(`it is not an expctl export header (expected "format": "${EXPORT_FORMAT}")`, { line });
  }
  const parsed = ExportHeader.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ImportError(`it is not a valid export header${issue ? ` (${formatPath(issue.path)}: ${issue.message})` : ''}`, { line });
  }
  const header = parsed.data;
  if (header.formatVersion > EXPORT_FORMAT_VERSION) {
    throw new ImportError(`it is export format ${header.formatVersion}, newer than this expctl's ${EXPORT_FORMAT_VERSION}`, { line }, 'upgrade expctl to import this file');
  }
  if (header.eventSchema > eventSchema) {
    throw new ImportError(`its events are of schema ${header.eventSchema}, newer than this expctl's ${eventSchema}`, { line }, 'upgrade expctl to import this file');
  }
  return header;
}

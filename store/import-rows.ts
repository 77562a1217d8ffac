import { ExpctlError } from '../util/errors.js';
import type { EventCodec } from './codec.js';
import { CorruptRowError } from './errors.js';
import { decodeRow, GENESIS_HASH, rawOf, rowHash, type PlannedRow } from './rows.js';
import type { AnyEvent, ImportedRow } from './types.js';

/** Where an import problem is: a file, a line of it and/or a row (1-based) of the rows imported. */
export interface ImportLocation {
  file?: string;
  line?: number;
  row?: number;
}

const DEFAULT_HINT = 'the export was changed, truncated or assembled outside expctl; export it again from the source log (`expctl export <id> --format jsonl`)';

/** An export file or a set of rows that cannot be imported. Nothing was written. */
export class ImportError extends ExpctlError {
  constructor(readonly problem: string, readonly at: ImportLocation = {}, hint: string = DEFAULT_HINT) {
    super('EXPCTL_IMPORT', `cannot import${at.file ? ` ${at.file}` : ''}: ${where(at)}${problem}`, hint);
  }

  get line(): number | undefined {
    return this.at.line;
  }

  get row(): number | undefined {
    return this.at.row;
  }
}

function where({ line, row }: ImportLocation): string {
  if (line !== undefined) return row !== undefined ? `line ${line} (row ${row}): ` : `line ${line}: `;
  return row !== undefined ? `row ${row}: ` : '';
}

/** A row's shape check: the row, or what is wrong with it. */
export type RowShape = (value: unknown) => ImportedRow | string;

/**
 * Check, without decoding events, that `rows` are one whole experiment's log:
 * each row of the right shape (`shape`: the export format checks JSON it
 * read; rows that are typed already pass as they are), of `experiment`,
 * chained from the genesis hash with hashes that recompute over the stored
 * texts, and stream versions 1, 2, 3… in order. Throws ImportError located by
 * `locate(index)` at the first problem. Pure.
 */
export function checkImportedRows(experiment: string, rows: readonly unknown[], locate: (index: number) => ImportLocation, shape: RowShape = (row) => row as ImportedRow): ImportedRow[] {
  const checked: ImportedRow[] = [];
  const versions = new Map<string, number>();
  let prevHash = GENESIS_HASH;
  rows.forEach((value, index) => {
    const fail = (problem: string): never => {
      throw new ImportError(problem, locate(index));
    };
    const shaped = shape(value);
    if (typeof shaped === 'string') fail(`it is not an exported row${shaped ? ` (${shaped})` : ''}`);
    const row = shaped as ImportedRow;
    if (row.experiment !== experiment) fail(`it belongs to experiment "${row.experiment}", not "${experiment}"`);
    if (row.stream !== experiment && !row.stream.startsWith(`${experiment}/`)) fail(`its stream "${row.stream}" does not belong to experiment "${experiment}"`);
    if (row.prevHash !== prevHash) {
      fail(index === 0
        ? 'its prevHash is not the genesis hash: the rows do not start at the first row of the experiment'
        : 'its prevHash is not the hash of the row before it: a row before it was removed, inserted or reordered');
    }
    if (rowHash(prevHash, rawOf(row)) !== row.hash) fail(`its hash does not match its content (stream ${row.stream}, version ${row.version}): the row was changed after it was written`);
    const expected = (versions.get(row.stream) ?? 0) + 1;
    if (row.version !== expected) fail(`stream ${row.stream} goes from version ${expected - 1} to ${row.version}: versions must be 1, 2, 3… in order`);
    versions.set(row.stream, row.version);
    prevHash = row.hash;
    checked.push(row);
  });
  return checked;
}

/** What planImport needs to know of the target log. */
export interface ImportTarget {
  /** The experiment already has rows (a head) in the target log. */
  exists: boolean;
  currentVersion(stream: string): number;
}

/**
 * Check a whole experiment's rows for import into a log (pure): the chain and
 * versions (checkImportedRows), that neither the experiment nor any of its
 * streams exists in the target, and that every event decodes with `codec`.
 * Throws ImportError naming the row (1-based) at the first problem.
 */
export function planImport<E extends AnyEvent>(experiment: string, rows: readonly ImportedRow[], target: ImportTarget, codec: EventCodec<E>): PlannedRow<E>[] {
  if (target.exists) {
    throw new ImportError(`experiment ${experiment} already exists in this log`, {}, 'an experiment can only be imported into a log that does not have it; import into another results directory (--results-dir DIR)');
  }
  if (rows.length === 0) throw new ImportError(`there are no rows of experiment ${experiment} to import`);
  if (experiment === '' || experiment.includes('/')) throw new ImportError(`"${experiment}" is not an experiment key: it must be non-empty and have no "/"`);
  const locate = (index: number): ImportLocation => ({ row: index + 1 });
  const checked = checkImportedRows(experiment, rows, locate);
  return checked.map((row, index) => {
    if (row.version === 1 && target.currentVersion(row.stream) !== 0) {
      throw new ImportError(`stream ${row.stream} already exists in this log`, locate(index));
    }
    const raw = rawOf(row);
    let decoded;
    try {
      decoded = decodeRow(index + 1, raw, row.prevHash, row.hash, codec);
    } catch (error) {
      if (!(error instanceof CorruptRowError)) throw error;
      throw new ImportError(`stream ${row.stream}, version ${row.version} cannot be read: ${error.problem}`, locate(index));
    }
    return { raw, prevHash: row.prevHash, hash: row.hash, stored: decoded };
  });
}

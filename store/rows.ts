import { canonicalJson } from '../util/canonical-json.js';
import { sha256 } from '../util/hash.js';
import { upcast, type EventCodec } from './codec.js';
import { CorruptRowError, ExpectedVersionError, InvalidAppendError } from './errors.js';
import type { AnyEvent, AppendRow, RawRow, StoredRow } from './types.js';

/** prev_hash of an experiment's first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed stored texts of a row (everything but seq and its hashes), from any record that has them. */
export function rawOf(row: RawRow): RawRow {
  return {
    experiment: row.experiment, stream: row.stream, version: row.version, type: row.type, schema: row.schema, data: row.data,
    state: row.state, context: row.context, snapshotHash: row.snapshotHash, machine: row.machine, at: row.at, cause: row.cause,
  };
}

/** I6: hash = sha256(prev_hash ‖ canonical row). The row text is the stored text, so any edited byte shows. */
export function rowHash(prevHash: string, raw: RawRow): string {
  const canonical = JSON.stringify([
    raw.experiment, raw.stream, raw.version, raw.type, raw.schema, raw.data,
    raw.state, raw.context, raw.snapshotHash, raw.machine, raw.at, raw.cause,
  ]);
  return sha256(`${prevHash}\n${canonical}`);
}

export interface PlannedRow<E extends AnyEvent = AnyEvent> {
  raw: RawRow;
  prevHash: string;
  hash: string;
  /** The row as it will read back; its `seq` is set when it is written. */
  stored: StoredRow<E>;
}

/**
 * Check and hash a batch of rows before they are written (pure). Throws
 * without side effects if any row has a stale expected version, lies outside
 * its experiment, or carries an event its codec refuses.
 */
export function planAppend<E extends AnyEvent>(
  experiment: string,
  rows: readonly AppendRow[],
  currentVersion: (stream: string) => number,
  headHash: string | null,
  codec: EventCodec<E>,
): PlannedRow<E>[] {
  checkExperimentKey(experiment);
  const versions = new Map<string, number>();
  let prevHash = headHash ?? GENESIS_HASH;
  const planned: PlannedRow<E>[] = [];
  for (const row of rows) {
    if (row.stream !== experiment && !row.stream.startsWith(`${experiment}/`)) {
      throw new InvalidAppendError(`stream "${row.stream}" does not belong to experiment "${experiment}"`);
    }
    const actual = versions.get(row.stream) ?? currentVersion(row.stream);
    if (row.expectedVersion !== actual) throw new ExpectedVersionError(row.stream, row.expectedVersion, actual);
    versions.set(row.stream, actual + 1);
    const checked = codec.check(row.event);
    if (!checked.ok) throw new InvalidAppendError(`event ${row.event.type} for stream ${row.stream} does not match its schema: ${checked.problem}`);
    const raw: RawRow = {
      experiment,
      stream: row.stream,
      version: actual + 1,
      type: checked.event.type,
      schema: codec.version,
      data: canonicalJson(checked.event.data),
      state: row.texts?.state ?? canonicalJson(row.state),
      context: row.texts?.context ?? canonicalJson(row.context),
      snapshotHash: row.snapshotHash,
      machine: row.machine,
      at: row.at,
      cause: row.cause,
    };
    const hash = rowHash(prevHash, raw);
    planned.push({ raw, prevHash, hash, stored: storedRow(row, checked.event, raw, prevHash, hash) });
    prevHash = hash;
  }
  return planned;
}

/** Streams are named under their experiment's key, so a key has no "/": a stream's name then says whose it is. */
export function checkExperimentKey(experiment: string): void {
  if (experiment === '' || experiment.includes('/')) throw new InvalidAppendError(`"${experiment}" is not an experiment key: it must be non-empty and have no "/"`);
}

/** The row as it reads back: the appended fields (the event as its codec returned it), seq set once written. */
function storedRow<E extends AnyEvent>(row: AppendRow, event: E, raw: RawRow, prevHash: string, hash: string): StoredRow<E> {
  return {
    seq: 0, experiment: raw.experiment, stream: raw.stream, version: raw.version, schema: raw.schema, event, state: row.state, context: row.context,
    snapshotHash: row.snapshotHash, machine: row.machine, at: row.at, cause: row.cause, prevHash, hash, raw,
  };
}

/**
 * Decode a stored row: parse its texts and check the event on the way out
 * (docs/design.md §3). An event of an older schema is upcast to the current
 * one first; one of a newer schema is refused.
 */
export function decodeRow<E extends AnyEvent>(seq: number, raw: RawRow, prevHash: string, hash: string, codec: EventCodec<E>): StoredRow<E> {
  const event = decodeEvent(seq, raw, codec);
  return {
    seq,
    experiment: raw.experiment,
    stream: raw.stream,
    version: raw.version,
    schema: raw.schema,
    event,
    state: parseText(seq, raw, raw.state, 'state') as StoredRow['state'],
    context: parseText(seq, raw, raw.context, 'context'),
    snapshotHash: raw.snapshotHash,
    machine: raw.machine,
    at: raw.at,
    cause: raw.cause as StoredRow['cause'],
    prevHash,
    hash,
    raw,
  };
}

/** A stored row's event, upcast and checked by `codec` (decodeRow without the state and context). */
export function decodeEvent<E extends AnyEvent>(seq: number, raw: Pick<RawRow, 'stream' | 'version' | 'type' | 'schema' | 'data'>, codec: EventCodec<E>): E {
  const fail = (problem: string): never => {
    throw new CorruptRowError(seq, raw.stream, raw.version, problem);
  };
  if (raw.schema > codec.version) {
    fail(`it was written with event schema ${raw.schema}, newer than this expctl's ${codec.version}; upgrade expctl`);
  }
  let event: AnyEvent = { type: raw.type, data: parseText(seq, raw, raw.data, 'data') };
  const upcasting = raw.schema < codec.version;
  if (upcasting) {
    try {
      event = upcast(event, raw.schema, codec.version, codec.upcasters);
    } catch (error) {
      fail(`its ${raw.type} event of schema ${raw.schema} cannot be upcast to schema ${codec.version}: ${(error as Error).message}`);
    }
  }
  const checked = codec.check(event);
  if (!checked.ok) {
    const which = upcasting ? `schema ${codec.version} (upcast from schema ${raw.schema})` : 'schema';
    fail(`its ${raw.type} event does not match the ${which} (${checked.problem})`);
  }
  return (checked as { event: E }).event;
}

function parseText(seq: number, raw: Pick<RawRow, 'stream' | 'version'>, text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptRowError(seq, raw.stream, raw.version, `its ${field} is not valid JSON`);
  }
}

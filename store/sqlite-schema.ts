/** Marks a SQLite file as an expctl log ("expc"), so a foreign database is never written to. */
export const APPLICATION_ID = 0x65787063;
/**
 * Version of the table layout below; a newer file is refused rather than misread.
 * 1: events, heads, leases, snapshots. 2: + events_by_schema, checkpoints, the lease's identity (MIGRATIONS[1]).
 */
export const STORE_SCHEMA_VERSION = 2;

/** The tables every log has, whatever its layout version (a log of version 1 has no checkpoints yet). */
export const REQUIRED_TABLES = ['events', 'heads', 'leases', 'snapshots'] as const;

const VERSION_1 = `
CREATE TABLE IF NOT EXISTS events (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment    TEXT    NOT NULL,
  stream        TEXT    NOT NULL,
  version       INTEGER NOT NULL CHECK (version > 0),
  type          TEXT    NOT NULL,
  schema        INTEGER NOT NULL,
  data          TEXT    NOT NULL,
  state         TEXT    NOT NULL,
  context       TEXT    NOT NULL,
  snapshot_hash TEXT    NOT NULL,
  machine       TEXT    NOT NULL,
  at            TEXT    NOT NULL,
  cause         TEXT    NOT NULL,
  prev_hash     TEXT    NOT NULL,
  hash          TEXT    NOT NULL,
  UNIQUE (stream, version)
);
CREATE INDEX IF NOT EXISTS events_by_experiment ON events (experiment, seq);
CREATE TRIGGER IF NOT EXISTS events_are_never_updated BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'expctl: the event log is append-only; rows are never updated'); END;
CREATE TRIGGER IF NOT EXISTS events_are_never_deleted BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'expctl: the event log is append-only; rows are never deleted'); END;

-- The chain head of each experiment: detects a truncated tail, which the chain alone cannot.
CREATE TABLE IF NOT EXISTS heads (
  experiment TEXT PRIMARY KEY,
  rows       INTEGER NOT NULL,
  head_seq   INTEGER NOT NULL,
  head_hash  TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS leases (
  experiment   TEXT PRIMARY KEY,
  holder       TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  host         TEXT    NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS snapshots (
  stream        TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  machine       TEXT    NOT NULL,
  state         TEXT    NOT NULL,
  context       TEXT    NOT NULL,
  snapshot_hash TEXT    NOT NULL,
  PRIMARY KEY (stream, version)
);
`;

/**
 * Version 1 → 2. Only additions, so a log of version 1 reads as it is (every
 * query works without them, a missing checkpoints table means no checkpoint);
 * a log is brought to version 2 by the first write of an expctl that knows it,
 * never by a read-only open.
 */
const VERSION_2 = `
-- status refuses rows of a newer event schema: this finds them without reading every row
CREATE INDEX IF NOT EXISTS events_by_schema ON events (experiment, schema);

-- a snapshot also records the machine its row records, its stream's parent and creation (those of
-- its first row), and the hash of the whole record (store/snapshot-digest.ts); a snapshot without
-- them (of layout 1) is never used
ALTER TABLE snapshots ADD COLUMN recorded_machine TEXT;
ALTER TABLE snapshots ADD COLUMN parent TEXT;
ALTER TABLE snapshots ADD COLUMN created_seq INTEGER;
ALTER TABLE snapshots ADD COLUMN created TEXT;
ALTER TABLE snapshots ADD COLUMN record_hash TEXT;

-- the lease records who holds it beyond the pid (start time, PID namespace, boot id, as JSON), so a
-- dead holder is recognised where its pid was reused
ALTER TABLE leases ADD COLUMN identity TEXT;

-- O(tail) resume (docs/design.md §3): the chain of an experiment up to row seq (rows rows, the
-- last with hash hash) was checked, or written, by the driver that recorded this, when each of
-- its streams had a snapshot as of that row; digest sums the record hashes of those snapshots
CREATE TABLE IF NOT EXISTS checkpoints (
  experiment TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  hash       TEXT    NOT NULL,
  rows       INTEGER NOT NULL,
  streams    INTEGER NOT NULL,
  digest     TEXT    NOT NULL,
  PRIMARY KEY (experiment, seq)
);
`;

/** The schema of a new log. */
export const CREATE_SCHEMA = VERSION_1 + VERSION_2;

/** `MIGRATIONS[N]` brings a log from layout version N to N + 1. */
export const MIGRATIONS: Readonly<Record<number, string>> = { 1: VERSION_2 };

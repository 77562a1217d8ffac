/** Marks a SQLite file as an expctl log ("expc"), so a foreign database is never written to. */
export const APPLICATION_ID = 0x65787063;
/** Version of the table layout below; a newer file is refused rather than misread. */
export const STORE_SCHEMA_VERSION = 1;

export const REQUIRED_TABLES = ['events', 'heads', 'leases', 'snapshots'] as const;

export const CREATE_SCHEMA = `
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
  heartbeat_at INTEGER NOT NULL,
  identity     TEXT
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

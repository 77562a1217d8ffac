import { ANY_EVENT_CODEC, type EventCodec } from './codec.js';
import { InvalidAppendError, LeaseLostError } from './errors.js';
import { leaseDecision, systemLeaseEnvironment, type LeaseEnvironment } from './lease-policy.js';
import { planImport } from './import-rows.js';
import { newerSchemaError, parseLatest, parseStateRow } from './latest.js';
import { selects } from './row-filter.js';
import { moveDigest, snapshotRecordHash, snapshotsDigest } from './snapshot-digest.js';
import { decodeRow, planAppend, type PlannedRow } from './rows.js';
import type {
  AnyEvent, AppendOptions, AppendRow, CheckpointAt, ChainRow, EventRow, TransitionRow, Checkpoint, EventStore, LatestStates, ExperimentHead, ImportedRow, Lease, LeaseAcquired, LeaseHolder, LeaseOptions,
  RawRow, ResumeBase, RowQuery, SeqRange, StateRow, StoredRow, StoredSnapshot, StreamInfo, VersionRange,
} from './types.js';

interface Record_ { seq: number; raw: RawRow; prevHash: string; hash: string }

/**
 * The event log in memory: same contract as the SQLite store (rows kept as
 * their stored texts, decoded on read), for tests and dry runs.
 */
export function createMemoryStore<E extends AnyEvent = AnyEvent>(options: { leaseEnvironment?: LeaseEnvironment; codec?: EventCodec<E> } = {}): EventStore<E> {
  return new MemoryStore<E>(options.leaseEnvironment ?? systemLeaseEnvironment, options.codec ?? (ANY_EVENT_CODEC as EventCodec<E>));
}

class MemoryStore<E extends AnyEvent> implements EventStore<E> {
  readonly location = ':memory:';
  private readonly rows: Record_[] = [];
  private readonly byStream = new Map<string, Record_[]>();
  private readonly heads = new Map<string, ExperimentHead>();
  private readonly leases = new Map<string, Lease>();
  private readonly snaps = new Map<string, StoredSnapshot>();
  private readonly checks = new Map<string, Checkpoint[]>();
  private closed = false;

  constructor(private readonly env: LeaseEnvironment, readonly codec: EventCodec<E>) {}

  append(experiment: string, rows: readonly AppendRow[], _options?: AppendOptions): StoredRow<E>[] {
    this.assertOpen();
    if (rows.length === 0) return [];
    const head = this.heads.get(experiment);
    return this.write(experiment, planAppend(experiment, rows, (s) => this.streamVersion(s), head?.headHash ?? null, this.codec));
  }

  importRows(experiment: string, rows: readonly ImportedRow[]): StoredRow<E>[] {
    this.assertOpen();
    // every check happens in planImport, before the first row is stored: all or nothing
    return this.write(experiment, planImport(experiment, rows, { exists: this.heads.has(experiment), currentVersion: (s) => this.streamVersion(s) }, this.codec));
  }

  private write(experiment: string, planned: PlannedRow<E>[]): StoredRow<E>[] {
    const head = this.heads.get(experiment);
    const stored = planned.map((p) => {
      const record = { seq: this.rows.length + 1, raw: p.raw, prevHash: p.prevHash, hash: p.hash };
      this.rows.push(record);
      const list = this.byStream.get(p.raw.stream) ?? [];
      list.push(record);
      this.byStream.set(p.raw.stream, list);
      p.stored.seq = record.seq;
      return p.stored;
    });
    const last = stored[stored.length - 1]!;
    this.heads.set(experiment, { experiment, rows: (head?.rows ?? 0) + stored.length, headSeq: last.seq, headHash: last.hash });
    return stored;
  }

  readStream(stream: string, range: VersionRange = {}): StoredRow<E>[] {
    const from = range.fromVersion ?? 1;
    const to = range.toVersion ?? Number.MAX_SAFE_INTEGER;
    return (this.byStream.get(stream) ?? []).filter((r) => r.raw.version >= from && r.raw.version <= to).map((r) => this.decode(r));
  }

  readExperiment(experiment: string, range: SeqRange = {}): IterableIterator<StoredRow<E>> {
    return this.readRows(experiment, range);
  }

  *readRows(experiment: string, query: RowQuery): IterableIterator<StoredRow<E>> {
    const mine = this.rows.filter((r) => r.raw.experiment === experiment && selects(query, r.seq, r.raw));
    if (query.newestFirst) mine.reverse();
    for (const r of mine.slice(0, query.limit ?? mine.length)) yield this.decode(r);
  }

  *readEvents(experiment: string, query: RowQuery): IterableIterator<EventRow<E>> {
    for (const { seq, stream, version, event, at, cause, machine } of this.readRows(experiment, query)) yield { seq, stream, version, event, at, cause, machine };
  }

  *readTransitions(experiment: string, query: RowQuery): IterableIterator<TransitionRow<E>> {
    for (const { seq, stream, version, event, at, cause, machine, state, raw } of this.readRows(experiment, query)) yield { seq, stream, version, event, at, cause, machine, state, contextText: raw.context };
  }

  *readStates(experiment: string, range: SeqRange = {}): IterableIterator<StateRow> {
    for (const r of this.rows) if (r.raw.experiment === experiment && selects(range, r.seq, r.raw)) yield parseStateRow({ ...r.raw, seq: r.seq }, this.codec.version);
  }

  streamVersion(stream: string): number {
    const list = this.byStream.get(stream);
    return list ? list[list.length - 1]!.raw.version : 0;
  }

  latestStates(experiment: string, toSeq = Number.MAX_SAFE_INTEGER): LatestStates {
    const rows = this.rows.filter((r) => r.raw.experiment === experiment && r.seq <= toSeq);
    const newer = rows.find((r) => r.raw.schema > this.codec.version);
    if (newer) throw newerSchemaError({ ...newer.raw, seq: newer.seq }, this.codec.version);
    const last = new Map<string, Record_>();
    const created = new Map<string, string>();
    for (const r of rows) {
      last.set(r.raw.stream, r);
      if (!created.has(r.raw.stream)) created.set(r.raw.stream, r.raw.at);
    }
    return {
      streams: [...last.values()].map((r) => parseLatest({ ...r.raw, seq: r.seq, createdAt: created.get(r.raw.stream)! })),
      rows: rows.length,
      lastSeq: rows.at(-1)?.seq ?? 0,
    };
  }

  readEffectRows(experiment: string, effects: readonly string[], toSeq = Number.MAX_SAFE_INTEGER): EventRow<E>[] {
    const named = new Set(effects);
    const ends = this.rows.filter((r) => r.raw.experiment === experiment && r.seq <= toSeq && (r.raw.type === 'effect.completed' || r.raw.type === 'effect.failed'));
    return ends.filter((r) => named.has((JSON.parse(r.raw.data) as { effect?: string }).effect ?? '')).map((r) => {
      const { seq, stream, version, event, at, cause, machine } = this.decode(r);
      return { seq, stream, version, event, at, cause, machine };
    });
  }

  streams(experiment: string): StreamInfo[] {
    return [...this.byStream.values()]
      .filter((list) => list[0]!.raw.experiment === experiment)
      .sort((a, b) => a[0]!.seq - b[0]!.seq)
      .map((list) => ({ stream: list[0]!.raw.stream, machine: list[0]!.raw.machine, version: list[list.length - 1]!.raw.version }));
  }

  experiments(): ExperimentHead[] {
    return [...this.heads.values()].sort((a, b) => a.experiment.localeCompare(b.experiment));
  }

  head(experiment: string): ExperimentHead | null {
    return this.heads.get(experiment) ?? null;
  }

  acquireLease(experiment: string, holder: LeaseHolder, options: LeaseOptions): LeaseAcquired {
    const current = this.readLease(experiment);
    const takenOver = leaseDecision(current, holder, options, this.env);
    const now = this.env.now();
    const startedAt = current && current.id === holder.id ? current.startedAt : now;
    const lease = { ...holder, experiment, startedAt, heartbeatAt: now };
    this.leases.set(experiment, lease);
    return { lease: { ...lease }, takenOver };
  }

  heartbeat(experiment: string, holderId: string): void {
    const lease = this.leases.get(experiment);
    if (!lease || lease.id !== holderId) throw new LeaseLostError(experiment, lease ? { ...lease } : null);
    lease.heartbeatAt = this.env.now();
  }

  releaseLease(experiment: string, holderId: string): void {
    if (this.leases.get(experiment)?.id === holderId) this.leases.delete(experiment);
  }

  readLease(experiment: string): Lease | null {
    const lease = this.leases.get(experiment);
    return lease ? { ...lease } : null;
  }

  saveCheckpoint(experiment: string, at: CheckpointAt, snapshots: readonly StoredSnapshot[]): Checkpoint {
    const row = this.rows[at.seq - 1];
    if (row?.raw.experiment !== experiment || row.hash !== at.hash) {
      throw new InvalidAppendError(`a checkpoint of ${experiment} at seq ${at.seq} does not match the log: ${row?.raw.experiment === experiment ? 'that row has another hash' : 'it has no such row'}`);
    }
    const previous = this.checks.get(experiment)?.at(-1)?.digest ?? snapshotsDigest(this.snapshots(experiment));
    const removed = snapshots.flatMap((s) => { const old = this.snaps.get(s.stream); return old ? [snapshotRecordHash(old)] : []; });
    for (const snapshot of snapshots) this.snaps.set(snapshot.stream, { ...snapshot });
    const digest = moveDigest(previous, snapshots.map(snapshotRecordHash), removed);
    const checkpoint = { experiment, seq: at.seq, hash: at.hash, rows: this.rowsUpTo(experiment, at.seq), streams: at.streams, digest };
    this.checks.set(experiment, [...(this.checks.get(experiment) ?? []).filter((c) => c.seq !== at.seq), checkpoint].sort((a, b) => a.seq - b.seq));
    return { ...checkpoint };
  }

  checkpoints(experiment: string): Checkpoint[] {
    return (this.checks.get(experiment) ?? []).map((c) => ({ ...c }));
  }

  snapshots(experiment: string): StoredSnapshot[] {
    return [...this.snaps.values()].filter((s) => s.stream === experiment || s.stream.startsWith(`${experiment}/`)).sort((a, b) => (a.stream < b.stream ? -1 : 1)).map((s) => ({ ...s }));
  }

  resumeBase(experiment: string): ResumeBase | null {
    const checkpoint = this.checks.get(experiment)?.at(-1);
    if (!checkpoint) return null;
    const at = this.rows[checkpoint.seq - 1];
    const row: ChainRow | null = at?.raw.experiment === experiment ? { ...at.raw, seq: at.seq, prevHash: at.prevHash, hash: at.hash } : null;
    const snapshots = this.snapshots(experiment).sort((a, b) => a.createdSeq - b.createdSeq);
    const newer = this.rows.find((r) => r.raw.experiment === experiment && r.raw.schema > this.codec.version);
    return { checkpoint: { ...checkpoint }, row, rows: this.rowsUpTo(experiment, checkpoint.seq), newer: newer ? { seq: newer.seq, stream: newer.raw.stream, version: newer.raw.version } : null, snapshots };
  }

  private rowsUpTo(experiment: string, seq: number): number {
    return this.rows.filter((r) => r.raw.experiment === experiment && r.seq <= seq).length;
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the store is closed');
  }

  private decode(r: Record_): StoredRow<E> {
    return decodeRow(r.seq, r.raw, r.prevHash, r.hash, this.codec);
  }
}

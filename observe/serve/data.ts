/*
 * What the live web UI (`expctl serve`) shows, read from the log the way the
 * read commands read it: latest states per stream by SQL (`status`), rows by
 * seq ranges with a limit (`history`), a run's own stream (`show`). Nothing
 * here writes; a big experiment is never sent whole (runs and rows come a page
 * at a time).
 */
import { verifyLog } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import type { EventStore, StoredRow } from '../../store/types.js';
import { driverStatus, experimentStatus, type RunEntry, type StatusJson } from '../status.js';

/** An experiment in the list: `status --json` without an id, one element. */
export type ExperimentLine = Pick<StatusJson, 'experiment' | 'state' | 'runs' | 'results' | 'lastSeq' | 'rows' | 'driver' | 'paused'>;

/** One run as a row of the experiment's results table. */
export interface RunRow extends RunEntry {
  tier: string;
  subtest: string;
}

/** An experiment without its runs (they come a page at a time), with how many actors of each machine are in each state. */
export interface ExperimentSummary extends Omit<StatusJson, 'tiers'> {
  headHash: string;
  firstSeq: number;
  tiers: (Omit<StatusJson['tiers'][number], 'subtests'> & { subtests: Omit<StatusJson['tiers'][number]['subtests'][number], 'runs'>[] })[];
  /** Machine id → state → how many actors are in it. */
  counts: Record<string, Record<string, number>>;
}

export interface RunQuery {
  offset?: number;
  limit?: number;
  tier?: string;
  subtest?: string;
  /** `passed`, `not_passed`, `errored`, or `none` (no outcome yet). */
  outcome?: string;
  /** Part of the run's state name. */
  state?: string;
}

export interface HistoryQuery {
  /** Only rows with a seq below this one (paging back). */
  before?: number;
  limit?: number;
  /** This stream (with or without the experiment prefix) and the streams below it. */
  stream?: string;
  /** Event types, comma-separated; `effect.*` matches a namespace. */
  type?: string;
}

/** A history row as the page lists it (the `history --json` fields but the hashes, data and context). */
export interface HistoryRow {
  seq: number;
  stream: string;
  version: number;
  type: string;
  state: unknown;
  at: string;
  cause: string;
}

export const MAX_RUNS_PAGE = 500;
export const MAX_HISTORY_PAGE = 500;

/**
 * The reads of one log, with the status of each experiment kept per
 * (experiment, last seq): the list, the experiment page and its runs table
 * share one computation until a row is appended. A status that took long to
 * compute (10^4 runs: seconds) is kept a while after rows are appended
 * (three times what it took, at least a second), so a big experiment being
 * driven is not computed again for every row; small ones always are.
 */
export class ServeData {
  private readonly cache = new Map<string, { lastSeq: number; status: StatusJson; computedAt: number; tookMs: number }>();

  constructor(readonly store: EventStore, private readonly now: () => number = Date.now) {}

  experiments(): ExperimentLine[] {
    return this.store.experiments().map((h) => {
      const { experiment, state, runs, results, lastSeq, rows, driver, paused } = this.status(h.experiment);
      return { experiment, state, runs, results, lastSeq, rows, driver, paused };
    });
  }

  /** The status of `key`: computed again once rows were appended (see above); the driver is read every time (it can die without a row). */
  status(key: string): StatusJson {
    const head = this.store.head(key)!;
    const cached = this.cache.get(key);
    const fresh = cached && (cached.lastSeq === head.headSeq || (cached.tookMs > 300 && this.now() - cached.computedAt < Math.max(1000, 3 * cached.tookMs)));
    if (fresh) return { ...cached.status, driver: driverStatus(this.store, key) };
    const started = this.now();
    const status = experimentStatus(this.store, key);
    this.cache.set(key, { lastSeq: status.lastSeq, status, computedAt: this.now(), tookMs: this.now() - started });
    return status;
  }

  summary(key: string): ExperimentSummary {
    const status = this.status(key);
    const head = this.store.head(key)!;
    const counts: Record<string, Record<string, number>> = {};
    const count = (machine: string, state: string) => {
      const of = (counts[machine] ??= {});
      of[state] = (of[state] ?? 0) + 1;
    };
    if (status.state !== 'not_started') count('experiment', status.state);
    const tiers = status.tiers.map(({ subtests, ...tier }) => {
      if (tier.state !== 'not_started') count('tier', tier.state);
      return {
        ...tier,
        subtests: subtests.map(({ runs, ...subtest }) => {
          if (subtest.state !== 'not_started') count('subtest', subtest.state);
          for (const run of runs) if (run.state !== 'not_started') count('run', run.state);
          return subtest;
        }),
      };
    });
    return { ...status, tiers, counts, headHash: head.headHash, firstSeq: firstSeqOf(this.store, key) };
  }

  /** A page of the runs table, filtered. */
  runs(key: string, q: RunQuery): { total: number; offset: number; rows: RunRow[] } {
    const status = this.status(key);
    const state = q.state?.trim().toLowerCase();
    const all: RunRow[] = [];
    for (const tier of status.tiers) {
      if (q.tier && tier.id !== q.tier) continue;
      for (const subtest of tier.subtests) {
        if (q.subtest && subtest.id !== q.subtest) continue;
        for (const run of subtest.runs) {
          if (q.outcome && (run.outcome ?? 'none') !== q.outcome) continue;
          if (state && !run.state.toLowerCase().includes(state)) continue;
          all.push({ tier: tier.id, subtest: subtest.id, ...run });
        }
      }
    }
    const offset = Math.max(0, q.offset ?? 0);
    const limit = Math.min(MAX_RUNS_PAGE, Math.max(1, q.limit ?? 50));
    return { total: all.length, offset, rows: all.slice(offset, offset + limit) };
  }

  /** The newest `limit` rows matching the query below `before`, in seq order, and whether older ones exist. */
  history(key: string, q: HistoryQuery): { rows: HistoryRow[]; more: boolean; firstSeq: number; lastSeq: number } {
    const stream = q.stream?.trim() ? (q.stream === key || q.stream.startsWith(`${key}/`) ? q.stream : `${key}/${q.stream.replace(/^\/+/, '')}`) : undefined;
    const types = q.type?.split(',').map((t) => t.trim()).filter(Boolean).map((t) => (t.endsWith('.') ? `${t}*` : t));
    const limit = Math.min(MAX_HISTORY_PAGE, Math.max(1, q.limit ?? 100));
    const query = { streams: stream ? [stream] : undefined, types: types?.length ? types : undefined, newestFirst: true, limit: limit + 1, ...(q.before !== undefined ? { toSeq: q.before - 1 } : {}) };
    const rows = [...this.store.readRows(key, query)].map(historyRow);
    const more = rows.length > limit;
    return { rows: rows.slice(0, limit).reverse(), more, firstSeq: firstSeqOf(this.store, key), lastSeq: this.store.head(key)!.headSeq };
  }

  /** The tree as of row `seq` (what `history --at SEQ --json` prints), with the actors per machine and state then. */
  at(key: string, seq: number): StatusJson & { counts: Record<string, Record<string, number>> } {
    const status = experimentStatus(this.store, key, seq);
    const counts: Record<string, Record<string, number>> = {};
    for (const s of this.store.latestStates(key, seq).streams) {
      const machine = s.machine.slice(0, s.machine.indexOf('@'));
      const of = (counts[machine] ??= {});
      of[String(s.state)] = (of[String(s.state)] ?? 0) + 1;
    }
    return { ...status, counts };
  }

  /** `verify`: the hash chain and a replay of every stream. */
  verify(key: string) {
    const report = verifyLog(this.store, lifecycleRegistry, key);
    return { ok: report.ok, experiment: report.experiment, rows: report.rows, streams: report.streams, headHash: report.headHash, problem: report.problem ?? null };
  }
}

function historyRow(row: StoredRow): HistoryRow {
  return { seq: row.seq, stream: row.stream, version: row.version, type: row.event.type, state: row.state, at: row.at, cause: row.cause };
}

function firstSeqOf(store: EventStore, key: string): number {
  for (const row of store.readRows(key, { limit: 1 })) return row.seq;
  return 0;
}

import { CorruptRowError } from '../store/errors.js';
import { GENESIS_HASH, rowHash } from '../store/rows.js';
import type { EventStore, ExperimentHead, StoredRow } from '../store/types.js';
import { ExpctlError } from '../util/errors.js';
import type { Registry } from './registry.js';
import { applyRow, machineChanges, type MachineChange, type ReplayedActor } from './replay.js';
import { SavedStates } from './saved-states.js';

import type { VerifyProblem } from './verify-problem.js';

export type { ProblemKind, VerifyProblem } from './verify-problem.js';

export interface VerifyReport {
  experiment: string;
  ok: boolean;
  rows: number;
  streams: number;
  /** The last row's hash: record it elsewhere to anchor the log against wholesale rewriting. */
  headHash: string | null;
  problem: VerifyProblem | null;
  machineChanges: MachineChange[];
}

/**
 * I6 + I2/I4: recompute the hash chain of an experiment, replay every stream,
 * check the stored checkpoints and snapshots and the recorded head. Reports
 * the first bad row.
 *
 * @example const report = verifyLog(store, lifecycleRegistry, 'demo-001'); if (!report.ok) console.log(report.problem);
 */
export function verifyLog(store: EventStore, registry: Registry, experiment: string): VerifyReport {
  return checkLog(store, registry, experiment).report;
}

/** verifyLog, with the actors it replayed (so loading a log for a drive replays it once). */
export function checkLog(store: EventStore, registry: Registry, experiment: string): { report: VerifyReport; actors: Map<string, ReplayedActor> } {
  const actors = new Map<string, ReplayedActor>();
  const head = store.head(experiment);
  const saved = new SavedStates(store, experiment);
  let rows = 0;
  let prevHash = GENESIS_HASH;
  let lastSeq = 0;
  const report = (problem: VerifyProblem | null) => ({
    actors,
    report: { experiment, ok: problem === null, rows, streams: actors.size, headHash: rows > 0 ? prevHash : null, problem, machineChanges: problem ? [] : machineChanges(actors) },
  });
  try {
    for (const row of store.readExperiment(experiment)) {
      const problem = chainProblem(row, prevHash) ?? replayProblem(registry, actors, row) ?? saved.check(row, rows + 1, actors.size);
      if (problem) return report(problem);
      prevHash = row.hash;
      lastSeq = row.seq;
      rows += 1;
    }
  } catch (error) {
    if (!(error instanceof CorruptRowError)) throw error;
    return report({ kind: 'decode', seq: error.seq, stream: error.stream, version: error.version, message: error.message });
  }
  return report(headProblem(experiment, head, rows, lastSeq, prevHash) ?? saved.unmatched());
}

function chainProblem(row: StoredRow, prevHash: string): VerifyProblem | null {
  const at = { seq: row.seq, stream: row.stream, version: row.version };
  if (row.prevHash !== prevHash) {
    return { kind: 'chain', ...at, message: `row seq ${row.seq} does not follow the previous row of the chain (a row before it was removed, inserted or changed)` };
  }
  if (rowHash(prevHash, row.raw) !== row.hash) {
    return { kind: 'hash', ...at, message: `row seq ${row.seq} (stream ${row.stream}, version ${row.version}) was changed after it was written: its hash does not match its content` };
  }
  return null;
}

function replayProblem(registry: Registry, actors: Map<string, ReplayedActor>, row: StoredRow): VerifyProblem | null {
  try {
    applyRow(registry, actors, row);
    return null;
  } catch (error) {
    if (!(error instanceof ExpctlError)) throw error;
    return { kind: error.code === 'EXPCTL_REPLAY_DIVERGED' ? 'replay' : error.code === 'EXPCTL_UNKNOWN_MACHINE' ? 'machine' : 'stream', seq: row.seq, stream: row.stream, version: row.version, message: error.message };
  }
}

function headProblem(experiment: string, head: ExperimentHead | null, rows: number, lastSeq: number, lastHash: string): VerifyProblem | null {
  if (!head && rows === 0) return { kind: 'head', seq: null, stream: null, version: null, message: `there is no experiment ${experiment} in this log` };
  if (head && head.rows === rows && head.headSeq === lastSeq && head.headHash === lastHash) return null;
  return {
    kind: 'head',
    seq: lastSeq,
    stream: null,
    version: null,
    message: head
      ? `the log of ${experiment} ends at seq ${lastSeq} after ${rows} rows, but its recorded head is seq ${head.headSeq} after ${head.rows} rows (rows were removed from the end, or added outside expctl)`
      : `the log of ${experiment} has ${rows} rows but no recorded head (it was assembled outside expctl)`,
  };
}


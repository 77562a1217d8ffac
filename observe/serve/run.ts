import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { outputOf } from '../../engine/index.js';
import { experimentPaths } from '../../runner/paths.js';
import { runDetail, type RunDetail } from '../../runner/run-detail.js';
import { streams } from '../../runner/streams.js';
import type { EventStore } from '../../store/types.js';

/** A run's page: what `show --json` says, the states it went through (its path in the run machine), its diff and each judge's criteria. */
export interface RunPage extends RunDetail {
  /** Every row of the run, oldest first: the state it led to. */
  path: { seq: number; at: string; type: string; state: string }[];
  diffText: LogText | null;
  criteria: (Record<string, unknown> | null)[];
  /** The outputs the page can show (`agent`, `judge-1`, …). */
  outputs: string[];
}

/** A text file of a run, cut to its last `LOG_LIMIT` bytes when bigger. */
export interface LogText {
  text: string;
  bytes: number;
  truncated: boolean;
}

export const LOG_LIMIT = 512 * 1024;

export interface RunAt {
  tier: string;
  subtest: string;
  run: number;
}

/** The run page of `tier/subtest/run`; null when the log has no such run. */
export function runPage(store: EventStore, resultsDir: string, key: string, at: RunAt): RunPage | null {
  const detail = runDetail(store, resultsDir, key, at);
  if (!detail) return null;
  const rows = store.readStream(streams.run(key, at.tier, at.subtest, at.run));
  const judged = outputOf<{ verdicts?: { criteria?: Record<string, unknown> | null }[] }>(rows, 'runJudges');
  const paths = experimentPaths(resultsDir, key).run(at.tier, at.subtest, at.run);
  const judges = detail.files.filter((f) => /^judge \d+ stdout$/.test(f.name)).length;
  return {
    ...detail,
    path: rows.map((r) => ({ seq: r.seq, at: r.at, type: r.event.type, state: String(r.state) })),
    diffText: readTail(paths.diff),
    criteria: (judged?.verdicts ?? []).map((v) => v.criteria ?? null),
    outputs: ['agent', ...Array.from({ length: judges }, (_, i) => `judge-${i + 1}`)],
  };
}

/** What the agent or a judge (`judge-N`) printed on `stream`; null when the file was not written or the name is not one of the run's. */
export function runOutput(resultsDir: string, key: string, at: RunAt, who: string, stream: 'stdout' | 'stderr'): LogText | null {
  const paths = experimentPaths(resultsDir, key).run(at.tier, at.subtest, at.run);
  if (who === 'agent') return readTail(stream === 'stdout' ? paths.stdout : paths.stderr);
  const judge = /^judge-([1-9]\d{0,2})$/.exec(who);
  if (!judge) return null;
  const i = Number(judge[1]) - 1;
  return readTail(stream === 'stdout' ? paths.judgeStdout(i) : paths.judgeStderr(i));
}

/** The file's text, or its last LOG_LIMIT bytes; null when it is not there. */
export function readTail(file: string, limit = LOG_LIMIT): LogText | null {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return null;
    size = stat.size;
  } catch {
    return null;
  }
  const length = Math.min(size, limit);
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return { text: buffer.toString('utf8'), bytes: size, truncated: size > limit };
}

import { existsSync } from 'node:fs';
import { isEvent, outputOf } from '../engine/index.js';
import { RUN_STEPS, type RunContext } from '../machines/run.machine.js';
import type { EventStore, StoredRow } from '../store/types.js';
import { tail } from './execution/command-output.js';
import { runViewOf, type RunView } from './outcome.js';
import { experimentPaths } from './paths.js';
import { streams } from './streams.js';

/** One step of a run as the log records it: an effect attempt, from entering its state to its end (or to now). */
export interface RunStep {
  effect: string;
  attempt: number;
  /** The state the run was in while the step ran. */
  state: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** `unfinished`: its end is not in the log (under way, or stopped with its driver). */
  result: 'completed' | 'failed' | 'unfinished';
  error: string | null;
  /** For a command: the process group it ran in. */
  pid: number | null;
  /** Set when a later driver collected the command an earlier one started: still running, or finished. */
  adopted: 'running' | 'finished' | null;
}

/** A file of the run's directory and whether it is there. */
export interface RunFile {
  name: string;
  path: string;
  exists: boolean;
}

/** Everything `expctl show` says of one run (its `--json`, documented in the README). */
export interface RunDetail extends RunView {
  experiment: string;
  steps: RunStep[];
  agent: { exitCode: number | null; timedOut: boolean; durationMs: number; tokens: number | null; costUsd: number | null } | null;
  verdicts: { judge: number; passed: boolean; score: number; grade: string | null; reasoning: string | null }[];
  diff: { filesChanged: number; insertions: number; deletions: number } | null;
  /** The last lines of the stderr of the command whose step failed last (agent or judges), when the run errored. */
  stderr: { file: string; lines: string[] }[];
  files: RunFile[];
}

const STDERR_LINES = 12;

/** The run `tier/subtest/run` of experiment `key`, from its rows and its directory; null when the log has no such run. */
export function runDetail(store: EventStore, resultsDir: string, key: string, at: { tier: string; subtest: string; run: number }): RunDetail | null {
  const stream = streams.run(key, at.tier, at.subtest, at.run);
  const rows = store.readStream(stream);
  const last = rows.at(-1);
  if (!last) return null;
  const view = runViewOf({ stream, state: String(last.state), context: last.context as RunContext, createdAt: rows[0]!.at, at: last.at }, rows);
  const paths = experimentPaths(resultsDir, key).run(at.tier, at.subtest, at.run);
  const judged = outputOf<{ verdicts?: { passed: boolean; score: number; grade?: string | null; reasoning?: string | null }[] }>(rows, 'runJudges');
  const judges = Math.max(judged?.verdicts?.length ?? 0, countJudgeFiles(paths));
  const steps = stepsOf(rows);
  const files: RunFile[] = [
    ['prompt', paths.prompt], ['agent stdout', paths.stdout], ['agent stderr', paths.stderr], ['diff', paths.diff],
    ...Array.from({ length: judges }, (_, i) => [[`judge ${i + 1} stdout`, paths.judgeStdout(i)], [`judge ${i + 1} stderr`, paths.judgeStderr(i)], [`judge ${i + 1} verdict`, paths.judgeVerdict(i)]] as const).flat(),
    ['result', paths.result], ['report', paths.report], ['workspace', paths.workspace],
  ].map(([name, path]) => ({ name, path, exists: existsSync(path) }));
  return {
    ...view,
    experiment: key,
    steps,
    agent: outputOf<RunDetail['agent']>(rows, 'runAgent') ?? null,
    verdicts: (judged?.verdicts ?? []).map((v, i) => ({ judge: i + 1, passed: v.passed, score: v.score, grade: v.grade ?? null, reasoning: v.reasoning ?? null })),
    diff: outputOf<RunDetail['diff']>(rows, 'captureDiff') ?? null,
    stderr: view.outcome === 'errored' || steps.at(-1)?.result === 'failed' ? failedStderr(steps, paths, judges) : [],
    files,
  };
}

/** Each effect attempt: it starts when its state is entered (the row before its end, other than a process start) and ends at its end row. */
function stepsOf(rows: readonly StoredRow[]): RunStep[] {
  const steps: RunStep[] = [];
  let entered = rows[0]!;
  let pid: number | null = null;
  let adopted: RunStep['adopted'] = null;
  for (const row of rows.slice(1)) {
    const { event } = row;
    if (isEvent(event, 'effect.started')) {
      pid = event.data.pgid ?? event.data.pid ?? null;
      continue;
    }
    if (isEvent(event, 'effect.adopted')) {
      adopted = event.data.state;
      pid = event.data.pgid ?? pid;
      continue;
    }
    if (isEvent(event, 'effect.completed') || isEvent(event, 'effect.failed')) {
      const failed = isEvent(event, 'effect.failed');
      steps.push({
        effect: event.data.effect, attempt: event.data.attempt, state: String(entered.state), startedAt: entered.at, endedAt: row.at,
        durationMs: Math.max(0, Date.parse(row.at) - Date.parse(entered.at)), result: failed ? 'failed' : 'completed',
        error: isEvent(event, 'effect.failed') ? event.data.error.message : null, pid, adopted,
      });
    }
    pid = null;
    adopted = null;
    entered = row;
  }
  const current = String(entered.state);
  const effect = RUNNING_EFFECT.get(current);
  if (effect) steps.push({ effect, attempt: (entered.context as RunContext).attempt, state: current, startedAt: entered.at, endedAt: null, durationMs: null, result: 'unfinished', error: null, pid, adopted });
  return steps;
}

/** The effect each action state performs (docs/design.md §2.4), for the step not finished yet. */
const RUNNING_EFFECT = new Map<string, string>(RUN_STEPS);

function failedStderr(steps: readonly RunStep[], paths: ReturnType<ReturnType<typeof experimentPaths>['run']>, judges: number): RunDetail['stderr'] {
  const failed = [...steps].reverse().find((s) => s.result === 'failed');
  const files = failed?.effect === 'runAgent' ? [paths.stderr] : failed?.effect === 'runJudges' ? Array.from({ length: judges }, (_, i) => paths.judgeStderr(i)) : [];
  return files.filter(existsSync).map((file) => ({ file, lines: tail(file, 64 * 1024).split(/\r?\n/).filter((l) => l.trim() !== '').slice(-STDERR_LINES) })).filter((f) => f.lines.length > 0);
}

function countJudgeFiles(paths: ReturnType<ReturnType<typeof experimentPaths>['run']>): number {
  let n = 0;
  while (existsSync(paths.judgeStdout(n)) || existsSync(paths.judgeStderr(n))) n += 1;
  return n;
}

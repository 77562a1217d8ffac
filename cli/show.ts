import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { experimentStatus } from '../observe/status.js';
import { experimentKey } from '../runner/log-keys.js';
import { experimentPaths } from '../runner/paths.js';
import { runDetail, type RunDetail } from '../runner/run-detail.js';
import type { EventStore } from '../store/types.js';
import { ExpctlError, UsageError } from '../util/errors.js';
import { duration, outcomeText, score2, tokens, usd } from './format.js';
import { paint, type Io } from './io.js';
import { openLogForStates } from './log-file.js';
import { expctlCommand } from './shell.js';
import { printOne } from './status.js';

export interface ShowOptions {
  resultsDir: string;
  json?: boolean;
}

/** `expctl show <id> <tier[/subtest[/run]]>`: a run's every step, its error with the stderr that explains it, verdicts, diff and files; a tier or subtest as its part of the tree. */
export async function showCommand(id: string, path: string, options: ShowOptions, io: Io): Promise<void> {
  const store = openLogForStates(options.resultsDir);
  try {
    const key = experimentKey(store, id);
    const at = parsePath(path);
    if (at.run === undefined) return showPart(io, store, key, at, options);
    const detail = runDetail(store, options.resultsDir, key, { tier: at.tier, subtest: at.subtest!, run: at.run });
    if (!detail) throw noSuch(store, key, path);
    if (options.json) return io.out(`${JSON.stringify(detail, null, 2)}\n`);
    printRun(io, detail, options);
  } finally {
    store.close();
  }
}

export interface LogsOptions {
  resultsDir: string;
  /** Judge n's output instead of the agent's. */
  judge?: number;
  stdout?: boolean;
  stderr?: boolean;
}

/** `expctl logs <id> <tier/subtest/run>`: what the agent (or `--judge N`) printed, as recorded in the run's directory. */
export async function logsCommand(id: string, path: string, options: LogsOptions, io: Io): Promise<void> {
  const store = openLogForStates(options.resultsDir);
  try {
    const key = experimentKey(store, id);
    const at = parsePath(path);
    if (at.run === undefined) throw new UsageError(`"${path}" names no run`, 'give tier/subtest/run, e.g. T0/01-full/1');
    if (store.streamVersion(`${key}/${path}`) === 0) throw noSuch(store, key, path);
    const paths = experimentPaths(options.resultsDir, key).run(at.tier, at.subtest!, at.run);
    const i = (options.judge ?? 1) - 1;
    const [out, err] = options.judge === undefined ? [paths.stdout, paths.stderr] : [paths.judgeStdout(i), paths.judgeStderr(i)];
    const which = options.judge === undefined ? 'agent' : `judge ${options.judge}`;
    const both = !options.stdout && !options.stderr;
    const files = [...(both || options.stdout ? [[`${which} stdout`, out] as const] : []), ...(both || options.stderr ? [[`${which} stderr`, err] as const] : [])];
    for (const [name, file] of files) {
      const size = sizeOf(file);
      if (both) io.out(`${paint(io, 1, `==> ${name}: ${relative(io.cwd, file) || file}`)}${size === null ? ' (not written: the step did not run)' : size === 0 ? ' (empty)' : ''}\n`);
      else if (size === null) throw new ExpctlError('EXPCTL_NOT_FOUND', `run ${path} of ${key} has no ${name}: ${file} was not written (the step did not run)`, `see \`${expctlCommand(['show', key, path], options.resultsDir, io)}\``);
      if (size) io.out(readFileSync(file, 'utf8'));
    }
  } finally {
    store.close();
  }
}

function sizeOf(file: string): number | null {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

function parsePath(path: string): { tier: string; subtest?: string; run?: number } {
  const parts = path.split('/').filter(Boolean);
  const run = parts[2] === undefined ? undefined : Number(parts[2].replace(/^run-0*/, ''));
  if (parts.length === 0 || parts.length > 3 || (run !== undefined && (!Number.isInteger(run) || run < 1))) {
    throw new UsageError(`"${path}" is not a tier, tier/subtest or tier/subtest/run`, 'e.g. T0, T0/01-full or T0/01-full/2');
  }
  return { tier: parts[0]!, ...(parts[1] ? { subtest: parts[1] } : {}), ...(run !== undefined ? { run } : {}) };
}

function noSuch(store: EventStore, key: string, path: string): ExpctlError {
  const runs = store.latestStates(key).streams.filter((s) => s.machine.startsWith('run@')).map((s) => s.stream.slice(key.length + 1)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const shown = runs.slice(0, 8).join(', ');
  return new ExpctlError('EXPCTL_NOT_FOUND', `experiment ${key} has no run ${path}`, runs.length === 0 ? 'it has no runs yet' : `its runs: ${shown}${runs.length > 8 ? `, … (${runs.length} in all; \`expctl status ${key}\`)` : ''}`);
}

function showPart(io: Io, store: EventStore, key: string, at: { tier: string; subtest?: string }, options: ShowOptions): void {
  const status = experimentStatus(store, key);
  const tier = status.tiers.find((t) => t.id === at.tier);
  const subtest = at.subtest === undefined ? undefined : tier?.subtests.find((s) => s.id === at.subtest);
  if (!tier || (at.subtest !== undefined && !subtest)) {
    const known = at.subtest === undefined ? status.tiers.map((t) => t.id) : (tier?.subtests ?? []).map((s) => `${at.tier}/${s.id}`);
    throw new ExpctlError('EXPCTL_NOT_FOUND', `experiment ${key} has no ${at.subtest === undefined ? 'tier' : 'subtest'} ${at.subtest === undefined ? at.tier : `${at.tier}/${at.subtest}`}`, `its ${at.subtest === undefined ? 'tiers' : 'subtests'}: ${known.join(', ') || 'none yet'}`);
  }
  if (options.json) return io.out(`${JSON.stringify(subtest ?? tier, null, 2)}\n`);
  printOne(io, { ...status, tiers: [{ ...tier, subtests: subtest ? [subtest] : tier.subtests }] }, false, { resultsDir: options.resultsDir, cwd: io.cwd, env: io.env });
}

function printRun(io: Io, d: RunDetail, options: ShowOptions): void {
  const name = `${d.tier}/${d.subtest}/${d.run}`;
  const where = (file: string) => relative(io.cwd, file) || file;
  io.out(`${paint(io, 1, `run ${name}`)} of ${d.experiment}: ${outcomeText(io, d.outcome, 'no outcome yet')}${d.score !== null ? `, score ${score2(d.score)}` : ''} · ${usd(d.costUsd)} · ${tokens(d.tokens)} · ${duration(d.durationMs)}\n`);
  io.out(`  state ${d.state}${d.attempt > 1 ? `, attempt ${d.attempt}` : ''}\n`);
  if (d.error) io.out(`  ${paint(io, 31, 'error')}: ${d.error}\n`);
  io.out('steps\n');
  for (const s of d.steps) {
    const status = s.result === 'failed' ? paint(io, 31, 'failed') : s.result === 'unfinished' ? paint(io, 33, 'unfinished') : 'completed';
    const collected = s.adopted ? `  (collected after a driver change: ${s.adopted === 'running' ? 'still running' : 'already finished'})` : '';
    io.out(`  ${`${s.effect}${s.attempt > 1 ? ` #${s.attempt}` : ''}`.padEnd(20)} ${status.padEnd(io.color ? 19 : 10)} ${duration(s.durationMs).padStart(9)}${s.error ? `  ${s.error}` : ''}${collected}\n`);
  }
  for (const e of d.stderr) io.out(`stderr of ${where(e.file)} (last ${e.lines.length} lines)\n${e.lines.map((l) => `  | ${l}\n`).join('')}`);
  if (d.agent) io.out(`agent     exit ${d.agent.exitCode ?? 'none'}${d.agent.timedOut ? ' (timed out)' : ''} · ${duration(d.agent.durationMs)} · ${usd(d.agent.costUsd)} · ${tokens(d.agent.tokens)} (last attempt)\n`);
  if (d.diff) io.out(`diff      ${d.diff.filesChanged} file${d.diff.filesChanged === 1 ? '' : 's'} changed, +${d.diff.insertions} −${d.diff.deletions}\n`);
  if (d.verdicts.length > 0) io.out('verdicts\n');
  for (const v of d.verdicts) io.out(`  judge ${v.judge}  ${v.passed ? paint(io, 32, 'passed') : paint(io, 33, 'not passed')}  score ${score2(v.score)}${v.grade ? `  grade ${v.grade}` : ''}${v.reasoning ? `  ${firstLine(v.reasoning)}` : ''}\n`);
  io.out('files\n');
  for (const f of d.files) io.out(`  ${f.name.padEnd(16)} ${where(f.path)}${f.exists ? '' : paint(io, 2, ' (not there)')}\n`);
  const cmd = (...args: string[]) => `\`${expctlCommand(args, options.resultsDir, io)}\``;
  io.out(`${cmd('logs', d.experiment, name)} prints what the agent printed; ${cmd('logs', d.experiment, name, '--judge', '1')} a judge's output\n`);
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/)[0]!.trim();
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}


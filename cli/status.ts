import { experimentStatus, type RunEntry, type StatusJson } from '../observe/status.js';
import { duration, groupLine, outcomeText, raiseArgs, score2, usd } from './format.js';
import { paint, type Io } from './io.js';
import { expctlCommand, type Shell } from './shell.js';
import { experimentKey } from '../runner/log-keys.js';
import { openLogForStates } from './log-file.js';

export interface StatusOptions {
  resultsDir: string;
  json?: boolean;
  /** Only the runs that did not pass (errored or judged not passed), with the tiers and subtests that hold them. */
  failed?: boolean;
}

/** `expctl status [id]`: every experiment in a line each, or one as a tier → subtest → run tree. */
export async function statusCommand(id: string | undefined, options: StatusOptions, io: Io): Promise<void> {
  const store = openLogForStates(options.resultsDir);
  try {
    const where = { resultsDir: options.resultsDir, cwd: io.cwd, env: io.env };
    if (id) {
      const status = experimentStatus(store, experimentKey(store, id));
      printOne(io, options.failed ? onlyFailed(status) : status, options.json ?? false, where);
    } else printAll(io, store.experiments().map((h) => experimentStatus(store, h.experiment)), options.json ?? false, where);
  } finally {
    store.close();
  }
}

function driverLine(s: StatusJson, d: NonNullable<StatusJson['driver']>, where: Where): string {
  if (d.alive === false) return `last driven by pid ${d.pid} on ${d.host}, which is no longer running; \`${expctlCommand(['resume', s.experiment], where.resultsDir, where)}\` takes over`;
  return `driven by pid ${d.pid} on ${d.host}, heartbeat ${d.heartbeatAt}`;
}

/** Where the commands a line names run: this results directory, from this shell (working directory, environment). */
export interface Where extends Shell {
  resultsDir: string;
}

function printAll(io: Io, all: StatusJson[], json: boolean, where: Where): void {
  if (json) return io.out(`${JSON.stringify(all.map(({ experiment, state, runs, results, lastSeq, rows, driver, paused }) => ({ experiment, state, runs, results, lastSeq, rows, driver, paused })), null, 2)}\n`);
  if (all.length === 0) return io.out('no experiments yet; start one with `expctl run <config>`\n');
  const width = Math.max(...all.map((s) => s.experiment.length));
  for (const s of all) {
    const note = s.paused ? `  (paused: ${s.paused.reason})` : s.driver ? `  (${driverLine(s, s.driver, where)})` : '';
    io.out(`${s.experiment.padEnd(width)}  ${groupLine(io, s.results)}  ${paint(io, 2, `${stateWord(s.state)}, ${runLine(s)}`)}${note}\n`);
  }
}

export function printOne(io: Io, s: StatusJson, json: boolean, where: Where): void {
  if (json) return io.out(`${JSON.stringify(s, null, 2)}\n`);
  // one write of the whole tree: a line a write is a system call a run
  const lines = [`${paint(io, 1, s.experiment)}  ${groupLine(io, s.results)}`, `  ${s.state} · ${runLine(s)}`];
  if (s.paused) lines.push(`  paused: ${s.paused.reason}; \`${expctlCommand(['resume', s.experiment, ...raiseArgs(s.paused.budget)], where.resultsDir, where)}\` continues`);
  if (s.driver) lines.push(`  ${driverLine(s, s.driver, where)}`);
  for (const tier of s.tiers) {
    lines.push(`  ${paint(io, 1, tier.id)}  ${tier.state} · ${groupLine(io, tier.results)}${bestText(tier)}`);
    for (const subtest of tier.subtests) {
      lines.push(`    ${subtest.id}  ${subtest.state} · ${groupLine(io, subtest.results)}`);
      for (const run of subtest.runs) lines.push(`      run ${run.run}  ${runText(io, run)}`);
    }
  }
  io.out(`${lines.join('\n')}\n`);
}

function bestText(tier: StatusJson['tiers'][number]): string {
  if (!tier.best) return '';
  const sep = tier.separation;
  if (!sep) return ` · best ${tier.best}`;
  const runs = sep.runsToSeparate ? `; about ${sep.runsToSeparate} runs each would tell them apart` : '';
  return ` · best ${tier.best} (${sep.withinNoise ? `within noise of ${sep.runnerUp}${runs}` : `ahead of ${sep.runnerUp} beyond noise`})`;
}

/** `passed  score 0.80 · $0.0012 · 3.1 s` / `errored in run_failed: …` / `run_agent_complete` (lifecycle while it has no outcome). */
export function runText(io: Io, run: RunEntry): string {
  const attempt = run.attempt > 1 ? ` (attempt ${run.attempt})` : '';
  if (run.outcome === 'errored') return `${outcomeText(io, run.outcome)}${attempt}: ${run.error ?? 'unknown'} · ${usd(run.costUsd)}`;
  if (run.outcome) return `${outcomeText(io, run.outcome)}  score ${score2(run.score ?? 0)} · ${usd(run.costUsd)} · ${duration(run.durationMs)}${run.state === 'run_worktree_cleaned' ? '' : paint(io, 2, ` · ${run.state}`)}${attempt}`;
  return `${paint(io, 2, run.state)}${attempt}${run.costUsd !== null ? ` · ${usd(run.costUsd)} so far` : ''}`;
}

const stateWord = (state: string) => state.replace(/^exp_/, '');

function runLine(s: StatusJson): string {
  const r = s.runs;
  const parts = [`runs ${r.completed + r.failed}/${r.total} done`, `${r.running} running`];
  if (r.stopped) parts.push(`${r.stopped} stopped`);
  parts.push(`${r.pending} pending`);
  if (r.failed) parts.push(`${r.failed} errored`);
  if (r.rateLimited) parts.push(`${r.rateLimited} rate-limited`);
  return parts.join(', ');
}

/** The status with only the runs that did not pass, and the tiers and subtests that hold one. */
function onlyFailed(s: StatusJson): StatusJson {
  const failing = (run: RunEntry) => run.outcome === 'errored' || run.outcome === 'not_passed';
  const tiers = s.tiers
    .map((t) => ({ ...t, subtests: t.subtests.map((st) => ({ ...st, runs: st.runs.filter(failing) })).filter((st) => st.runs.length > 0 || st.state === 'subtest_failed') }))
    .filter((t) => t.subtests.length > 0 || t.state === 'tier_failed');
  return { ...s, tiers };
}

import { experimentStatus, type StatusJson } from '../observe/status.js';
import { paint, type Io } from './io.js';
import { expctlCommand, type Shell } from './shell.js';
import { experimentKey } from '../runner/log-keys.js';
import { openLogForStates } from './log-file.js';

export interface StatusOptions {
  resultsDir: string;
  json?: boolean;
}

/** `expctl status [id]`: every experiment in a line each, or one as a tier → subtest → run tree. */
export async function statusCommand(id: string | undefined, options: StatusOptions, io: Io): Promise<void> {
  const store = openLogForStates(options.resultsDir);
  try {
    const where = { resultsDir: options.resultsDir, cwd: io.cwd, env: io.env };
    if (id) printOne(io, experimentStatus(store, experimentKey(store, id)), options.json ?? false, where);
    else printAll(io, store.experiments().map((h) => experimentStatus(store, h.experiment)), options.json ?? false, where);
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
  if (json) return io.out(`${JSON.stringify(all.map(({ experiment, state, runs, lastSeq, rows, driver }) => ({ experiment, state, runs, lastSeq, rows, driver })), null, 2)}\n`);
  if (all.length === 0) return io.out('no experiments yet; start one with `expctl run <config>`\n');
  for (const s of all) io.out(`${s.experiment.padEnd(24)} ${s.state.padEnd(22)} ${runLine(s)}${s.driver ? `  (${driverLine(s, s.driver, where)})` : ''}\n`);
}

export function printOne(io: Io, s: StatusJson, json: boolean, where: Where): void {
  if (json) return io.out(`${JSON.stringify(s, null, 2)}\n`);
  io.out(`${paint(io, 1, s.experiment)}  ${s.state}  ${runLine(s)}\n`);
  if (s.driver) io.out(`${driverLine(s, s.driver, where)}\n`);
  for (const tier of s.tiers) {
    io.out(`  ${tier.id}  ${tier.state}${tier.best ? `  (best: ${tier.best})` : ''}\n`);
    for (const subtest of tier.subtests) {
      io.out(`    ${subtest.id}  ${subtest.state}\n`);
      for (const run of subtest.runs) io.out(`      run ${run.run}  ${run.state}${run.attempt > 1 ? `  (attempt ${run.attempt})` : ''}\n`);
    }
  }
}

function runLine(s: StatusJson): string {
  const r = s.runs;
  return `runs ${r.completed}/${r.total} done, ${r.running} running, ${r.failed} failed${r.rateLimited ? `, ${r.rateLimited} rate-limited` : ''}`;
}

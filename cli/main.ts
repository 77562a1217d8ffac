#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expctlVersion } from '../runner/operator.js';
import { ExpctlError } from '../util/errors.js';
import { historyCommand } from './history.js';
import { processIo, type Io } from './io.js';
import { reportCommand } from './report.js';
import { resumeCommand, runCommand } from './run.js';
import { statusCommand } from './status.js';
import { verifyCommand } from './verify.js';

/** SPEC §7 exit codes. This is the one place that maps errors to them. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (!(error instanceof ExpctlError)) return 70;
  switch (error.code) {
    case 'EXPCTL_INTERRUPTED':
      return (error as ExpctlError & { signal?: string }).signal === 'SIGTERM' ? 143 : 130;
    case 'EXPCTL_CONFIG_INVALID':
    case 'EXPCTL_CONFIG_READ':
    case 'EXPCTL_USAGE':
    case 'EXPCTL_NOT_FOUND':
    case 'EXPCTL_STORE_OPEN':
      return 2;
    default:
      return 1;
  }
}

function program(io: Io, signal: () => AbortSignal): Command {
  const cli = new Command('expctl')
    .description('Durable, auditable evaluation experiments (tiers × subtests × runs) on XState machines and a SQLite event log')
    .version(expctlVersion())
    .addOption(new Option('--results-dir <dir>', 'results directory; the event log is <dir>/expctl.db').default('./results'))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const dir = () => cli.opts<{ resultsDir: string }>().resultsDir;

  cli.command('run <config>')
    .description('start an experiment, or continue the one with the same id')
    .option('--fresh', 'start a new generation (<id>~N) even if the id exists; the old history is kept')
    .option('--tiers <ids>', 'run only these tiers (comma-separated); others can be added later', (v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--json', 'print the outcome as JSON, no progress')
    .action((config: string, o: { fresh?: boolean; tiers?: string[]; json?: boolean }) => runCommand(config, { ...o, resultsDir: dir(), signal: signal() }, io));
  cli.command('resume <id>')
    .description('continue an experiment from its log')
    .option('--json', 'print the outcome as JSON, no progress')
    .action((id: string, o: { json?: boolean }) => resumeCommand(id, { ...o, resultsDir: dir(), signal: signal() }, io));
  cli.command('status [id]')
    .description('all experiments, or one as a tier → subtest → run tree')
    .option('--json', 'documented, stable JSON')
    .action((id: string | undefined, o: { json?: boolean }) => statusCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('history <id>')
    .description('the audit trail: every row of the log')
    .option('--json', 'a JSON array, one object per row')
    .option('--jsonl', 'one JSON object per line')
    .action((id: string, o: { json?: boolean; jsonl?: boolean }) => historyCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('verify <id>')
    .description('hash chain + full replay verification; exit 1 naming the first bad row')
    .option('--json', 'the verification report as JSON')
    .action((id: string, o: { json?: boolean }) => verifyCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('report <id>')
    .description('results tables of an experiment')
    .option('--json', 'the experiment result as JSON')
    .action((id: string, o: { json?: boolean }) => reportCommand(id, { ...o, resultsDir: dir() }, io));
  return cli;
}

/**
 * For `run` and `resume`: the first SIGINT/SIGTERM stops cleanly (running
 * commands are stopped, the interrupt is recorded); a second one exits at once.
 * Other commands keep Node's default: exit at once.
 */
function interrupts(io: Io): AbortSignal {
  const controller = new AbortController();
  for (const [name, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) process.exit(code);
      io.err(`\n${name}: stopping running commands and saving state… (again to exit at once)\n`);
      controller.abort(name);
    });
  }
  return controller.signal;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let signal: AbortSignal | undefined;
  try {
    await program(io, () => (signal ??= interrupts(io))).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const code = exitCodeFor(error);
    if (error instanceof CommanderError) return code;
    if (error instanceof ExpctlError) {
      io.err(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
    } else {
      io.err(`internal error: ${(error as Error)?.stack ?? String(error)}\nthis is a bug in expctl ${expctlVersion()}; please report it with the command you ran\n`);
    }
    return code;
  }
}

// run when executed (also through the npm bin symlink), not when imported by tests
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

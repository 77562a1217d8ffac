#!/usr/bin/env node
import { Argument, Command, CommanderError, Option } from 'commander';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExpctlError, exitCodeOf } from '../util/errors.js';
import { expctlVersion } from '../util/version.js';
import type { CompareOptions } from './compare.js';
import type { HistoryOptions } from './history.js';
import { processIo, type Io } from './io.js';
import { GRAPH_FORMATS, SHELLS, integer, list, parseSpeed, passRate, positive, REPORT_FORMATS, type CompletionShell, type GraphFormat } from './options.js';
import type { ReportOptions } from './report.js';
import { withCommands } from './shell.js';
import type { RunOptions } from './run.js';

/**
 * Exit codes (docs/design.md §7): 0 ok, 1 expected failure, 2 bad usage or
 * input, 130/143 interrupted, 70 internal error. util/errors.ts maps every
 * error code; this maps the rest.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (!(error instanceof ExpctlError)) return 70;
  return exitCodeOf(error);
}

function program(io: Io, signal: () => AbortSignal): Command {
  const cli = new Command('expctl')
    .description('Durable, auditable evaluation experiments (tiers × subtests × runs) on XState machines and a SQLite event log')
    .version(expctlVersion())
    .addOption(new Option('--results-dir <dir>', 'results directory; the event log is <dir>/expctl.db').default(DEFAULT_RESULTS_DIR).env('EXPCTL_RESULTS_DIR'))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  // every command resolves --results-dir the same way: against the caller's working directory
  const dir = () => resultsDirOf(cli, io);
  setupCommands(cli, io, dir);
  driveCommands(cli, io, dir, signal);
  readCommands(cli, io, dir);
  logCommands(cli, io, dir);
  seeCommands(cli, io, dir);
  completionCommands(cli, io, dir);
  return cli;
}

type ResultsDir = () => string;

const DEFAULT_RESULTS_DIR = './results';

/** --results-dir, else a non-empty EXPCTL_RESULTS_DIR, else ./results; absolute (relative to the working directory). */
function resultsDirOf(cli: Command, io: Io): string {
  const given = cli.opts<{ resultsDir?: string }>().resultsDir;
  const unset = given === undefined || (given === '' && cli.getOptionValueSource('resultsDir') === 'env');
  return resolve(io.cwd, unset ? DEFAULT_RESULTS_DIR : given);
}

/** `init`: getting started. */
function setupCommands(cli: Command, io: Io, dir: ResultsDir): void {
  cli.command('init [dir]')
    .description('write a runnable experiment into DIR (default: the current folder): config, task folder, agent and judge scripts')
    .action(async (target: string | undefined) => (await import('./init.js')).initCommand(target ?? '.', { resultsDir: dir() }, io));
}

/** `completion`: the shell scripts; `__complete` (hidden) is what they call on every Tab. */
function completionCommands(cli: Command, io: Io, dir: ResultsDir): void {
  cli.command('completion')
    .description('print the shell completion script for bash, zsh or fish (commands, options, experiment ids, state names)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices([...SHELLS]))
    .action(async (shell: CompletionShell) => io.out((await import('./completion.js')).completionScript(shell)));
  cli.command('__complete [words...]', { hidden: true })
    .description('the completions of the last word of a command line (for the completion scripts)')
    .helpOption(false)
    .allowUnknownOption()
    .action(async (words: string[] | undefined) => (await import('./complete.js')).completeCommand(cli, words ?? [], { resultsDir: dir(), cwd: io.cwd }, io));
}

/** `run` and `resume`: the commands that drive an experiment. Each command's module is loaded when it runs. */
function driveCommands(cli: Command, io: Io, dir: ResultsDir, signal: () => AbortSignal): void {
  withDriveOptions(cli.command('run <config>')
    .description('start an experiment, or continue the one with the same id')
    .option('--fresh', 'start a new generation (<id>~N) even if the id exists; the old history is kept')
    .option('--tiers <ids>', 'run only these tiers (comma-separated); others can be added later', list))
    .action(async (config: string, o: RunOptions) => (await import('./run.js')).runCommand(config, { ...o, resultsDir: dir(), signal: signal() }, io));
  withDriveOptions(cli.command('resume <id>').description('continue an experiment from its log'))
    .action(async (id: string, o: RunOptions) => (await import('./run.js')).resumeCommand(id, { ...o, resultsDir: dir(), signal: signal() }, io));
}

/** `status`, `history`, `diff`, `fork`: reading an experiment's state and history (and branching it). */
function readCommands(cli: Command, io: Io, dir: ResultsDir): void {
  cli.command('status [id]')
    .description('all experiments with their results, or one as a tier → subtest → run tree')
    .option('--json', 'documented, stable JSON')
    .option('--failed', 'only the runs that did not pass (errored, or judged not passed) and what holds them')
    .action(async (id: string | undefined, o: { json?: boolean; failed?: boolean }) => (await import('./status.js')).statusCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('watch <id>')
    .description('follow an experiment driven from another terminal, from its log, until it ends or no driver runs it')
    .option('--interval <seconds>', 'seconds between looks at the log (default 1)', positive('--interval'))
    .action(async (id: string, o: { interval?: number }) => (await import('./watch.js')).watchCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('show <id> <path>')
    .description('one run (tier/subtest/run): every step with its duration and attempt, the error with the stderr that explains it, verdicts, diff and files; or a tier or subtest')
    .option('--json', 'documented, stable JSON')
    .action(async (id: string, path: string, o: { json?: boolean }) => (await import('./show.js')).showCommand(id, path, { ...o, resultsDir: dir() }, io));
  cli.command('logs <id> <run>')
    .description("what a run's agent (or a judge) printed: tier/subtest/run")
    .option('--judge <n>', "judge n's output instead of the agent's", integer)
    .option('--stdout', 'only stdout')
    .option('--stderr', 'only stderr')
    .action(async (id: string, run: string, o: { judge?: number; stdout?: boolean; stderr?: boolean }) => (await import('./show.js')).logsCommand(id, run, { ...o, resultsDir: dir() }, io));
  cli.command('history <id>')
    .description('the audit trail: every row of the log; with --at SEQ the state tree as of that row')
    .option('--json', 'a JSON array, one object per row (with --at: the status JSON)')
    .option('--jsonl', 'one JSON object per line')
    .option('--at <seq>', 'the tier → subtest → run tree as of this row (same shape as status)', integer)
    .option('--stream <stream>', 'only this stream and the streams below it (e.g. T0/00-empty)')
    .option('--type <types>', 'only these event types, comma-separated; effect.* matches a namespace')
    .option('--since <time>', 'only rows recorded at or after this ISO time')
    .option('--until <time>', 'only rows recorded at or before this ISO time')
    .option('--limit <n>', 'only the N most recent matching rows', integer)
    .action(async (id: string, o: Omit<HistoryOptions, 'resultsDir'>) => (await import('./history.js')).historyCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('diff <id> <seqA> <seqB>')
    .description('the actors whose state or context changed between two rows, with the changes')
    .option('--json', 'documented JSON: [{ stream, before, after, changes: [{ path, before, after }] }]')
    .action(async (id: string, a: string, b: string, o: { json?: boolean }) => (await import('./diff.js')).diffCommand(id, a, b, { ...o, resultsDir: dir() }, io));
  cli.command('fork <id>')
    .description('a new experiment whose history is this one\'s up to a row; the source is untouched')
    .requiredOption('--at <seq>', 'keep the rows up to and including this seq', integer)
    .option('--id <new>', 'the new experiment id (default <id>-fork-<seq>)')
    .option('--reason <text>', 'why: recorded with the fork')
    .option('--json', 'print the result as JSON')
    .action(async (id: string, o: { at: number; id?: string; reason?: string; json?: boolean }) => (await import('./fork.js')).forkCommand(id, { ...o, resultsDir: dir() }, io));
}

/** `verify`, `report`, `compare`, `export`, `import`: checking an experiment's log and results, comparing results, and moving the log. */
function logCommands(cli: Command, io: Io, dir: ResultsDir): void {
  cli.command('verify <id>')
    .description('hash chain + full replay verification; exit 1 naming the first bad row')
    .option('--json', 'the verification report as JSON')
    .action(async (id: string, o: { json?: boolean }) => (await import('./verify.js')).verifyCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('report <id>')
    .description('results tables of an experiment, or one row per run (--format csv|jsonl)')
    .option('--json', 'the experiment result as JSON (same as --format json)')
    .addOption(new Option('--format <format>', 'markdown tables, the result as json, or one row per run as csv or jsonl (any time, finished or not)').choices([...REPORT_FORMATS]).default('markdown'))
    .option('--tier <ids>', 'only these tiers (comma-separated)', list)
    .option('--subtest <ids>', 'only these subtests (comma-separated)', list)
    .option('--failed', 'only the runs that did not pass (errored, or judged not passed), each with why')
    .action(async (id: string, o: Omit<ReportOptions, 'resultsDir'>) => (await import('./report.js')).reportCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('compare <a> <b>')
    .description('what B changed against A (two experiments or generations, id~N): per subtest, tier and overall, deltas in pass rate, median score and cost with 95% intervals')
    .option('--json', 'documented, stable JSON: { a, b, onlyInA, onlyInB, overall, tiers }')
    .option('--tier <ids>', 'only these tiers (comma-separated)', list)
    .option('--subtest <ids>', 'only these subtests (comma-separated)', list)
    .action(async (a: string, b: string, o: Omit<CompareOptions, 'resultsDir'>) => (await import('./compare.js')).compareCommand(a, b, { ...o, resultsDir: dir() }, io));
  cli.command('export <id>')
    .description('write every row of an experiment, with its hashes, as JSON lines')
    .addOption(new Option('--format <format>', 'export format').choices(['jsonl']).default('jsonl'))
    .option('--out <file>', 'write to this file (refused if it exists) instead of stdout')
    .action(async (id: string, o: { format: 'jsonl'; out?: string }) => (await import('./export.js')).exportCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('import <file>')
    .description('import an exported experiment into this results directory (chain and replay verified first)')
    .option('--json', 'print what was imported as JSON')
    .action(async (file: string, o: { json?: boolean }) => (await import('./import.js')).importCommand(file, { ...o, resultsDir: dir() }, io));
}

/** `graph`, `coverage`, `view`, `inspect`, `serve`: seeing the machines and an experiment's history. */
function seeCommands(cli: Command, io: Io, dir: ResultsDir): void {
  cli.command('graph [machine]')
    .description('a lifecycle machine (experiment, tier, subtest or run; default all four) as a diagram of its definition')
    .addOption(new Option('--format <format>', 'mermaid (stateDiagram-v2), dot (Graphviz) or json').choices([...GRAPH_FORMATS]).default('mermaid'))
    .action(async (machine: string | undefined, o: { format: GraphFormat }) => (await import('./graph.js')).graphCommand(machine, o, io));
  cli.command('coverage <ids...>')
    .description('per machine, which transitions of its definition the recorded histories of these experiments took')
    .option('--json', 'documented JSON: { experiments, rows, machines: [{ machine, ref, actors, total, covered, percent, taken, notTaken, unattributed }] }')
    .action(async (ids: string[], o: { json?: boolean }) => (await import('./coverage.js')).coverageCommand(ids, { ...o, resultsDir: dir() }, io));
  cli.command('view <id>')
    .description('write a self-contained HTML page: the machines as statecharts, the tree, a timeline over every row')
    .option('--out <file>', 'the HTML file to write (default <results-dir>/<id>/view.html)')
    .action(async (id: string, o: { out?: string }) => (await import('./view.js')).viewCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('inspect <id>')
    .description("replay an experiment's history into the Stately inspector through a local relay")
    .option('--port <port>', 'relay port on 127.0.0.1 (default: a free one)', integer)
    .option('--speed <x>', 'replay pace: recorded time gaps divided by X (default 1); max: no delay', parseSpeed)
    .option('--until <seq>', 'replay up to and including this row', integer)
    .option('--no-wait', 'return after the replay instead of keeping the relay up until Ctrl+C')
    .action(async (id: string, o: { port?: number; speed?: number; until?: number; wait: boolean }) => (await import('./inspect.js')).inspectCommand(id, { ...o, resultsDir: dir() }, io));
  cli.command('serve')
    .description('a live local web UI over the results folder: experiments, results tables, runs (steps, output, diff, verdicts), history with a timeline, statecharts; read-only')
    .option('--port <port>', 'port to listen on (default 7575; 0: a free one)', integer)
    .option('--host <host>', 'address to listen on (default 127.0.0.1; anything else needs --allow-remote)')
    .option('--allow-remote', 'allow a --host that other machines can reach (there is no login)')
    .action(async (o: { port?: number; host?: string; allowRemote?: boolean }) => (await import('./serve.js')).serveCommand({ ...o, resultsDir: dir() }, io));
}

/** The options `run` and `resume` share: early stops, re-execution, output. */
function withDriveOptions(command: Command): Command {
  return command
    .option('--until-experiment <state>', 'stop once the experiment reaches this state (inclusive); resume later continues')
    .option('--until-tier <state>', 'stop each tier once it reaches this state')
    .option('--until-run <state>', 'stop each run once it reaches this state')
    .option('--from-experiment <state>', 're-execute: send the experiment back to this state')
    .option('--from-tier <state>', 're-execute: send the selected tiers back to this state')
    .option('--from-run <state>', 're-execute: send the selected runs back to this state')
    .option('--filter-tier <ids>', 'with --from-*: only these tiers', list)
    .option('--filter-subtest <ids>', 'with --from-run: only these subtests', list)
    .option('--filter-run <numbers>', 'with --from-run: only these run numbers', list)
    .addOption(new Option('--filter-status <status>', 'with --from-*: only runs (or tiers) that passed or failed').choices(['passed', 'failed']))
    .option('--dry-run', 'with --from-*: print what would be reset, change nothing')
    .option('--reason <text>', 'why: recorded with the operator events of this run')
    .option('--metrics-file <path>', 'write Prometheus metrics (text format) there every 5 s and at the end')
    .option('--inspect', 'stream the run live to the Stately inspector through a local relay; prints the URL to open')
    .option('--inspect-port <port>', 'relay port on 127.0.0.1 (default: a free one)', integer)
    .option('--min-pass-rate <rate>', 'exit 1 unless at least this share of the runs passed (0.8 or 80%)', passRate)
    .option('--max-cost-usd <usd>', 'spending limit (overrides limits.maxCostUsd; recorded, so later resumes keep it): no agent starts that would exceed it', positive('--max-cost-usd'))
    .option('--max-tokens <n>', 'token limit (overrides limits.maxTokens; recorded)', positive('--max-tokens', true))
    .option('--json', 'print the outcome as JSON, no progress');
}

/**
 * For `run` and `resume`: the first SIGINT/SIGTERM stops cleanly (running
 * commands are stopped, the interrupt is recorded); a second one exits at once.
 * SIGHUP (the terminal or ssh session closed, or `kill -HUP`) stops only the
 * driver: the agents and judges carry on under their supervisors and the next
 * `resume` collects them. Other commands keep Node's default: exit at once.
 * The handlers are installed once per process and act on the run in progress.
 */
let current: { controller: AbortController; io: Io } | null = null;
let installed = false;

function interrupts(io: Io): AbortSignal {
  current = { controller: new AbortController(), io };
  if (!installed) {
    installed = true;
    for (const [name, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      process.on(name, () => {
        if (!current || current.controller.signal.aborted) process.exit(code);
        current.io.err(`\n${name}: stopping running commands and saving state… (again to exit at once)\n`);
        current.controller.abort(name);
      });
    }
    process.on('SIGHUP', () => {
      try {
        current?.io.err('\nSIGHUP: the driver stops; running commands carry on, and `expctl resume` collects them\n');
      } catch {
        // the terminal is gone
      }
      process.exit(129);
    });
  }
  return current.controller.signal;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let signal: AbortSignal | undefined;
  const cli = program(io, () => (signal ??= interrupts(io)));
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const code = exitCodeFor(error);
    if (error instanceof CommanderError) return code;
    if (error instanceof ExpctlError) {
      // the commands a message names, for the results directory this command used
      const commands = (text: string) => withCommands(text, resultsDirOf(cli, io), io);
      io.err(`error: ${commands(error.message)}\n${error.hint ? `hint: ${commands(error.hint)}\n` : ''}`);
    } else {
      io.err(`internal error: ${(error as Error)?.stack ?? String(error)}\nthis is a bug in expctl ${expctlVersion()}; please report it with the command you ran\n`);
    }
    return code;
  } finally {
    current = null;
  }
}

// run when executed (also through the npm bin symlink), not when imported by tests
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

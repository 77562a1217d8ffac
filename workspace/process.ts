import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ExpctlError } from '../util/errors.js';
import { processStartTicks, waitForGroupsGone } from '../util/procfs.js';

/**
 * Agent and judge commands run as child processes. Each command leads its own
 * process group so that a timeout, an abort or a crashed driver can stop the
 * command together with everything it started. Linux only: reads /proc.
 */

export interface StartedProcess {
  pid: number;
  /** Equal to pid: the command leads its own process group. */
  pgid: number;
  /** Start time from /proc/<pid>/stat, to recognise the process after a restart (pids are reused). */
  startTicks: number | null;
}

export interface CommandSpec {
  argv: string[];
  cwd: string;
  /** Added to (and overriding) the driver's own environment. */
  env: Record<string, string>;
  timeoutMs: number | null;
  stdoutFile: string;
  stderrFile: string;
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL on timeout or abort; default 2000. */
  graceMs?: number;
  /** Called synchronously right after the spawn, e.g. to record the pgid before anything can be lost. */
  onStart?: (info: StartedProcess) => void;
}

export interface CommandResult {
  /** null when the command was ended by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

/** The OS refused to start a command (missing program, not executable, missing working directory). Nothing ran. */
export class CommandStartError extends ExpctlError {
  constructor(readonly program: string, readonly reason: string, options?: { cause?: unknown }) {
    super(
      'EXPCTL_COMMAND_START',
      `cannot start ${program}: ${reason}`,
      'check the command in the experiment config: the program must be installed and on PATH (or the path must point to an executable file), and the working directory must exist',
      options,
    );
  }
}

/** An output file of a command cannot be opened for writing. Nothing ran. */
export class CommandOutputError extends ExpctlError {
  constructor(readonly file: string, readonly reason: string, options?: { cause?: unknown }) {
    super(
      'EXPCTL_COMMAND_OUTPUT',
      `cannot write command output to ${file}: ${reason}`,
      'check that the results directory is writable and the disk is not full',
      options,
    );
  }
}

/** Process groups that were signalled but still had living members when the wait ended. */

const DEFAULT_GRACE_MS = 2000;
/** setTimeout fires at once for larger delays, so longer timeouts are capped (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const GROUP_GONE_WAIT_MS = 2000;

/**
 * Runs one command in its own process group, output going straight to files,
 * and resolves when it has ended and nothing it started is left running.
 *
 * @example
 * const result = await runCommand({
 *   argv: ['node', 'agent.mjs', '--task', 'T0'], cwd: workspace, env: { EXPCTL_EFFECT_KEY: key },
 *   timeoutMs: 600_000, stdoutFile: 'out/agent.stdout', stderrFile: 'out/agent.stderr',
 *   onStart: (p) => recordPgid(p.pgid, p.startTicks),
 * });
 * if (result.timedOut) ...
 */
export async function runCommand(spec: CommandSpec): Promise<CommandResult> {
  if (spec.signal?.aborted) return { exitCode: null, signal: null, timedOut: false, aborted: true, durationMs: 0 };
  const startedAt = performance.now();
  const child = spawnIntoFiles(spec);
  if (child.pid === undefined) throw await startFailure(child, spec);
  const pgid = child.pid;
  const ended = supervise(child, pgid, spec, startedAt);
  try {
    spec.onStart?.({ pid: child.pid, pgid, startTicks: processStartTicks(child.pid) });
  } catch (error) {
    // Nobody will know about this process if its start cannot be recorded: stop it before failing.
    signalGroup(pgid, 'SIGKILL');
    await ended;
    await waitForGroupsGone([pgid], GROUP_GONE_WAIT_MS);
    throw error;
  }
  const result = await ended;
  // The leader is gone; whatever it left behind in its group must not outlive the command.
  signalGroup(pgid, 'SIGKILL');
  await waitForGroupsGone([pgid], GROUP_GONE_WAIT_MS);
  return result;
}

/** Spawns without a shell, stdout/stderr on file descriptors so output survives the driver. */
function spawnIntoFiles(spec: CommandSpec): ChildProcess {
  const [program, ...args] = spec.argv;
  if (program === undefined || program === '') {
    throw new CommandStartError('(empty command)', 'the command has no program');
  }
  const fds = openOutputs(spec.stdoutFile, spec.stderrFile);
  try {
    return spawn(program, args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      shell: false,
      stdio: ['ignore', fds.stdout, fds.stderr],
    });
  } catch (error) {
    // Synchronous failures are invalid arguments, e.g. a NUL byte in an argument.
    throw new CommandStartError(program, errorReason(error), { cause: error });
  } finally {
    // The child holds its own copies of the descriptors.
    for (const fd of new Set([fds.stdout, fds.stderr])) closeSync(fd);
  }
}

function openOutputs(stdoutFile: string, stderrFile: string): { stdout: number; stderr: number } {
  const stdout = openOutput(stdoutFile);
  // The same path opened twice would give two offsets that overwrite each other.
  if (resolve(stderrFile) === resolve(stdoutFile)) return { stdout, stderr: stdout };
  try {
    return { stdout, stderr: openOutput(stderrFile) };
  } catch (error) {
    closeSync(stdout);
    throw error;
  }
}

function openOutput(file: string): number {
  try {
    mkdirSync(dirname(file), { recursive: true });
    return openSync(file, 'w');
  } catch (error) {
    throw new CommandOutputError(file, errorReason(error), { cause: error });
  }
}

/** A spawn without a pid reports its OS error asynchronously, on the 'error' event. */
async function startFailure(child: ChildProcess, spec: CommandSpec): Promise<CommandStartError> {
  const error = await new Promise<unknown>((settle) => child.once('error', settle));
  const program = spec.argv[0] ?? '';
  // ENOENT is also what a missing working directory gives; say which one it was.
  const missingCwd = (error as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(spec.cwd);
  const reason = missingCwd ? `working directory ${spec.cwd} does not exist` : errorReason(error);
  return new CommandStartError(program, reason, { cause: error });
}

function errorReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return 'no such file or directory (ENOENT)';
  if (code === 'EACCES') return 'permission denied (EACCES)';
  return code !== undefined ? `${message} (${code})` : String(message ?? error);
}

/** Resolves when the leader exits; stops the group on timeout or abort, SIGTERM first. */
function supervise(child: ChildProcess, pgid: number, spec: CommandSpec, startedAt: number): Promise<CommandResult> {
  return new Promise((settle) => {
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: 'timeout' | 'abort'): void => {
      if (timedOut || aborted) return; // the first reason wins
      if (reason === 'timeout') timedOut = true;
      else aborted = true;
      signalGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), spec.graceMs ?? DEFAULT_GRACE_MS);
    };
    const timeout =
      spec.timeoutMs === null ? undefined : setTimeout(() => stop('timeout'), Math.min(spec.timeoutMs, MAX_TIMER_MS));
    const onAbort = (): void => stop('abort');
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('exit', (exitCode, signal) => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      settle({ exitCode, signal, timedOut, aborted, durationMs: performance.now() - startedAt });
    });
  });
}

/**
 * Sends a signal to a whole process group; false when there was nobody to
 * signal (ESRCH) or nobody we may signal (EPERM).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  // kill(0) and kill(-1) would hit our own group or every process we may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Replaces `{name}` placeholders in every element with `vars[name]` (literally,
 * in one pass; unknown names stay as written) and resolves elements the config
 * wrote as `./…` or `../…` against `configDir`. `{configDir}` is always
 * `options.configDir`.
 *
 * @example
 * resolveCommand(['node', './agent.mjs', '--prompt={prompt}', '{"a":1}'], { configDir: '/exp', vars: { prompt: 'hi; ls' } })
 * // → ['node', '/exp/agent.mjs', '--prompt=hi; ls', '{"a":1}']
 */
export function resolveCommand(argv: readonly string[], options: { configDir: string; vars: Record<string, string> }): string[] {
  const vars: Record<string, string> = { ...options.vars, configDir: options.configDir };
  return argv.map((template) => {
    // A replacer function keeps `$&`, `$1`, … in values literal, and the single pass leaves `{x}` in values alone.
    const value = template.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(vars, name) ? vars[name]! : whole));
    // Decided on the template, so a value such as a prompt "../notes" is never rewritten into a path.
    return isConfigRelative(template) ? resolve(options.configDir, value) : value;
  });
}

/** `{name}` with an identifier inside; JSON such as `{"a": 1}` or `{}` never matches. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function isConfigRelative(element: string): boolean {
  return element.startsWith('./') || element.startsWith('../');
}

/**
 * The last line of `text` that is a JSON object, or null. Agents and judges
 * print their usage or verdict as such a line among other output.
 *
 * @example
 * lastJsonLine('working…\n{"tokens": 123, "costUsd": 0.01}\ndone\n') // → { tokens: 123, costUsd: 0.01 }
 */
export function lastJsonLine(text: string): Record<string, unknown> | null {
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (!line.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(line);
      // A line starting with '{' that parses is an object, never an array or a primitive.
      if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
    } catch {
      // not JSON: keep looking further up
    }
  }
  return null;
}

/*
 * The supervisor of one agent or judge command (`node supervisor.js SPEC`):
 * started detached by the driver, it outlives the driver. It runs the
 * command (argv only, no shell) in the command's own process group with its
 * output going to files, enforces the timeout from the command's start, and
 * when the command has ended writes its outcome atomically (write, fsync,
 * rename, fsync of the folder) next to the output files. A driver, this one
 * or a later one, takes the outcome from there. Its record file says, from
 * the start, which process is the command.
 *
 * Kept to Node's built-ins and util/procfs.ts, so it starts fast and small.
 * SIGTERM (the driver stopping its commands: Ctrl+C) stops the command's
 * group and exits without an outcome; SIGHUP is ignored.
 */
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { livingGroups, processStartTicks } from '../util/procfs.js';

/** What the driver hands a supervisor (as a JSON file: no secrets in it, they come in the environment). */
export interface SupervisorSpec {
  key: string;
  argv: string[];
  cwd: string;
  timeoutMs: number | null;
  graceMs: number;
  stdoutFile: string;
  stderrFile: string;
  recordFile: string;
  outcomeFile: string;
}

/** Written when the command has been spawned (`command` null: it could not be started). */
export interface SupervisorRecord {
  key: string;
  supervisor: { pid: number; startTicks: number | null };
  command: { pid: number; pgid: number; startTicks: number | null } | null;
  startedAt: number;
}

/** The durable outcome of a command. */
export interface SupervisorOutcome {
  key: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** Set when the OS refused to start the command (nothing ran). */
  startError: { code: string | null; message: string } | null;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const GROUP_GONE_MS = 2000;

/**
 * Write `text` to `file` so that a reader sees the old content or all of the
 * new; with `durable`, also after the machine goes down (fsync of the file
 * and of its folder).
 */
export function writeAtomically(file: string, text: string, durable = true, mode = 0o666): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w', mode);
  try {
    writeSync(fd, text);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  if (!durable) return;
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone already
  }
}

async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + GROUP_GONE_MS;
  while (livingGroups([pgid]).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** What a supervised command tells whoever watches it: it started (or could not), and it ended. */
export interface SupervisionEvents {
  started(record: SupervisorRecord): void;
  /** The outcome once written (durably); null when it was stopped (no outcome: a later drive runs it again). */
  ended(outcome: SupervisorOutcome | null): void;
}

/**
 * Run one command as `spec` says, in its own process group with `env`:
 * record it, enforce its timeout, and when it ends stop what it left in its
 * group and write its outcome atomically. Returns how to stop it (SIGTERM to
 * the group, SIGKILL after the grace; no outcome). Used by the supervisor of
 * one command (below) and by the executor host of an experiment.
 */
export function superviseCommand(spec: SupervisorSpec, env: NodeJS.ProcessEnv, supervisor: SupervisorRecord['supervisor'], events: SupervisionEvents): { stop(): void } {
  const startedAt = Date.now();
  const outcome = (fields: Partial<SupervisorOutcome>): SupervisorOutcome => {
    const endedAt = Date.now();
    const full: SupervisorOutcome = {
      key: spec.key, exitCode: null, signal: null, timedOut: false, startedAt, endedAt, durationMs: endedAt - startedAt,
      stdoutBytes: sizeOf(spec.stdoutFile), stderrBytes: spec.stderrFile === spec.stdoutFile ? 0 : sizeOf(spec.stderrFile), startError: null, ...fields,
    };
    writeAtomically(spec.outcomeFile, `${JSON.stringify(full)}\n`);
    return full;
  };
  mkdirSync(dirname(spec.stdoutFile), { recursive: true });
  mkdirSync(dirname(spec.stderrFile), { recursive: true });
  const out = openSync(spec.stdoutFile, 'w');
  const err = spec.stderrFile === spec.stdoutFile ? out : openSync(spec.stderrFile, 'w');
  const [program, ...args] = spec.argv;
  const child = spawn(program!, args, { cwd: spec.cwd, env, detached: true, shell: false, stdio: ['ignore', out, err] });
  for (const fd of new Set([out, err])) closeSync(fd);
  if (child.pid === undefined) {
    let reported = false;
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (reported) return;
      reported = true;
      const written = outcome({ startError: { code: error.code ?? null, message: error.message } });
      events.started({ key: spec.key, supervisor, command: null, startedAt });
      events.ended(written);
    });
    return { stop: () => {} };
  }
  const pgid = child.pid;
  const record: SupervisorRecord = { key: spec.key, supervisor, command: { pid: child.pid, pgid, startTicks: processStartTicks(child.pid) }, startedAt };
  // not fsynced: after a machine crash the processes it names are gone anyway; a later driver finds a live supervisor by its environment
  writeAtomically(spec.recordFile, JSON.stringify(record), false);
  events.started(record);
  return watch(spec, pgid, child, outcome, events);
}

function watch(spec: SupervisorSpec, pgid: number, child: ReturnType<typeof spawn>, outcome: (fields: Partial<SupervisorOutcome>) => SupervisorOutcome, events: SupervisionEvents): { stop(): void } {
  let timedOut = false;
  let stopping = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: 'timeout' | 'stop') => {
    if (timedOut || stopping) return;
    if (reason === 'timeout') timedOut = true;
    else stopping = true;
    signalGroup(pgid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), spec.graceMs);
  };
  const timeout = spec.timeoutMs === null ? undefined : setTimeout(() => stop('timeout'), Math.min(spec.timeoutMs, MAX_TIMER_MS));
  child.once('exit', (exitCode, signal) => {
    clearTimeout(timeout);
    clearTimeout(killTimer);
    // the leader is gone; what it left behind in its group must not outlive the command
    signalGroup(pgid, 'SIGKILL');
    void groupGone(pgid).then(() => {
      // stopped by the driver (Ctrl+C): no outcome, the effect is not done and a later drive runs it again
      events.ended(stopping ? null : outcome({ exitCode, signal, timedOut }));
    });
  });
  return { stop: () => stop('stop') };
}

/** `node supervisor.js SPEC [FD]`: one command, its record sent on FD once it runs; exits when it has ended. */
function main(specFile: string, notifyFd: number | null): void {
  // the driver's end of stderr may be gone (it died): a write there must not take this process down
  process.stderr.on('error', () => {});
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as SupervisorSpec;
  const self = { pid: process.pid, startTicks: processStartTicks(process.pid) };
  const command = superviseCommand(spec, process.env, self, {
    started: (record) => {
      if (notifyFd === null) return;
      try {
        writeSync(notifyFd, `${JSON.stringify(record)}\n`);
        closeSync(notifyFd);
      } catch {
        // the driver is gone: a later one finds the record file
      }
      notifyFd = null;
    },
    ended: () => process.exit(0),
  });
  process.on('SIGTERM', () => command.stop());
  process.on('SIGINT', () => command.stop());
  process.on('SIGHUP', () => {});
}

// run only as the entry point (`node supervisor.js SPEC [FD]`), never when imported
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [specFile, notify] = process.argv.slice(2);
  if (specFile) main(specFile, notify === undefined ? null : Number(notify));
}

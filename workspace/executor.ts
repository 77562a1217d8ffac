import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { numericProcEntries, readStat, waitForGroupsGone } from '../util/procfs.js';
import { CommandStartError, runCommand, signalGroup, type CommandResult, type CommandSpec, type StartedProcess } from './process.js';
import type { SupervisorOutcome, SupervisorRecord, SupervisorSpec } from './supervisor.js';
import { hostPool, type HostPool, type HostedCommand } from './host-client.js';

/**
 * The executor seam (docs/design.md §4): a command-running effect hands its
 * command here with an idempotency key and gets back a durable outcome. The
 * supervised executor (the default) runs each command under a supervisor
 * that outlives the driver, so a later driver collects the outcome instead of
 * running the command again; the direct executor runs it as a child of the
 * driver (no adoption: a killed driver's commands are stopped and run again).
 * Distributed workers would be a third implementation of the same interface.
 */
export interface CommandRequest extends Omit<CommandSpec, 'onStart'> {
  /** Names this execution for good: the effect's idempotency key and which of its commands (`…#agent`, `…#judge-2`). */
  key: string;
  /** Secrets travel only in `env`, never in a file. */
  /** Where the executor keeps its record of the command and its outcome: `<stateFile>.record.json`, `<stateFile>.outcome.json`. */
  stateFile: string;
  /** The experiment's folder of executor hosts (the hosted executor runs an experiment's commands in one long-lived process). */
  hostDir?: string;
  /** An earlier driver may have started this execution: collect it (running or finished) before starting it again. */
  resumed: boolean;
  /** Records and outcomes from before this time (epoch ms) are of an earlier execution and never collected. */
  notBefore: number;
  signal?: AbortSignal;
  graceMs?: number;
  /** Runs before the command is started anew (never before one collected from an earlier driver), e.g. to reset its workspace. */
  prepare?: () => Promise<void>;
  /** A new command started: record it before waiting (effect.started). */
  onStart?: (started: StartedProcess & { supervisor: { pid: number; startTicks: number | null } | null }) => void;
  /** A command an earlier driver started was found, still running or finished (effect.adopted). */
  onAdopt?: (adopted: AdoptedCommand) => void;
}

export interface AdoptedCommand {
  state: 'running' | 'finished';
  /** The command's process group and the supervisor, as the supervisor recorded them (null when unknown). */
  pgid: number | null;
  supervisor: number | null;
  startedAt: number;
}

export interface CommandOutcome extends CommandResult {
  /** Set when this driver collected the command from an earlier one. */
  adopted: 'running' | 'finished' | null;
}

export interface Executor {
  readonly kind: 'hosted' | 'supervised' | 'direct';
  run(request: CommandRequest): Promise<CommandOutcome>;
}

/** Commands as children of the driver: no adoption. */
export const directExecutor: Executor = {
  kind: 'direct',
  async run(request) {
    await request.prepare?.();
    const result = await runCommand({ ...request, onStart: (p) => request.onStart?.({ ...p, supervisor: null }) });
    return { ...result, adopted: null };
  },
};

/** The compiled supervisor: next to this module in dist/, or dist/ of the checkout when running from source (tests). */
export function supervisorScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'supervisor.js');
  return join(dirname(here), '..', 'dist', 'workspace', 'supervisor.js');
}

const POLL_MS = 25;
const DEFAULT_GRACE_MS = 2000;

export const supervisedExecutor: Executor = {
  kind: 'supervised',
  async run(request) {
    if (request.signal?.aborted) return stopped(null);
    if (request.resumed) {
      const collected = await collect(request);
      if (collected) return collected;
    }
    await request.prepare?.();
    return start(request);
  },
};

/** The outcome of a command the drive stopped (Ctrl+C): not done, a later drive runs it again. */
const stopped = (adopted: CommandOutcome['adopted']): CommandOutcome => ({ exitCode: null, signal: null, timedOut: false, aborted: true, durationMs: 0, adopted });

const files = (request: CommandRequest) => ({ record: `${request.stateFile}.record.json`, outcome: `${request.stateFile}.outcome.json`, spec: `${request.stateFile}.spec.json` });

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The outcome of this execution, if its supervisor wrote it. */
function outcomeOf(request: CommandRequest): SupervisorOutcome | null {
  const outcome = readJson<SupervisorOutcome>(files(request).outcome);
  return outcome && outcome.key === request.key && outcome.startedAt >= request.notBefore ? outcome : null;
}

function resultOf(outcome: SupervisorOutcome, adopted: CommandOutcome['adopted']): CommandOutcome {
  if (outcome.startError) throw new CommandStartError('the command', `${outcome.startError.message}${outcome.startError.code ? ` (${outcome.startError.code})` : ''}`);
  return { exitCode: outcome.exitCode, signal: outcome.signal, timedOut: outcome.timedOut, aborted: false, durationMs: outcome.durationMs, adopted };
}

/**
 * Processes whose environment names this execution: its key and its state
 * file (EXPCTL_COMMAND_KEY, EXPCTL_COMMAND_FILE; the key alone is the same
 * in an experiment of the same id in another results folder). Its
 * supervisor, and the command and what it started.
 */
function processesOf(request: CommandRequest): { pid: number; pgrp: number; startTicks: number; supervisor: boolean }[] {
  const wanted = [`EXPCTL_COMMAND_KEY=${request.key}`, `EXPCTL_COMMAND_FILE=${request.stateFile}`];
  const found: { pid: number; pgrp: number; startTicks: number; supervisor: boolean }[] = [];
  for (const pid of numericProcEntries()) {
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    const entries = environ.split('\0');
    if (!wanted.every((w) => entries.includes(w))) continue;
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    found.push({ pid, pgrp: stat.pgrp, startTicks: stat.startTicks, supervisor: cmdline.some((arg) => arg.endsWith('supervisor.js')) });
  }
  return found;
}

const alive = (pid: number, startTicks: number) => readStat(pid)?.startTicks === startTicks && !['Z', 'X'].includes(readStat(pid)?.state ?? 'X');

/**
 * A resumed execution: its outcome if it finished, the wait for it if its
 * supervisor still runs; otherwise what it left running is stopped and null
 * says "start it again".
 */
async function collect(request: CommandRequest): Promise<CommandOutcome | null> {
  const finished = outcomeOf(request);
  const record = readJson<SupervisorRecord>(files(request).record);
  const known = record && record.key === request.key && record.startedAt >= request.notBefore ? record : null;
  const adoption = (state: AdoptedCommand['state']): AdoptedCommand => ({ state, pgid: known?.command?.pgid ?? null, supervisor: known?.supervisor.pid ?? null, startedAt: known?.startedAt ?? finished?.startedAt ?? Date.now() });
  if (finished) {
    request.onAdopt?.(adoption('finished'));
    return resultOf(finished, 'finished');
  }
  const processes = processesOf(request);
  const supervisor = processes.find((p) => p.supervisor);
  if (supervisor) {
    request.onAdopt?.(adoption('running'));
    const waited = await waitFor(request, supervisor);
    if (waited) return waited;
  }
  // no supervisor (killed, or the machine went down): stop what it left, then start again
  const groups = [...new Set(processesOf(request).filter((p) => !p.supervisor).map((p) => p.pgrp))];
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  await waitForGroupsGone(groups, DEFAULT_GRACE_MS);
  return null;
}

/** Wait for a supervisor this driver did not start: its outcome, or null when it died without one. */
async function waitFor(request: CommandRequest, supervisor: { pid: number; startTicks: number }): Promise<CommandOutcome | null> {
  for (;;) {
    const outcome = outcomeOf(request);
    if (outcome) return resultOf(outcome, 'running');
    if (!alive(supervisor.pid, supervisor.startTicks)) {
      const last = outcomeOf(request);
      return last ? resultOf(last, 'running') : null;
    }
    if (request.signal?.aborted) {
      process.kill(supervisor.pid, 'SIGTERM');
      while (alive(supervisor.pid, supervisor.startTicks)) await sleep(POLL_MS);
      return stopped('running');
    }
    await sleep(POLL_MS);
  }
}

/** What supervises a new execution of the request (its record and outcome from an earlier one removed first). */
function freshSpec(request: CommandRequest): SupervisorSpec {
  const f = files(request);
  for (const file of [f.record, f.outcome]) if (existsSync(file)) unlinkSync(file);
  return {
    key: request.key, argv: request.argv, cwd: request.cwd, timeoutMs: request.timeoutMs, graceMs: request.graceMs ?? DEFAULT_GRACE_MS,
    stdoutFile: request.stdoutFile, stderrFile: request.stderrFile, recordFile: f.record, outcomeFile: f.outcome,
  };
}

/** Start the command under a new supervisor and wait for its outcome. */
async function start(request: CommandRequest): Promise<CommandOutcome> {
  const spec = freshSpec(request);
  const specFile = files(request).spec;
  writeFileSync(specFile, JSON.stringify(spec));
  const child = spawn(process.execPath, [supervisorScript(), specFile, '3'], {
    cwd: request.cwd, detached: true, stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...request.env, EXPCTL_COMMAND_KEY: request.key, EXPCTL_COMMAND_FILE: request.stateFile },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stderr = collectText(child, 2);
  const record = await firstLine(child);
  if (!record) {
    await exited;
    throw new Error(`the supervisor of ${request.key} did not start its command: ${(await stderr).trim() || 'no error printed'}`);
  }
  if (!record.command) {
    await exited;
    return resultOf(outcomeOf(request) ?? missingOutcome(request), null);
  }
  try {
    request.onStart?.({ pid: record.command.pid, pgid: record.command.pgid, startTicks: record.command.startTicks, supervisor: record.supervisor });
  } catch (error) {
    // nobody would know of this command: stop it before failing
    child.kill('SIGTERM');
    await exited;
    throw error;
  }
  const onAbort = () => child.kill('SIGTERM');
  request.signal?.addEventListener('abort', onAbort, { once: true });
  await exited;
  request.signal?.removeEventListener('abort', onAbort);
  const outcome = outcomeOf(request);
  if (outcome) return resultOf(outcome, null);
  if (request.signal?.aborted) return stopped(null);
  throw new Error(`the supervisor of ${request.key} exited without an outcome: ${(await stderr).trim() || 'it was killed'}`);
}

function missingOutcome(request: CommandRequest): never {
  throw new Error(`the supervisor of ${request.key} could not start the command and wrote no outcome`);
}

function collectText(child: ChildProcess, fd: number): Promise<string> {
  const stream = child.stdio[fd] as NodeJS.ReadableStream | null;
  if (!stream) return Promise.resolve('');
  let text = '';
  stream.on('data', (chunk: Buffer) => void (text += chunk.toString('utf8')));
  return new Promise((resolve) => stream.once('end', () => resolve(text)));
}

/** The record the supervisor sends on fd 3 once the command runs (or could not start); null if it ends first. */
function firstLine(child: ChildProcess): Promise<SupervisorRecord | null> {
  const stream = child.stdio[3] as NodeJS.ReadableStream;
  let text = '';
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const line = text.indexOf('\n');
      if (line >= 0) resolve(JSON.parse(text.slice(0, line)) as SupervisorRecord);
    });
    stream.once('end', () => resolve(null));
    stream.once('error', () => resolve(null));
  });
}

/**
 * Commands on the experiment's executor host (workspace/executor-host.ts):
 * like the supervised executor, they outlive the driver and are collected on
 * resume, but one long-lived process runs them all, so a command costs a
 * fork of a small process, not the start of a new one. Without a host file
 * (a library caller's own request), the supervised executor runs it.
 */
export const hostedExecutor: Executor = {
  kind: 'hosted',
  async run(request) {
    if (!request.hostDir) return supervisedExecutor.run(request);
    if (request.signal?.aborted) return stopped(null);
    const client = hostPool(request.hostDir);
    if (request.resumed) {
      const attached = await client.attach(request.key);
      if (attached) {
        const record = await attached.started;
        request.onAdopt?.({ state: 'running', pgid: record?.command?.pgid ?? null, supervisor: record?.supervisor.pid ?? null, startedAt: record?.startedAt ?? Date.now() });
        const waited = await waitHosted(request, attached, client, 'running');
        if (waited) return waited;
      }
      const collected = await collect(request);
      if (collected) return collected;
    }
    await request.prepare?.();
    return startHosted(request, client);
  },
};

async function startHosted(request: CommandRequest, client: HostPool): Promise<CommandOutcome> {
  const spec = freshSpec(request);
  const env = Object.fromEntries(Object.entries({ ...process.env, ...request.env, EXPCTL_COMMAND_FILE: request.stateFile }).filter((e): e is [string, string] => e[1] !== undefined));
  const command = await client.run(spec, env);
  const record = await command.started;
  if (!record?.command) {
    const ended = await command.ended;
    if (ended && ended !== 'lost' && ended !== 'unknown') return resultOf(ended, null);
    throw new Error(`the executor host lost ${request.key} before it started`);
  }
  try {
    request.onStart?.({ pid: record.command.pid, pgid: record.command.pgid, startTicks: record.command.startTicks, supervisor: record.supervisor });
  } catch (error) {
    // nobody would know of this command: stop it before failing
    client.stop(request.key);
    await command.ended;
    throw error;
  }
  const outcome = await waitHosted(request, command, client, null);
  if (outcome) return outcome;
  throw new Error(`the executor host stopped ${request.key} before it ended, without an outcome`);
}

/** Wait for a command on the host (stopping it if the drive is stopped); null when it ended with no outcome. */
async function waitHosted(request: CommandRequest, command: HostedCommand, client: HostPool, adopted: CommandOutcome['adopted']): Promise<CommandOutcome | null> {
  const onAbort = () => client.stop(request.key);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const ended = await command.ended;
  request.signal?.removeEventListener('abort', onAbort);
  if (request.signal?.aborted) return stopped(adopted);
  // the connection broke (the host was killed): the outcome may be on disk all the same
  const outcome = ended === 'lost' || ended === 'unknown' || ended === null ? outcomeOf(request) : ended;
  return outcome ? resultOf(outcome, adopted) : null;
}

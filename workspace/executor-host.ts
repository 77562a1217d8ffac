/*
 * An executor host of one experiment (`node executor-host.js HOSTDIR`):
 * one small, long-lived process, started detached by the first driver that
 * needs it, that runs every agent and judge command of the experiment the
 * way the supervisor of one command does (workspace/supervisor.ts: its own
 * process group, the timeout, the outcome written atomically) and outlives
 * the driver. One process for all commands instead of one per command: a
 * command starts in a few milliseconds (a small heap forks fast) and costs
 * no memory of its own beyond the command.
 *
 * Drivers talk to it over a Unix socket in the abstract namespace, one JSON
 * object per line, after proving they can read its file (mode 0600: its
 * token). Each host has its own file, HOSTDIR/<pid>.json: should two be
 * started at once (a driver killed while starting one), a later driver asks
 * both about a command. Requests: `run` (a command, its spec and environment), `stop`,
 * `attach` (a later driver waits for a command an earlier one started).
 * Replies: `started` (its record), `ended` (its outcome; null when stopped),
 * `unknown` (not running here; also the answer to a `run` from any but the
 * driver that connected last: a dead driver's unread request never starts
 * a command behind the back of the driver that took over). It exits once no command runs and no driver
 * is connected for a few seconds. Kept to Node's built-ins and
 * util/procfs.ts, so it starts fast and small.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { processStartTicks } from '../util/procfs.js';
import { superviseCommand, writeAtomically, type SupervisorOutcome, type SupervisorRecord, type SupervisorSpec } from './supervisor.js';

/** What a host's file says: which process the host is, where it listens, and the token a driver sends first. */
export interface HostInfo {
  pid: number;
  startTicks: number | null;
  socket: string;
  token: string;
}

export type HostRequest =
  | { op: 'run'; spec: SupervisorSpec; env: Record<string, string> }
  | { op: 'stop'; key: string }
  | { op: 'attach'; key: string };

export type HostReply =
  | { event: 'started'; key: string; record: SupervisorRecord }
  | { event: 'ended'; key: string; outcome: SupervisorOutcome | null }
  | { event: 'unknown'; key: string };

const IDLE_EXIT_MS = 1000;

interface Running {
  record: SupervisorRecord | null;
  stop(): void;
  watchers: Set<Socket>;
}

/** The host process: its commands, its drivers' connections, and when to leave. */
class Host {
  private readonly file: string;
  private readonly self = { pid: process.pid, startTicks: processStartTicks(process.pid) };
  private readonly info: HostInfo;
  private readonly running = new Map<string, Running>();
  private readonly clients = new Set<Socket>();
  /** The driver that connected last: the only one that may start commands. */
  private current: Socket | null = null;
  private idle: NodeJS.Timeout | undefined;

  constructor(dir: string) {
    this.file = join(dir, `${process.pid}.json`);
    this.info = { ...this.self, socket: `\0expctl-host-${randomBytes(12).toString('hex')}`, token: randomBytes(24).toString('hex') };
  }

  serve(): void {
    process.stderr.on('error', () => {});
    const server = createServer((socket) => this.connected(socket));
    server.listen(this.info.socket, () => {
      // the file a driver finds the host by, and proves itself with (only this user can read it)
      writeAtomically(this.file, JSON.stringify(this.info), false, 0o600);
      this.checkIdle();
    });
    server.on('error', (error) => {
      process.stderr.write(`expctl executor host: ${error.message}\n`);
      process.exit(1);
    });
    // Ctrl+C in the driver's terminal does not reach a detached host; a stop of the host itself stops its commands' groups
    process.on('SIGTERM', () => {
      for (const entry of this.running.values()) entry.stop();
      if (this.running.size === 0) this.quit();
    });
    process.on('SIGINT', () => {});
    process.on('SIGHUP', () => {});
  }

  private connected(socket: Socket): void {
    this.clients.add(socket);
    clearTimeout(this.idle);
    let authenticated = false;
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        const message = parse(line);
        if (!authenticated && (message as { token?: unknown } | null)?.token === this.info.token) {
          authenticated = true;
          this.current = socket;
        } else if (!authenticated || message === null) {
          return void socket.destroy();
        } else {
          this.handle(socket, message as HostRequest);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.clients.delete(socket);
      for (const entry of this.running.values()) entry.watchers.delete(socket);
      this.checkIdle();
    });
  }

  private handle(socket: Socket, request: HostRequest): void {
    if (request.op === 'run') return this.run(socket, request);
    const entry = this.running.get(request.key);
    if (request.op === 'stop') return entry?.stop();
    if (!entry) return send(socket, { event: 'unknown', key: request.key });
    entry.watchers.add(socket);
    if (entry.record) send(socket, { event: 'started', key: request.key, record: entry.record });
  }

  private run(socket: Socket, { spec, env }: Extract<HostRequest, { op: 'run' }>): void {
    // Only the driver that connected last starts commands (one driver holds the experiment's lease at a
    // time): a request a dead driver left unread on its connection is dropped, so what a later driver was
    // told is not running here is never started behind its back.
    if (socket !== this.current) return send(socket, { event: 'unknown', key: spec.key });
    const known = this.running.get(spec.key);
    if (known) {
      known.watchers.add(socket);
      if (known.record) send(socket, { event: 'started', key: spec.key, record: known.record });
      return;
    }
    const entry: Running = { record: null, stop: () => {}, watchers: new Set([socket]) };
    this.running.set(spec.key, entry);
    entry.stop = superviseCommand(spec, { ...env, EXPCTL_COMMAND_KEY: spec.key }, this.self, {
      started: (record) => {
        entry.record = record;
        for (const watcher of entry.watchers) send(watcher, { event: 'started', key: spec.key, record });
      },
      ended: (outcome) => {
        this.running.delete(spec.key);
        for (const watcher of entry.watchers) send(watcher, { event: 'ended', key: spec.key, outcome });
        this.checkIdle();
      },
    }).stop;
  }

  private checkIdle(): void {
    clearTimeout(this.idle);
    if (this.running.size === 0 && this.clients.size === 0) this.idle = setTimeout(() => this.quit(), IDLE_EXIT_MS);
  }

  private quit(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // gone already
    }
    process.exit(0);
  }
}

function send(socket: Socket, reply: HostReply): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
}

function parse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

// run only as the entry point, never when imported
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [hostDir] = process.argv.slice(2);
  if (hostDir) new Host(hostDir).serve();
}

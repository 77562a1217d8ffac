import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { readStat } from '../util/procfs.js';
import type { HostInfo, HostReply, HostRequest } from './executor-host.js';
import type { SupervisorOutcome, SupervisorRecord, SupervisorSpec } from './supervisor.js';

/** The compiled host: next to this module in dist/, or dist/ of the checkout when running from source (tests). */
export function hostScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'executor-host.js');
  return join(dirname(here), '..', 'dist', 'workspace', 'executor-host.js');
}

const HOST_START_MS = 10_000;

interface Watch {
  started: (record: SupervisorRecord) => void;
  ended: (outcome: SupervisorOutcome | null) => void;
  unknown: () => void;
  /** The connection to the host broke before the command ended. */
  lost: () => void;
}

/** A command the host runs for us: its record once started, and its outcome (null: stopped). */
export interface HostedCommand {
  started: Promise<SupervisorRecord | null>;
  /** Its outcome (null: stopped); `lost`: the host went away first; `unknown`: the host does not run it. */
  ended: Promise<SupervisorOutcome | null | 'lost' | 'unknown'>;
}

/**
 * A driver's connections to its experiment's executor hosts
 * (workspace/executor-host.ts): commands run on one (started on first use if
 * none runs); a command an earlier driver started is looked for on every
 * live one. Holds the driver's event loop open only while a command is
 * being watched.
 */
export class HostPool {
  private readonly connections = new Map<number, Promise<HostConnection | null>>();
  private starting: Promise<HostConnection | null> | null = null;
  private readonly byKey = new Map<string, HostConnection>();
  /** The host this driver runs its commands on while its connection lasts: no look at the folder per command. */
  private active: HostConnection | null = null;

  constructor(private readonly dir: string) {}

  /** Run a command on a host (starting one if none runs). */
  async run(spec: SupervisorSpec, env: Record<string, string>): Promise<HostedCommand> {
    const host = this.active ?? (await this.anyLive()) ?? (await this.start());
    if (!host) throw new Error(`no executor host started for ${this.dir}`);
    this.active = host;
    this.byKey.set(spec.key, host);
    return host.watch(spec.key, { op: 'run', spec, env }, () => this.byKey.delete(spec.key));
  }

  /** A command an earlier driver started, on a host that still runs it; null when none does. */
  async attach(key: string): Promise<HostedCommand | null> {
    for (const info of liveHosts(this.dir)) {
      const host = await this.connect(info);
      if (!host) continue;
      const command = host.watch(key, { op: 'attach', key }, () => this.byKey.delete(key));
      if (await command.started) {
        this.byKey.set(key, host);
        return command;
      }
      const ended = await command.ended;
      // it ended as we asked: its outcome is on disk; the caller reads it there
      if (ended !== 'lost' && ended !== 'unknown') return command;
    }
    return null;
  }

  stop(key: string): void {
    this.byKey.get(key)?.send({ op: 'stop', key });
  }

  private async anyLive(): Promise<HostConnection | null> {
    for (const info of liveHosts(this.dir)) {
      const host = await this.connect(info);
      if (host) return host;
    }
    return null;
  }

  private connect(info: HostInfo): Promise<HostConnection | null> {
    let connection = this.connections.get(info.pid);
    if (!connection) {
      connection = HostConnection.open(info, (closed) => {
        this.connections.delete(info.pid);
        if (this.active === closed) this.active = null;
      });
      this.connections.set(info.pid, connection);
    }
    return connection;
  }

  private start(): Promise<HostConnection | null> {
    this.starting ??= (async () => {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const host = spawn(process.execPath, [hostScript(), this.dir], { detached: true, stdio: 'ignore', cwd: '/' });
      host.unref();
      const deadline = Date.now() + HOST_START_MS;
      while (Date.now() < deadline && host.exitCode === null) {
        const info = readHostInfo(join(this.dir, `${host.pid}.json`));
        if (info) return this.connect(info);
        await sleep(5);
      }
      return null;
    })().finally(() => (this.starting = null));
    return this.starting;
  }
}

/** One socket to one host, with the commands watched through it. */
class HostConnection {
  private readonly watches = new Map<string, Watch>();

  private constructor(private readonly socket: Socket) {}

  static async open(info: HostInfo, closed: (connection: HostConnection | null) => void): Promise<HostConnection | null> {
    const socket = await new Promise<Socket | null>((resolve) => {
      const s = connect(info.socket, () => resolve(s));
      s.once('error', () => resolve(null));
    });
    if (!socket) {
      closed(null);
      return null;
    }
    const host = new HostConnection(socket);
    socket.write(`${JSON.stringify({ token: info.token })}\n`);
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const reply = JSON.parse(buffer.slice(0, end)) as HostReply;
        buffer = buffer.slice(end + 1);
        const watch = host.watches.get(reply.key);
        if (reply.event === 'started') watch?.started(reply.record);
        else if (reply.event === 'ended') watch?.ended(reply.outcome);
        else watch?.unknown();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed(host);
      for (const watch of [...host.watches.values()]) watch.lost();
    });
    socket.unref();
    return host;
  }

  send(request: HostRequest): void {
    if (!this.socket.destroyed) this.socket.write(`${JSON.stringify(request)}\n`);
  }

  watch(key: string, request: HostRequest, done: () => void): HostedCommand {
    let started!: (record: SupervisorRecord | null) => void;
    let ended!: (outcome: SupervisorOutcome | null | 'lost' | 'unknown') => void;
    const result: HostedCommand = { started: new Promise((r) => (started = r)), ended: new Promise((r) => (ended = r)) };
    const finish = (outcome: SupervisorOutcome | null | 'lost' | 'unknown') => {
      this.watches.delete(key);
      if (this.watches.size === 0) this.socket.unref();
      done();
      started(null);
      ended(outcome);
    };
    this.watches.set(key, { started: (record) => started(record), ended: finish, unknown: () => finish('unknown'), lost: () => finish('lost') });
    this.socket.ref();
    this.send(request);
    return result;
  }
}

function readHostInfo(file: string): HostInfo | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as HostInfo;
  } catch {
    return null;
  }
}

/** The hosts whose files are in `dir` and whose process still runs (pid and start time). */
function liveHosts(dir: string): HostInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  return names.map((n) => readHostInfo(join(dir, n))).filter((info): info is HostInfo => info !== null && hostAlive(info));
}

function hostAlive(info: HostInfo): boolean {
  const stat = readStat(info.pid);
  return stat !== null && stat.startTicks === info.startTicks && stat.state !== 'Z' && stat.state !== 'X';
}

const pools = new Map<string, HostPool>();

/** This process's connections to the hosts of the experiment whose host folder is `dir`. */
export function hostPool(dir: string): HostPool {
  let pool = pools.get(dir);
  if (!pool) pools.set(dir, (pool = new HostPool(dir)));
  return pool;
}

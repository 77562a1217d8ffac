/**
 * The executor host of an experiment (workspace/executor-host.ts), driven
 * through the hosted executor and over its socket as a driver would: one
 * process for every command, outcomes on disk, a token, and the fence that
 * keeps a dead driver's unread request from starting a command.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostedExecutor, type CommandRequest } from '../../workspace/executor.js';
import type { HostInfo } from '../../workspace/executor-host.js';
import { isAlive, until } from '../support/cli.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

function request(dir: string, name: string, argv: string[], extra: Partial<CommandRequest> = {}): CommandRequest {
  return {
    key: `exp/T0/a/1/${name}`, argv, cwd: dir, env: { GREETING: 'hello' }, timeoutMs: 10_000, hostDir: join(dir, 'hosts'),
    stdoutFile: join(dir, `${name}.out`), stderrFile: join(dir, `${name}.err`), stateFile: join(dir, `${name}.command`), resumed: false, notBefore: 0, ...extra,
  };
}

function hostInfo(dir: string): HostInfo {
  const [file] = readdirSync(join(dir, 'hosts'));
  return JSON.parse(readFileSync(join(dir, 'hosts', file!), 'utf8')) as HostInfo;
}

/** A raw connection to the host, as a driver opens one: the token first, then requests; replies as they come. */
async function raw(info: HostInfo, token = info.token): Promise<{ socket: Socket; replies: unknown[]; send(message: object): void }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(info.socket, () => resolve(s));
    s.once('error', reject);
  });
  const replies: unknown[] = [];
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      replies.push(JSON.parse(buffer.slice(0, end)));
      buffer = buffer.slice(end + 1);
    }
  });
  socket.write(`${JSON.stringify({ token })}\n`);
  return { socket, replies, send: (message) => socket.write(`${JSON.stringify(message)}\n`) };
}

describe('the executor host', () => {
  it('runs every command of an experiment in one process, with its environment, and writes each outcome next to its output', async () => {
    const dir = tempDir();
    const hosts = new Set<number>();
    const [a, b] = await Promise.all(['a', 'b'].map((name) => hostedExecutor.run(request(dir, name, ['sh', '-c', `echo "$GREETING ${name}"; exit 3`], { onStart: (s) => hosts.add(s.supervisor!.pid) }))));
    expect([a!.exitCode, b!.exitCode]).toEqual([3, 3]);
    expect(hosts.size, 'one host for both commands').toBe(1);
    expect(readFileSync(join(dir, 'a.out'), 'utf8')).toBe('hello a\n');
    expect(JSON.parse(readFileSync(join(dir, 'b.command.outcome.json'), 'utf8'))).toMatchObject({ key: 'exp/T0/a/1/b', exitCode: 3, timedOut: false });
    const info = hostInfo(dir);
    expect(statSync(join(dir, 'hosts', `${info.pid}.json`)).mode & 0o777, 'only its user reads the token').toBe(0o600);
    expect(isAlive(info.pid)).toBe(true);
  });

  it('answers no one without the token, and starts commands only for the driver that connected last', async () => {
    const dir = tempDir();
    const running = hostedExecutor.run(request(dir, 'long', ['sleep', '1']));
    const info = await until(() => { try { return hostInfo(dir); } catch { return undefined; } }, 10_000, 'its file');
    const stranger = await raw(info, 'not the token');
    await until(() => (stranger.socket.destroyed ? true : undefined), 5_000, 'the stranger to be hung up on');

    const older = await raw(info);
    const newer = await raw(info);
    const spec = (name: string) => ({ key: `exp/fence/${name}`, argv: ['true'], cwd: dir, timeoutMs: 5_000, graceMs: 1_000, stdoutFile: join(dir, `${name}.out`), stderrFile: join(dir, `${name}.err`), recordFile: join(dir, `${name}.record.json`), outcomeFile: join(dir, `${name}.outcome.json`) });
    // a command the host never had is "unknown" to whoever asks (and the answer says the newer driver is in)
    newer.send({ op: 'attach', key: 'exp/fence/none' });
    await until(() => (newer.replies.length === 1 ? true : undefined), 5_000, 'the answer');
    expect(newer.replies[0]).toEqual({ event: 'unknown', key: 'exp/fence/none' });
    older.send({ op: 'run', spec: spec('old'), env: { PATH: process.env.PATH! } });
    await until(() => (older.replies.length === 1 ? true : undefined), 5_000, 'the older driver to be answered');
    newer.send({ op: 'run', spec: spec('new'), env: { PATH: process.env.PATH! } });
    await until(() => (newer.replies.some((r) => (r as { event: string }).event === 'ended') ? true : undefined), 10_000, 'the newer driver\'s command to end');
    expect(older.replies, 'the older driver starts nothing').toEqual([{ event: 'unknown', key: 'exp/fence/old' }]);
    expect(existsSync(join(dir, 'old.out'))).toBe(false);
    expect(newer.replies.slice(1)).toMatchObject([{ event: 'started', key: 'exp/fence/new' }, { event: 'ended', key: 'exp/fence/new', outcome: { exitCode: 0 } }]);
    for (const client of [older, newer]) client.socket.destroy();
    expect((await running).exitCode).toBe(0);
  });
});

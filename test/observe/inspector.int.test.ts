import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { inspectCommand, parseSpeed } from '../../cli/inspect.js';
import type { Io } from '../../cli/io.js';
import { driveExperiment, loadRunConfig, type ExperimentWatcher } from '../../runner/index.js';
import { startInspection, type Inspection } from '../../observe/inspector/inspector.js';
import { logFile } from '../../runner/paths.js';
import type { StoredRow } from '../../store/types.js';
import type { ExperimentLog } from '../../runner/index.js';
import { launchChromium } from '../support/chromium.js';
import { until } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { fakes } from '../support/fake-collaborators.js';
import { useTempDir } from '../support/temp.js';
import { memoryLog, openLog } from '../support/stores.js';

/** What the inspector sends, as a receiver on the relay sees it. */
interface Message {
  type: '@xstate.actor' | '@xstate.event' | '@xstate.snapshot';
  sessionId: string;
  rootId?: string;
  parentId?: string;
  definition?: string;
  name?: string;
  sourceId?: string;
  id: string | null;
  createdAt: string;
  event?: { type: string; data: unknown };
  snapshot?: { value: unknown; context: unknown; status: string; output?: unknown };
}

interface Receiver {
  messages: Message[];
  closed: Promise<void>;
}

const tempDir = useTempDir();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function inspection(port?: number): Promise<Inspection> {
  const started = await startInspection({ port, onError: (error) => { throw error; } });
  cleanups.push(() => started.stop());
  return started;
}

/** A plain WebSocket client on the relay: receives what the inspector sends (the relay passes it on). */
async function receiver(wsUrl: string): Promise<Receiver> {
  const socket = new WebSocket(wsUrl);
  cleanups.push(() => socket.terminate());
  const messages: Message[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Message));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { messages, closed };
}

function memoryIo(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, cwd: process.cwd(), env: {},
    stdout: () => out, stderr: () => err,
  };
}

async function refused(port: number): Promise<boolean> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  return new Promise((resolve) => {
    socket.once('open', () => (socket.terminate(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

async function occupy(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}

/** A small experiment (3 tiers, 4 subtests, 2 runs each) driven in-process with fake collaborators. */
async function drive(store: ExperimentLog, dir: string, watchers: ExperimentWatcher[], extra: Partial<Parameters<typeof driveExperiment>[0]> = {}) {
  return driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(writeExperiment(dir)), collaborators: fakes([]), watchers, ...extra });
}

const kind = (m: Message) => `${m.type.slice('@xstate.'.length)} ${m.sessionId}`;

/** The messages a row must produce, in order. */
function expectedFor(rows: StoredRow[]): string[] {
  return rows.flatMap((r) => [...(r.event.type === 'actor.created' ? [`actor ${r.stream}`] : []), `event ${r.stream}`, `snapshot ${r.stream}`]);
}

/**
 * The stream of inspection events matches the log: one actor per stream with
 * its parent and machine definition, then per row its event and snapshot, in
 * log order, carrying the row's seq, event, state, context and recorded time.
 */
function expectMatchesLog(messages: Message[], rows: StoredRow[]): void {
  expect(messages.map(kind)).toEqual(expectedFor(rows));
  const experiment = rows[0]!.experiment;
  const created = rows.filter((r) => r.event.type === 'actor.created');
  const actors = messages.filter((m) => m.type === '@xstate.actor');
  expect(actors.map((m) => m.sessionId).sort()).toEqual(created.map((r) => r.stream).sort());
  for (const row of created) {
    const actor = actors.find((m) => m.sessionId === row.stream)!;
    const parent = (row.event.data as { parent: string | null }).parent;
    expect(actor.parentId).toBe(parent ?? undefined);
    expect(actor).toMatchObject({ rootId: experiment, name: row.stream, createdAt: String(Date.parse(row.at)) });
    expect(JSON.parse(actor.definition!).id).toBe(row.machine.split('@')[0]);
  }
  let i = 0;
  for (const row of rows) {
    if (row.event.type === 'actor.created') i += 1;
    const event = messages[i++]!;
    const snapshot = messages[i++]!;
    const at = String(Date.parse(row.at));
    expect(event).toMatchObject({ id: String(row.seq), rootId: experiment, createdAt: at, event: { type: row.event.type, data: row.event.data } });
    const child = (row.event.data as { child?: string }).child;
    const source = row.event.type === 'actor.created' ? ((row.event.data as { parent: string | null }).parent ?? 'operator') : row.cause === 'child' ? `${row.stream}/${child}` : row.cause;
    expect(event.sourceId).toBe(source);
    expect(snapshot).toMatchObject({ rootId: experiment, createdAt: at, event: { type: row.event.type } });
    expect(snapshot.snapshot).toMatchObject({ value: row.state, context: row.context });
  }
  // per actor, events in the rows' order
  for (const stream of new Set(rows.map((r) => r.stream))) {
    expect(messages.filter((m) => m.type === '@xstate.event' && m.sessionId === stream).map((m) => Number(m.id))).toEqual(rows.filter((r) => r.stream === stream).map((r) => r.seq));
  }
  const last = messages.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === experiment).at(-1)!;
  // terminal lifecycle states are not XState final states (operator.reset can leave them): the status stays active
  expect(last.snapshot).toMatchObject({ value: 'exp_complete', status: 'active' });
}

describe('live inspection (run --inspect)', () => {
  it('streams every actor, event and snapshot of a run as it is appended, then closes the relay', async () => {
    const dir = tempDir();
    const live = await inspection();
    const rx = await receiver(live.wsUrl);
    const store = memoryLog();
    const outcome = await drive(store, dir, [live.watcher]);
    expect(outcome.state).toBe('exp_complete');
    await rx.closed; // ended() flushed and closed the relay: the receiver got everything, then a close
    const rows = [...store.readExperiment('exp-1')];
    expect(rows.length).toBeGreaterThan(100);
    expectMatchesLog(rx.messages, rows);
    expect(new Set(rx.messages.filter((m) => m.type === '@xstate.actor').map((m) => m.sessionId))).toEqual(new Set(store.streams('exp-1').map((s) => s.stream)));
    expect(await refused(live.port)).toBe(true);
  });

  it('on resume announces the existing actors (parents first) before streaming the new rows', async () => {
    const dir = tempDir();
    const store = memoryLog();
    await expect(drive(store, dir, [], { config: loadRunConfig(writeExperiment(dir, { failFast: true })), collaborators: fakes([], { failRuns: (r) => r.stream.startsWith('exp-1/T1/') }) }))
      .rejects.toMatchObject({ code: 'EXPCTL_EXPERIMENT_FAILED' });
    const before = [...store.readExperiment('exp-1')];
    const existing = before.filter((r) => r.event.type === 'actor.created');
    const live = await inspection();
    const rx = await receiver(live.wsUrl);
    await driveExperiment({ store, resultsDir: join(dir, 'results'), experiment: 'exp-1', collaborators: fakes([]), watchers: [live.watcher] });
    await rx.closed;
    const announced = rx.messages.slice(0, existing.length);
    expect(announced.every((m) => m.type === '@xstate.actor')).toBe(true);
    expect(announced.map((m) => m.sessionId).sort()).toEqual(existing.map((r) => r.stream).sort());
    const position = new Map(announced.map((m, i) => [m.sessionId, i]));
    for (const row of existing) {
      const parent = (row.event.data as { parent: string | null }).parent;
      expect(announced[position.get(row.stream)!]!.parentId).toBe(parent ?? undefined);
      if (parent) expect(position.get(parent)!).toBeLessThan(position.get(row.stream)!);
    }
    const failedRun = announced.find((m) => m.sessionId === 'exp-1/T1/a/1')!;
    expect(failedRun.snapshot).toMatchObject({ value: 'run_failed' });
    const after = [...store.readExperiment('exp-1', { fromSeq: before.at(-1)!.seq + 1 })];
    expect(after.length).toBeGreaterThan(0);
    expect(rx.messages.slice(existing.length).map(kind)).toEqual(expectedFor(after));
  });

  it('refuses a port that is taken, naming it', async () => {
    const port = await occupy();
    await expect(startInspection({ port })).rejects.toMatchObject({ code: 'EXPCTL_PORT_IN_USE', message: expect.stringContaining(`port ${port} on 127.0.0.1 is already in use`) });
  });

  it('uses the port it is given, serves the page, and refuses WebSocket connections from other web origins', async () => {
    const free = await occupy();
    cleanups.splice(-1, 1)[0]!(); // free it again
    await new Promise((r) => setTimeout(r, 20));
    const live = await inspection(free);
    expect(live.url).toBe(`http://127.0.0.1:${free}/`);
    const page = await (await fetch(live.url)).text();
    expect(page).toContain('https://stately.ai/inspect');
    expect(page).toContain("new WebSocket('ws://' + location.host)");
    const foreign = new WebSocket(live.wsUrl, { headers: { origin: 'http://evil.example' } });
    cleanups.push(() => foreign.terminate());
    await expect(new Promise((resolve, reject) => (foreign.once('open', resolve), foreign.once('error', reject)))).rejects.toThrow(/403/);
    const own = new WebSocket(live.wsUrl, { headers: { origin: `http://127.0.0.1:${free}` } });
    cleanups.push(() => own.terminate());
    await new Promise((resolve, reject) => (own.once('open', resolve), own.once('error', reject)));
  });

  it('feeds the inspector UI in a browser through the relay page', async () => {
    // a stand-in for the hosted inspector: says it is connected, keeps what it is sent
    const fakeUi = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<script>window.received = []; addEventListener('message', (e) => window.received.push(e.data)); parent.postMessage({ type: '@statelyai.connected' }, '*');</script>`,
    ));
    await new Promise<void>((resolve) => fakeUi.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => fakeUi.close(resolve)));
    const live = await startInspection({ inspectorUrl: `http://127.0.0.1:${(fakeUi.address() as { port: number }).port}/` });
    cleanups.push(() => live.stop());
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(live.url);
    const ui = await until(() => page.frames().find((f) => f !== page.mainFrame() && f.url().startsWith('http://127.0.0.1')), 5_000, 'the inspector frame');
    await ui.waitForFunction(() => Array.isArray((globalThis as unknown as { received?: unknown[] }).received));
    const store = memoryLog();
    const rx = await receiver(live.wsUrl);
    await drive(store, tempDir(), [live.watcher]);
    await rx.closed;
    const rows = [...store.readExperiment('exp-1')];
    const expected = expectedFor(rows).length;
    await ui.waitForFunction((n) => (globalThis as unknown as { received: unknown[] }).received.length >= n, expected);
    const received = await ui.evaluate(() => (globalThis as unknown as { received: Message[] }).received);
    expectMatchesLog(received, rows);
  });
});

describe('replayed inspection (inspect <id>)', () => {
  /** A finished experiment in the SQLite log of `dir/results`, copied from a run on a memory store. */
  async function storedExperiment(dir: string): Promise<{ resultsDir: string; rows: StoredRow[] }> {
    const memory = memoryLog();
    await drive(memory, dir, []);
    const resultsDir = join(dir, 'results');
    const store = openLog(logFile(resultsDir));
    try {
      store.importRows('exp-1', [...memory.readExperiment('exp-1')].map((r) => ({ ...r.raw, prevHash: r.prevHash, hash: r.hash })));
      return { resultsDir, rows: [...store.readExperiment('exp-1')] };
    } finally {
      store.close();
    }
  }

  async function replayTo(resultsDir: string, options: { until?: number; expected: number }) {
    const io = memoryIo();
    const controller = new AbortController();
    const command = inspectCommand('exp-1', { resultsDir, speed: 0, until: options.until, signal: controller.signal }, io);
    cleanups.push(() => (controller.abort(), command.catch(() => undefined)));
    const url = await until(() => /inspector: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(io.stdout()) ?? undefined, 5_000, 'the URL');
    const rx = await receiver(`ws://127.0.0.1:${url[2]}`);
    await until(() => (rx.messages.length >= options.expected ? true : undefined), 5_000, `${options.expected} messages`);
    await until(() => (io.stdout().includes('press Ctrl+C') ? true : undefined), 5_000, 'the end of the replay');
    controller.abort();
    await command;
    await rx.closed;
    expect(await refused(Number(url[2]))).toBe(true);
    return { messages: rx.messages, io };
  }

  it('replays the stored log: stream ids, parent links, recorded times, row order; stays up until stopped', async () => {
    const dir = tempDir();
    const { resultsDir, rows } = await storedExperiment(dir);
    const { messages, io } = await replayTo(resultsDir, { expected: expectedFor(rows).length });
    expectMatchesLog(messages, rows);
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    for (const m of messages.filter((x) => x.type === '@xstate.event')) expect(m.createdAt).toBe(String(Date.parse(bySeq.get(Number(m.id))!.at)));
    expect(io.stdout()).toContain(`replaying exp-1: ${rows.length} row(s), no delay`);
    expect(io.stdout()).toContain(`replayed ${rows.length} row(s) of exp-1 (seq ${rows[0]!.seq}…${rows.at(-1)!.seq})`);
  });

  it('--until SEQ stops at that row', async () => {
    const dir = tempDir();
    const { resultsDir, rows } = await storedExperiment(dir);
    const cut = rows[Math.floor(rows.length / 2)]!.seq;
    const kept = rows.filter((r) => r.seq <= cut);
    const { messages } = await replayTo(resultsDir, { until: cut, expected: expectedFor(kept).length });
    expect(messages.map(kind)).toEqual(expectedFor(kept));
    expect(Math.max(...messages.filter((m) => m.type === '@xstate.event').map((m) => Number(m.id)))).toBe(cut);
  });

  it('--no-wait returns after the replay with the relay closed; --speed paces by the recorded times', async () => {
    const dir = tempDir();
    const { resultsDir, rows } = await storedExperiment(dir);
    const span = Date.parse(rows.at(-1)!.at) - Date.parse(rows[0]!.at);
    expect(span).toBeGreaterThan(0);
    const io = memoryIo();
    const fast = performance.now();
    await inspectCommand('exp-1', { resultsDir, speed: 0, wait: false }, io);
    const fastMs = performance.now() - fast;
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(io.stdout())![1]);
    expect(await refused(port)).toBe(true);
    expect(io.stdout()).not.toContain('Ctrl+C');

    const target = 400; // the whole replay should take this long
    const paced = performance.now();
    await inspectCommand('exp-1', { resultsDir, speed: span / target, wait: false }, memoryIo());
    const pacedMs = performance.now() - paced;
    expect(pacedMs).toBeGreaterThanOrEqual(target * 0.95);
    expect(pacedMs).toBeGreaterThan(fastMs);
  });

  it('refuses a taken port, a bad speed and a row number below 1', async () => {
    const dir = tempDir();
    const { resultsDir } = await storedExperiment(dir);
    const port = await occupy();
    const io = memoryIo();
    await expect(inspectCommand('exp-1', { resultsDir, port, wait: false }, io)).rejects.toMatchObject({ code: 'EXPCTL_PORT_IN_USE', message: expect.stringContaining(String(port)) });
    expect(io.stdout()).toBe('');
    expect(() => parseSpeed('-2')).toThrow(expect.objectContaining({ code: 'EXPCTL_USAGE' }));
    expect(parseSpeed('max')).toBe(0);
    expect(parseSpeed('10')).toBe(10);
    await expect(inspectCommand('exp-1', { resultsDir, until: 0, wait: false }, io)).rejects.toMatchObject({ code: 'EXPCTL_USAGE' });
  });
});

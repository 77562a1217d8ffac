import { Hono, type Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { lifecycleRegistry } from '../../runner/registry.js';
import { experimentKey } from '../../runner/log-keys.js';
import { streams } from '../../runner/streams.js';
import type { EventStore } from '../../store/types.js';
import { ExpctlError } from '../../util/errors.js';
import { layoutMachine, stateKinds } from '../viewer/layout.js';
import { ServeData } from './data.js';
import { HeadWatcher } from './live.js';
import { servePage } from './page.js';
import { runOutput, runPage, type RunAt } from './run.js';

export interface ServeAppOptions {
  store: EventStore;
  resultsDir: string;
  /** How often the log is looked at for new rows (ms). */
  pollMs?: number;
  /** Errors the server answered 500 for (the command prints them). */
  onError?: (error: unknown) => void;
  /** Answer only requests addressed to a loopback name (a web page elsewhere cannot reach the server through a DNS name of its own pointing at 127.0.0.1). */
  loopbackOnly?: boolean;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An answer the client gets as `{ error, hint }` with this HTTP status. */
class HttpProblem extends Error {
  constructor(readonly status: 404 | 400, message: string, readonly hint?: string) {
    super(message);
  }
}

/**
 * The live web UI over one log: the page, its script, and a read-only JSON
 * API (every route is a GET; nothing writes the log) with server-sent events
 * telling the page when a row was appended. `close()` ends the event streams.
 */
export function serveApp(options: ServeAppOptions): { app: Hono; warm: () => void; close: () => void } {
  const watcher = new HeadWatcher(options.store, options.pollMs ?? 250, options.onError);
  const closers = new Set<() => void>();
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof HttpProblem) return c.json({ error: error.message, ...(error.hint ? { hint: error.hint } : {}) }, error.status);
    if (error instanceof ExpctlError && error.code === 'EXPCTL_USAGE') return c.json({ error: error.message, hint: error.hint }, 400);
    options.onError?.(error);
    return c.json({ error: 'the server could not read this; see the terminal running `expctl serve`' }, 500);
  });
  if (options.loopbackOnly) {
    app.use('*', async (c, next) => {
      const host = (c.req.header('host') ?? '').toLowerCase().replace(/:\d+$/, '');
      if (!LOOPBACK_NAMES.has(host)) return c.json({ error: `this server answers requests to 127.0.0.1 or localhost only, not to ${host || 'a request without a Host'}` }, 403);
      await next();
    });
  }
  const data = new ServeData(options.store);
  apiRoutes(app, options, data);
  app.get('/api/live', (c) => streamSSE(c, (stream) => follow(stream, watcher, closers)));
  app.all('/api/*', (c) => c.json({ error: `no such API route: ${c.req.method} ${c.req.path}` }, 404));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/assets/app.js', (c) => c.body(servePage.script(), 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));
  app.get('*', (c) => c.html(servePage.html(), knownPage(options.store, c.req.path) ? 200 : 404));
  // what the server computes once it listens, rather than for the first page opened (10^4 runs take seconds)
  const warm = () => {
    try {
      data.experiments();
    } catch (error) {
      options.onError?.(error);
    }
  };
  return { app, warm, close: () => { for (const close of [...closers]) close(); watcher.stop(); } };
}

/** The JSON routes: the list, an experiment, its runs, history, the tree as of a row, verify, a run and its outputs. */
function apiRoutes(app: Hono, { store, resultsDir }: ServeAppOptions, data: ServeData): void {
  const key = (c: Context) => {
    try {
      return experimentKey(store, c.req.param('id')!);
    } catch (error) {
      if (error instanceof ExpctlError && error.code === 'EXPCTL_NOT_FOUND') throw new HttpProblem(404, `no experiment ${c.req.param('id')} in this results folder`, error.hint);
      throw error;
    }
  };
  app.get('/api/experiments', (c) => c.json(data.experiments()));
  app.get('/api/machines', (c) => c.json(machines()));
  app.get('/api/experiments/:id', (c) => c.json(data.summary(key(c))));
  app.get('/api/experiments/:id/runs', (c) => c.json(data.runs(key(c), { offset: num(c, 'offset'), limit: num(c, 'limit'), tier: c.req.query('tier') || undefined, subtest: c.req.query('subtest') || undefined, outcome: c.req.query('outcome') || undefined, state: c.req.query('state') || undefined })));
  app.get('/api/experiments/:id/history', (c) => c.json(data.history(key(c), { before: num(c, 'before'), limit: num(c, 'limit'), stream: c.req.query('stream'), type: c.req.query('type') })));
  app.get('/api/experiments/:id/at/:seq', (c) => c.json(data.at(key(c), seqParam(c))));
  app.get('/api/experiments/:id/verify', (c) => c.json(data.verify(key(c))));
  app.get('/api/experiments/:id/runs/:tier/:subtest/:run', (c) => {
    const k = key(c);
    const page = runPage(store, resultsDir, k, runAt(c));
    if (!page) throw new HttpProblem(404, `experiment ${k} has no run ${c.req.param('tier')}/${c.req.param('subtest')}/${c.req.param('run')}`);
    return c.json(page);
  });
  app.get('/api/experiments/:id/runs/:tier/:subtest/:run/output/:who/:stream', (c) => {
    const k = key(c);
    const stream = c.req.param('stream');
    if (stream !== 'stdout' && stream !== 'stderr') throw new HttpProblem(404, `no output ${stream}: stdout or stderr`);
    return c.json(runOutput(resultsDir, k, runAt(c), c.req.param('who'), stream) ?? { text: null, bytes: 0, truncated: false });
  });
}

/** One page's event stream: the heads now, then each change, until the page goes or the server closes. */
async function follow(stream: SSEStreamingApi, watcher: HeadWatcher, closers: Set<() => void>): Promise<void> {
  let done: () => void = () => {};
  const ended = new Promise<void>((resolve) => (done = resolve));
  const send = (heads: unknown) => void stream.writeSSE({ event: 'heads', data: JSON.stringify(heads) }).catch(done);
  send(watcher.current());
  const unsubscribe = watcher.subscribe(send);
  closers.add(done);
  stream.onAbort(done);
  const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n').catch(done), 15_000);
  await ended;
  clearInterval(keepAlive);
  unsubscribe();
  closers.delete(done);
}

/** Whether the path is one of the page's and names an experiment (and run) of this log; else the page says so, with a 404. */
function knownPage(store: EventStore, path: string): boolean {
  if (path === '/' || path === '/index.html') return true;
  const m = /^\/e\/([^/]+)(?:\/history|\/r\/([^/]+)\/([^/]+)\/(\d+))?\/?$/.exec(path);
  if (!m) return false;
  try {
    const key = experimentKey(store, decodeURIComponent(m[1]!));
    return m[2] === undefined || store.streamVersion(streams.run(key, decodeURIComponent(m[2]), decodeURIComponent(m[3]!), Number(m[4]))) > 0;
  } catch {
    return false;
  }
}

let laidOut: ReturnType<typeof layOut> | null = null;
const machines = () => (laidOut ??= layOut());

/** The four machines laid out as statecharts, with the colour of each state. */
function layOut() {
  const all = [...lifecycleRegistry.values()];
  return {
    graphs: all.map((m) => layoutMachine(m.machine)),
    kinds: Object.fromEntries(all.map((m) => [m.id, stateKinds(m.machine)])),
    refs: Object.fromEntries(all.map((m) => [m.id, m.ref])),
  };
}

function num(c: Context, name: string): number | undefined {
  const text = c.req.query(name);
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new HttpProblem(400, `${name}=${text} is not a whole number of 0 or more`);
  return n;
}

function seqParam(c: Context): number {
  const n = Number(c.req.param('seq'));
  if (!Number.isInteger(n) || n < 1) throw new HttpProblem(400, `seq ${c.req.param('seq')} is not a row number`);
  return n;
}

function runAt(c: Context): RunAt {
  const run = Number(c.req.param('run'));
  if (!Number.isInteger(run) || run < 1) throw new HttpProblem(404, `${c.req.param('run')} is not a run number`);
  return { tier: c.req.param('tier')!, subtest: c.req.param('subtest')!, run };
}

import { resolve } from 'node:path';
import { LOOPBACK, startServe } from '../observe/serve/server.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { openLogForReading } from './open-log.js';

export interface ServeOptions {
  resultsDir: string;
  /** Default 7575; 0: a free port. */
  port?: number;
  /** Default 127.0.0.1; anything else needs `allowRemote`. */
  host?: string;
  allowRemote?: boolean;
  /** Stops the server (tests); without it, SIGINT or SIGTERM does. */
  signal?: AbortSignal;
}

export const DEFAULT_PORT = 7575;

/**
 * `expctl serve`: the live web UI over a results folder, on 127.0.0.1 unless
 * told otherwise. The log is opened read-only, as the read commands open it;
 * the server only reads, and follows what any driver appends. Runs until
 * SIGINT or SIGTERM, then closes its connections and exits 0.
 */
export async function serveCommand(options: ServeOptions, io: Io): Promise<void> {
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${port} is not a port`, `give a number from 1 to 65535 (default ${DEFAULT_PORT}), or 0 for a free one`);
  const host = (options.host ?? '127.0.0.1').trim();
  if (host === '') throw new UsageError('--host is empty', 'leave it out for 127.0.0.1, or give an address of this machine');
  const remote = !LOOPBACK.has(host.toLowerCase());
  if (remote && !options.allowRemote) {
    throw new UsageError(`--host ${host} is not a loopback address: anyone who can reach it could read every experiment`, `add --allow-remote to serve on ${host} anyway, or leave --host out for 127.0.0.1`);
  }
  const resultsDir = resolve(io.cwd, options.resultsDir);
  const store = openLogForReading(resultsDir);
  try {
    const server = await startServe({ store, resultsDir, host, port, loopbackOnly: !remote, onError: (error) => io.err(`serve: ${(error as Error)?.stack ?? String(error)}\n`) });
    if (remote) io.err(`warning: serving on ${host}, not only this machine: anyone who can reach ${server.url} can read every experiment in ${resultsDir} (there is no login)\n`);
    io.out(`${server.url}\n`);
    io.err(`serving ${resultsDir} (read-only); press Ctrl+C to stop\n`);
    const why = await stopped(options.signal);
    io.err(`${why}: stopping the server\n`);
    await server.close();
  } finally {
    store.close();
  }
}

/** Resolves with what stopped it: the signal given, or the first SIGINT or SIGTERM. */
function stopped(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((done) => {
    const handlers: [NodeJS.Signals, () => void][] = (['SIGINT', 'SIGTERM'] as const).map((name) => [name, () => finish(name)]);
    const finish = (why: string) => {
      for (const [name, handler] of handlers) process.off(name, handler);
      done(why);
    };
    for (const [name, handler] of handlers) process.once(name, handler);
    if (signal?.aborted) finish('stopped');
    signal?.addEventListener('abort', () => finish('stopped'), { once: true });
  });
}

import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventStore } from '../../store/types.js';
import { ExpctlError } from '../../util/errors.js';
import { serveApp } from './app.js';

export { serveApp } from './app.js';

export interface ServeOptions {
  store: EventStore;
  resultsDir: string;
  host: string;
  /** 0: a free port. */
  port: number;
  pollMs?: number;
  onError?: (error: unknown) => void;
  loopbackOnly?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Ends the event streams, closes every connection and the server. */
  close(): Promise<void>;
}

/** The host names that stay on this machine. */
export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Serve the live web UI (observe/serve/app.ts) on host:port until `close()`. */
export async function startServe(options: ServeOptions): Promise<RunningServer> {
  const { app, close, warm } = serveApp(options);
  const server = createAdaptorServer({ fetch: app.fetch, hostname: options.host }) as Server;
  await listen(server, options.host, options.port);
  const { port } = server.address() as AddressInfo;
  // after the caller has printed the URL
  const warming = setImmediate(warm);
  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => {
      clearImmediate(warming);
      close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(portError(host, port, error.code ?? error.message));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

function portError(host: string, port: number, reason: string): ExpctlError {
  if (reason === 'EADDRINUSE') return new ExpctlError('EXPCTL_PORT_IN_USE', `port ${port} on ${host} is already in use`, `pass another port with --port N (e.g. --port ${port + 1}), or --port 0 for a free one`);
  if (reason === 'EACCES') return new ExpctlError('EXPCTL_PORT_UNAVAILABLE', `not allowed to listen on ${host}:${port}`, 'ports below 1024 need privileges: pass --port with a higher number');
  if (reason === 'EADDRNOTAVAIL' || reason === 'ENOTFOUND' || reason === 'EAI_AGAIN') return new ExpctlError('EXPCTL_PORT_UNAVAILABLE', `cannot listen on ${host}: no such address on this machine`, 'pass --host with an address of this machine, or leave it out for 127.0.0.1');
  return new ExpctlError('EXPCTL_PORT_UNAVAILABLE', `cannot listen on ${host}:${port} (${reason})`, 'pass another --port or --host');
}

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { ExpctlError, UsageError } from '../../util/errors.js';

export { WebSocket };
export type WebSocketClient = WebSocket;

/** The hosted Stately inspector UI the relay page embeds. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

export const RELAY_HOST = '127.0.0.1';

export interface RelayOptions {
  /** A port on 127.0.0.1; a free one when absent or 0. */
  port?: number;
  /** The inspector UI embedded by the page (default the hosted Stately inspector). */
  inspectorUrl?: string;
  /** Messages kept for viewers that connect late, besides every actor registration (kept always). */
  keepMessages?: number;
}

export interface Relay {
  port: number;
  /** The page to open in a browser. */
  url: string;
  /** Where inspectors and viewers connect. */
  wsUrl: string;
  /** Connected clients (inspectors and viewers). */
  readonly clients: number;
  /**
   * Close every connection (gracefully: what was sent is delivered, then a close
   * frame; terminated after `graceMs`) and the server. Idempotent.
   */
  stop(graceMs?: number): Promise<void>;
}

/** The relay port is taken (or may not be used). */
export class InspectorPortError extends ExpctlError {
  constructor(readonly port: number, reason: string) {
    super(
      reason === 'EADDRINUSE' ? 'EXPCTL_PORT_IN_USE' : 'EXPCTL_PORT_UNAVAILABLE',
      reason === 'EADDRINUSE'
        ? `port ${port} on ${RELAY_HOST} is already in use, so the inspector relay cannot start there`
        : `the inspector relay cannot listen on ${RELAY_HOST}:${port} (${reason})`,
      'pass another port, or leave the port out to use a free one',
    );
  }
}

/**
 * A local inspection relay, protocol-compatible with `createInspectorServer`
 * of @statelyai/inspect/server: an HTTP page embedding the Stately inspector
 * UI and a WebSocket server that passes every text message a client sends to
 * every other client (and replays what it kept to clients that connect
 * later). Unlike that server it listens on 127.0.0.1 only, reports a taken
 * port instead of crashing, can pick a free port, refuses WebSocket
 * connections from other web origins, never opens a browser, and closes its
 * connections when stopped (so the process can exit).
 */
export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const requested = options.port ?? 0;
  if (!Number.isInteger(requested) || requested < 0 || requested > 65_535) {
    throw new UsageError(`"${requested}" is not a port number`, 'give a port from 1 to 65535, or leave it out to use a free one');
  }
  const address = { port: requested };
  const http = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/' && !req.url?.startsWith('/?'))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(bridgePage(options.inspectorUrl ?? STATELY_INSPECTOR_URL));
  });
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<Duplex>();
  const kept = keptMessages(options.keepMessages ?? 10_000);
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${RELAY_HOST}:${address.port}` && origin !== `http://localhost:${address.port}`) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (client) => wss.emit('connection', client, req));
  });
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  wss.on('connection', (client: WebSocket) => {
    client.on('error', () => client.terminate());
    for (const text of kept.all()) client.send(text);
    client.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      kept.add(text);
      for (const other of wss.clients) if (other !== client && other.readyState === WebSocket.OPEN) other.send(text);
    });
  });
  await listen(http, requested);
  address.port = (http.address() as { port: number }).port;
  let stopping: Promise<void> | null = null;
  return {
    port: address.port,
    url: `http://${RELAY_HOST}:${address.port}/`,
    wsUrl: `ws://${RELAY_HOST}:${address.port}`,
    get clients() {
      return wss.clients.size;
    },
    stop: (graceMs = 1_000) => (stopping ??= stopRelay(http, wss, sockets, graceMs)),
  };
}

/**
 * The messages replayed to clients that connect later: every actor
 * announcement, and at most `keep` others (the oldest half dropped in one
 * pass when there are more).
 */
function keptMessages(keep: number): { add(text: string): void; all(): string[] } {
  const kept: { text: string; actor: boolean }[] = [];
  let others = 0;
  return {
    add(text) {
      const actor = /^\s*\{[^]{0,200}?"type"\s*:\s*"@xstate\.actor"/.test(text);
      kept.push({ text, actor });
      if (!actor) others += 1;
      if (others <= keep) return;
      let drop = others - Math.floor(keep / 2);
      others -= drop;
      const rest = kept.filter((m) => m.actor || drop-- <= 0);
      kept.splice(0, kept.length, ...rest);
    },
    all: () => kept.map((m) => m.text),
  };
}

/** Close every client after what was queued for it, then the servers and any socket left. */
async function stopRelay(http: Server, wss: WebSocketServer, sockets: Set<Duplex>, graceMs: number): Promise<void> {
  await Promise.all([...wss.clients].map((client) => closeClient(client, graceMs)));
  await new Promise<void>((resolve) => {
    wss.close(() => resolve());
  });
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
    for (const socket of sockets) socket.destroy();
  });
}

function listen(http: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new InspectorPortError(port, error.code ?? error.message));
    http.once('error', failed);
    http.listen(port, RELAY_HOST, () => {
      http.off('error', failed);
      resolve();
    });
  });
}

/** Close a connection after what was queued for it, waiting at most `graceMs` for the peer's close. */
export function closeClient(client: WebSocket, graceMs: number): Promise<void> {
  if (client.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => client.terminate(), graceMs);
    timer.unref();
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (client.readyState === WebSocket.CONNECTING) client.terminate();
    else if (client.readyState === WebSocket.OPEN) client.close(1001, 'inspection ended');
  });
}

/** The page: the inspector UI in a frame, fed with what the relay passes on (as @statelyai/inspect/server does). */
function bridgePage(inspectorUrl: string): string {
  const src = JSON.stringify(inspectorUrl).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>expctl inspector</title>
  <style>
    * { margin: 0; padding: 0; }
    html, body { height: 100%; }
    iframe { width: 100%; height: 100%; border: none; }
  </style>
</head>
<body>
  <iframe id="inspector"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    iframe.src = ${src};
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        for (const event of buffer) iframe.contentWindow.postMessage(event, '*');
        buffer.length = 0;
      }
    });
    const ws = new WebSocket('ws://' + location.host);
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>
`;
}

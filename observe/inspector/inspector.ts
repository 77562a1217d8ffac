import { setTimeout as sleep } from 'node:timers/promises';
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { applyRow, isEvent, type ReplayedActor, type Registry } from '../../engine/index.js';
import type { StoredRow } from '../../store/types.js';
import { closeClient, startRelay, WebSocket, type Relay, type WebSocketClient } from './relay.js';
import type { ExperimentWatcher } from '../../runner/watcher.js';

export { InspectorPortError, STATELY_INSPECTOR_URL } from './relay.js';

/**
 * Live and replayed inspection (docs/design.md §8) with @statelyai/inspect: every
 * lifecycle actor, event and snapshot of an experiment goes to a local relay
 * (runner/inspector-relay.ts), which passes it to the Stately inspector UI in
 * a browser. The engine runs no XState actors, so the inspection events are
 * made from the log's rows:
 *
 * - actor ids (`sessionId`) are the stream names (`demo-001/T0/00-empty/1`),
 *   the same live and replayed; `rootId` is the experiment's stream; `name`
 *   is the stream; `definition` is the JSON of the machine config (functions
 *   as `{ "type": name }`, as the inspector does it); `parentId` is the
 *   parent stream of the `actor.created` row (absent for the experiment);
 * - per row, in log order: `@xstate.actor` when the row is `actor.created`,
 *   then `@xstate.event` with the stored event `{ type, data }` (its `id` is
 *   the row's seq) and `@xstate.snapshot` with `{ value, context, status }`
 *   (and `output` once done), `event` being that event;
 * - `sourceId` of an event: the parent stream for `actor.created` (the cause,
 *   `operator`, for the experiment itself), the child stream for a child's
 *   notice (`run.finished` …, cause `child`), otherwise the row's cause:
 *   `operator`, `effect`, `timer` or `engine`;
 * - `createdAt` is the row's recorded time `at`, as the inspector writes it
 *   (epoch milliseconds as a string); actors announced when a run starts
 *   (existing ones, on resume) carry the time of the announcement.
 */

export interface InspectionOptions {
  /** Relay port on 127.0.0.1; a free one when absent. */
  port?: number;
  /** The inspector UI embedded by the relay page (default the hosted Stately inspector). */
  inspectorUrl?: string;
  /** Told about a problem inspecting (the run goes on regardless); each kind of problem once. */
  onError?: (error: unknown) => void;
  /** Time of announcements (default Date.now). */
  clock?: () => number;
}

export interface InspectionReplayOptions {
  registry: Registry;
  /** Recorded time differences are divided by this; 0 or Infinity: no delay (default 0). */
  speed?: number;
  /** No single wait is longer than this (ms, default 5000): a log resumed days later still replays. */
  maxGapMs?: number;
  /** Stops the replay (between rows). */
  signal?: AbortSignal;
}

export interface InspectionReplaySummary {
  rows: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The replay was stopped by its signal before the end. */
  aborted: boolean;
}

export interface Inspection {
  /** The page to open in a browser. */
  url: string;
  port: number;
  /** The relay's WebSocket address (other inspectors and receivers connect here). */
  wsUrl: string;
  /** For `driveExperiment({ watchers })`: streams the run; `ended` stops the inspection. */
  watcher: ExperimentWatcher;
  /** Streams stored rows of one experiment (snapshots rebuilt with applyRow), paced by their recorded times. */
  replay(rows: Iterable<StoredRow>, options: InspectionReplayOptions): Promise<InspectionReplaySummary>;
  /** Flush what was sent, close the inspector's connection, the viewers' connections and the relay. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start the relay on 127.0.0.1 (never opening a browser), connect an
 * inspector to it, and return the watcher that streams a run. Throws
 * InspectorPortError (EXPCTL_PORT_IN_USE) naming the port if it is taken.
 *
 * @example
 * const inspection = await startInspection({ port: 4242 });
 * io.out(`inspector: ${inspection.url}\n`);
 * try { await driveExperiment({ ...request, watchers: [inspection.watcher] }); } finally { await inspection.stop(); }
 */
export async function startInspection(options: InspectionOptions = {}): Promise<Inspection> {
  const relay = await startRelay({ port: options.port, inspectorUrl: options.inspectorUrl });
  let client: WebSocketClient;
  try {
    client = await connect(relay.wsUrl);
  } catch (error) {
    await relay.stop();
    throw error;
  }
  const reported = new Set<string>();
  const report = (error: unknown) => {
    const kind = error instanceof Error ? `${error.name}:${error.message}` : String(error);
    if (reported.has(kind)) return;
    reported.add(kind);
    options.onError?.(error);
  };
  const sink = new Sink(client, report);
  const emitter = new Emitter((event) => sink.send(event));
  const clock = options.clock ?? Date.now;
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= shutDown(sink, client, relay));
  return {
    url: relay.url,
    port: relay.port,
    wsUrl: relay.wsUrl,
    watcher: liveWatcher(emitter, clock, report, stop),
    replay: (rows, replayOptions) => replayRows(emitter, rows, replayOptions),
    stop,
  };
}

async function shutDown(sink: Sink, client: WebSocketClient, relay: Relay): Promise<void> {
  sink.closed = true;
  await sink.drained(2_000);
  // the close frame follows the queued messages; the relay has passed them on when it answers
  await closeClient(client, 1_000);
  await relay.stop(1_000);
}

function connect(url: string): Promise<WebSocketClient> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url);
    client.once('open', () => {
      client.off('error', reject);
      client.on('error', () => client.terminate());
      resolve(client);
    });
    client.once('error', reject);
  });
}

/** The inspector's WebSocket adapter: JSON text messages, with delivery tracked so stop() can flush. */
class Sink {
  closed = false;
  private pending = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly client: WebSocketClient, private readonly report: (error: unknown) => void) {}

  send(event: StatelyInspectionEvent): void {
    if (this.closed || this.client.readyState !== WebSocket.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(event);
    } catch (error) {
      this.report(error);
      return;
    }
    this.pending += 1;
    this.client.send(text, (error) => {
      if (error) this.report(error);
      this.pending -= 1;
      if (this.pending === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  drained(timeoutMs: number): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

type InspectedSnapshot = { value: unknown; context: unknown; status: AnyMachineSnapshot['status']; output?: unknown };

/**
 * Makes the inspection events with @statelyai/inspect's inspector, whose
 * `serialize` option puts in what a string actor id cannot carry there
 * (parent, root, definition, name, source, the recorded time, the seq).
 */
class Emitter {
  private stamp: Partial<Record<string, unknown>> | null = null;
  private readonly inspector;
  private readonly definitions = new WeakMap<AnyStateMachine, string>();

  constructor(send: (event: StatelyInspectionEvent) => void) {
    const serialize = (event: StatelyInspectionEvent) => (this.stamp ? ({ ...event, ...this.stamp } as StatelyInspectionEvent) : event);
    this.inspector = createInspector({ send }, { serialize, autoStart: false });
  }

  actor(actor: ReplayedActor, snapshot: InspectedSnapshot, root: string, createdAt: number): void {
    this.with({ name: actor.stream, rootId: root, parentId: actor.parent ?? undefined, definition: this.definition(actor.entry.machine), createdAt: String(createdAt) }, () =>
      this.inspector.actor(actor.stream, snapshot),
    );
  }

  row(row: StoredRow, actor: ReplayedActor, snapshot: InspectedSnapshot, createdAt: number): void {
    const root = row.experiment;
    const event = { type: row.event.type, data: row.event.data };
    if (row.event.type === 'actor.created') this.actor(actor, snapshot, root, createdAt);
    this.with({ rootId: root, sourceId: sourceOf(row), id: String(row.seq), createdAt: String(createdAt) }, () => this.inspector.event(row.stream, event));
    this.with({ rootId: root, createdAt: String(createdAt) }, () => this.inspector.snapshot(row.stream, snapshot, { event }));
  }

  private with(stamp: Record<string, unknown>, send: () => void): void {
    this.stamp = stamp;
    try {
      send();
    } finally {
      this.stamp = null;
    }
  }

  /** The machine config as JSON (functions as `{ type: name }`, like the inspector's own conversion). */
  private definition(machine: AnyStateMachine): string {
    let text = this.definitions.get(machine);
    if (text === undefined) {
      text = JSON.stringify(machine.config, (_key, value: unknown) => (typeof value === 'function' ? { type: value.name } : value));
      this.definitions.set(machine, text);
    }
    return text;
  }
}

function sourceOf(row: StoredRow): string {
  if (isEvent(row.event, 'actor.created')) return row.event.data.parent ?? row.cause;
  const child = (row.event.data as { child?: unknown } | undefined)?.child;
  if (row.cause === 'child' && typeof child === 'string') return `${row.stream}/${child}`;
  return row.cause;
}

function inspected(snapshot: AnyMachineSnapshot): InspectedSnapshot {
  return {
    value: snapshot.value,
    context: snapshot.context,
    status: snapshot.status,
    ...(snapshot.status === 'done' && snapshot.output !== undefined ? { output: snapshot.output } : {}),
  };
}

/** Parents before children, otherwise in the map's order (creation order after a replay). */
function parentsFirst(actors: Iterable<ReplayedActor>): ReplayedActor[] {
  const all = [...actors];
  const streams = new Set(all.map((a) => a.stream));
  const done = new Set<string>();
  const ordered: ReplayedActor[] = [];
  const visit = (actor: ReplayedActor, byStream: Map<string, ReplayedActor>) => {
    if (done.has(actor.stream)) return;
    done.add(actor.stream);
    const parent = actor.parent && streams.has(actor.parent) ? byStream.get(actor.parent) : undefined;
    if (parent) visit(parent, byStream);
    ordered.push(actor);
  };
  const byStream = new Map(all.map((a) => [a.stream, a]));
  for (const actor of all) visit(actor, byStream);
  return ordered;
}

function liveWatcher(emitter: Emitter, clock: () => number, report: (error: unknown) => void, stop: () => Promise<void>): ExperimentWatcher {
  // our own copy of the actors, advanced row by row, so each row gets the snapshot it led to
  const actors = new Map<string, ReplayedActor>();
  let registry: Registry | null = null;
  let root: string | null = null;
  return {
    started(key, existing, reg) {
      try {
        root = key;
        registry = reg;
        actors.clear();
        for (const [stream, actor] of existing) actors.set(stream, actor);
        const now = clock();
        for (const actor of parentsFirst(actors.values())) emitter.actor(actor, inspected(actor.snapshot), key, now);
      } catch (error) {
        report(error);
      }
    },
    rows(rows, live) {
      if (!registry || !root) return;
      for (const { row } of rows) {
        try {
          let actor: ReplayedActor;
          try {
            actor = applyRow(registry, actors, row);
          } catch (error) {
            // cannot happen unless the runtime and replay disagree; show what was recorded
            report(error);
            const current = live.get(row.stream);
            if (!current) continue;
            actor = current;
            actors.set(row.stream, current);
          }
          emitter.row(row, actor, inspected(actor.snapshot), Date.parse(row.at));
        } catch (error) {
          report(error);
        }
      }
    },
    async ended() {
      try {
        await stop();
      } catch (error) {
        report(error);
      }
    },
  };
}

async function replayRows(emitter: Emitter, rows: Iterable<StoredRow>, options: InspectionReplayOptions): Promise<InspectionReplaySummary> {
  const speed = options.speed ?? 0;
  const paced = speed > 0 && Number.isFinite(speed);
  const maxGapMs = options.maxGapMs ?? 5_000;
  const actors = new Map<string, ReplayedActor>();
  const summary: InspectionReplaySummary = { rows: 0, firstSeq: null, lastSeq: null, aborted: false };
  const start = performance.now();
  // when each row is due, in ms after the start: waits are scheduled, not summed, so they do not drift
  let due = 0;
  let previous: number | null = null;
  for (const row of rows) {
    const at = Date.parse(row.at);
    if (paced && previous !== null) due += Math.min(maxGapMs, Math.max(0, at - previous) / speed);
    previous = at;
    const wait = due - (performance.now() - start);
    try {
      if (paced && wait >= 1) await sleep(wait, undefined, { signal: options.signal });
      // otherwise let the socket write and signals arrive now and then
      else if (summary.rows % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
    } catch {
      // aborted while waiting
    }
    if (options.signal?.aborted) {
      summary.aborted = true;
      break;
    }
    const actor = applyRow(options.registry, actors, row);
    emitter.row(row, actor, inspected(actor.snapshot), at);
    summary.rows += 1;
    summary.firstSeq ??= row.seq;
    summary.lastSeq = row.seq;
  }
  return summary;
}

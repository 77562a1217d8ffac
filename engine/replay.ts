import type { AnyEventObject, AnyMachineSnapshot } from 'xstate';
import type { EventStore, StoredRow } from '../store/types.js';
import { diffJson } from './diff.js';
import { isEvent } from './events.js';
import { MalformedStreamError, ReplayDivergenceError } from './errors.js';
import { lookupMachine, type RegisteredMachine, type Registry } from './registry.js';
import { pureInitial, pureTransition } from './pure.js';
import { snapshotTexts } from './snapshot.js';

/** An actor rebuilt from its stream. */
export interface ReplayedActor {
  stream: string;
  entry: RegisteredMachine;
  snapshot: AnyMachineSnapshot;
  version: number;
  parent: string | null;
  /** When the actor was created: the recorded time (`at`) of its first row, and that row's seq (0 until it is appended). */
  created: string;
  createdSeq: number;
  /** Machine reference recorded on the stream's latest row. */
  recordedMachine: string;
}

/** I5: a stream written by another definition of a machine that still replays (a compatible change). */
export interface MachineChange {
  recorded: string;
  current: string;
  streams: number;
}

export interface ReplayResult {
  experiment: string;
  actors: Map<string, ReplayedActor>;
  rows: number;
  lastSeq: number;
  machineChanges: MachineChange[];
}

export interface ReplayOptions {
  /** Stop after this row (time travel). */
  toSeq?: number;
}

/**
 * I2/I4: rebuild every actor of an experiment from the log with XState's pure
 * transitions, checking each row's recorded state and snapshot hash. Runs no
 * effect. Throws ReplayDivergenceError at the first row that does not match.
 *
 * @example const { actors } = replay(openStore('results/expctl.db'), lifecycleRegistry, 'demo-001');
 */
export function replay(store: EventStore, registry: Registry, experiment: string, options: ReplayOptions = {}): ReplayResult {
  const actors = new Map<string, ReplayedActor>();
  let rows = 0;
  let lastSeq = 0;
  const apply = (row: StoredRow) => {
    applyRow(registry, actors, row);
    rows += 1;
    lastSeq = Math.max(lastSeq, row.seq);
  };
  for (const row of store.readExperiment(experiment, { toSeq: options.toSeq })) apply(row);
  return { experiment, actors, rows, lastSeq, machineChanges: machineChanges(actors) };
}

/** Apply one stored row to the actor map, verifying it (the single replay step). */
export function applyRow(registry: Registry, actors: Map<string, ReplayedActor>, row: StoredRow): ReplayedActor {
  const actor = actors.get(row.stream);
  let next: ReplayedActor;
  if (!actor) {
    if (row.version !== 1 || !isEvent(row.event, 'actor.created')) {
      throw new MalformedStreamError(row.stream, row.seq, `its first row is version ${row.version} (${row.event.type}), not version 1 (actor.created)`);
    }
    const entry = lookupMachine(registry, row.machine, row.stream);
    const [snapshot] = pureInitial(entry.machine, row.event.data.input);
    next = { stream: row.stream, entry, snapshot, version: 1, parent: row.event.data.parent, created: row.at, createdSeq: row.seq, recordedMachine: row.machine };
  } else {
    if (row.version !== actor.version + 1) {
      throw new MalformedStreamError(row.stream, row.seq, `version ${row.version} follows version ${actor.version}`);
    }
    const [snapshot] = pureTransition(actor.entry.machine, actor.snapshot, row.event as AnyEventObject);
    next = { ...actor, snapshot, version: row.version, recordedMachine: row.machine };
  }
  checkRow(row, next.snapshot);
  actors.set(row.stream, next);
  return next;
}

/** I4: the row records exactly the replayed snapshot: its stored state and context texts, and its snapshot hash. */
function checkRow(row: StoredRow, snapshot: AnyMachineSnapshot): void {
  const texts = snapshotTexts(snapshot);
  if (row.raw.state === texts.state && row.raw.context === texts.context && row.snapshotHash === texts.hash) return;
  const diff = diffJson({ state: row.state, context: row.context }, { state: snapshot.value, context: snapshot.context });
  if (diff.length === 0 && (row.raw.state !== texts.state || row.raw.context !== texts.context)) diff.push('same state and context, but the stored text of one is not their canonical JSON (the row was written outside expctl)');
  else if (diff.length === 0) diff.push(`same state and context, but the snapshot hash differs: its status is now "${snapshot.status}" (a state became, or stopped being, final)`);
  throw new ReplayDivergenceError(row.stream, row.version, row.seq, row.state, snapshot.value, diff);
}

export function machineChanges(actors: Map<string, ReplayedActor>): MachineChange[] {
  const changes = new Map<string, MachineChange>();
  for (const actor of actors.values()) {
    if (actor.recordedMachine === actor.entry.ref) continue;
    const key = `${actor.recordedMachine}→${actor.entry.ref}`;
    const change = changes.get(key) ?? { recorded: actor.recordedMachine, current: actor.entry.ref, streams: 0 };
    change.streams += 1;
    changes.set(key, change);
  }
  return [...changes.values()];
}

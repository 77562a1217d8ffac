import type { AnyEventObject, AnyMachineSnapshot } from 'xstate';
import type { ActorCreated } from '../schemas/engine-events.js';
import type { AnyEvent, AppendRow, Cause, StateValue } from '../store/types.js';
import { pureInitial, pureTransition } from './pure.js';
import type { RegisteredMachine } from './registry.js';
import { snapshotTexts, stateName } from './snapshot.js';
import { stateMeta } from './state-meta.js';

/** An effect the new state asks for; `key` (`stream/state/attempt`) is its idempotency key (I3). */
export interface EffectRequest {
  stream: string;
  state: string;
  effect: string;
  attempt: number;
  key: string;
}

/** The result of one pure transition: the next snapshot, the row that records it, the effects it starts. */
export interface Step {
  snapshot: AnyMachineSnapshot;
  row: AppendRow;
  effects: EffectRequest[];
}

export interface StepMeta {
  at: string;
  cause: Cause;
}

/** Start a new actor: its stream's first row is `actor.created` carrying the input (and parent stream). */
export function createStep(entry: RegisteredMachine, stream: string, input: unknown, parent: string | null, meta: StepMeta): Step {
  const [snapshot, actions] = pureInitial(entry.machine, input);
  const event: ActorCreated = { type: 'actor.created', data: { input, parent } };
  return build(entry, stream, 0, snapshot, actions, event, meta);
}

/** Apply an event to an actor at `version`; the caller appends `row` before starting `effects` (I1). */
export function eventStep(
  entry: RegisteredMachine,
  stream: string,
  current: { snapshot: AnyMachineSnapshot; version: number },
  event: AnyEvent,
  meta: StepMeta,
): Step {
  const [snapshot, actions] = pureTransition(entry.machine, current.snapshot, event as AnyEventObject);
  return build(entry, stream, current.version, snapshot, actions, event, meta);
}

function build(
  entry: RegisteredMachine,
  stream: string,
  version: number,
  snapshot: AnyMachineSnapshot,
  actions: readonly { type: string; params?: unknown }[],
  event: AnyEvent,
  meta: StepMeta,
): Step {
  // the texts the snapshot hash is computed from are the row's stored texts: serialised once
  const texts = snapshotTexts(snapshot);
  const row: AppendRow = {
    stream,
    expectedVersion: version,
    event,
    state: snapshot.value as StateValue,
    context: snapshot.context,
    snapshotHash: texts.hash,
    machine: entry.ref,
    at: meta.at,
    cause: meta.cause,
    texts: { state: texts.state, context: texts.context },
  };
  const effects = actions
    .filter((a) => a.type === 'startEffect')
    .map((a) => effectRequest(stream, snapshot, (a.params as { effect: string }).effect));
  return { snapshot, row, effects };
}

function effectRequest(stream: string, snapshot: AnyMachineSnapshot, effect: string): EffectRequest {
  const state = stateName(snapshot.value as StateValue);
  const attempt = (snapshot.context as { attempt?: number }).attempt ?? 1;
  return { stream, state, effect, attempt, key: `${stream}/${state}/${attempt}` };
}

/**
 * The effect an actor's current state is waiting for, if it is an action state
 * (I3: after replay, this effect has no completion in the log yet).
 */
export function pendingEffect(stream: string, snapshot: AnyMachineSnapshot): EffectRequest | null {
  const { effect } = stateMeta(snapshot);
  return effect ? effectRequest(stream, snapshot, effect) : null;
}

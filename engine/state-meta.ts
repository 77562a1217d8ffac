import type { AnyMachineSnapshot } from 'xstate';

/** The state meta the engine understands: how a machine tells the runtime what a state needs. */
export interface StateMeta {
  /** An action state: entering it starts this effect. */
  effect?: string;
  /** A waiting state: children of this machine type report their outcome to it. */
  awaits?: string;
  /** A wait until `context[field]` (epoch ms); then the engine sends `timer.elapsed` with this timer name. */
  timer?: { name: string; field: string };
  /** Reaching this state ends the actor's work for its parent, with this outcome. */
  outcome?: 'completed' | 'failed';
  /** The actor is done (nothing left to run) unless an operator resets it. */
  final?: boolean;
}

/** The merged meta of the snapshot's active states. */
export function stateMeta(snapshot: AnyMachineSnapshot): StateMeta {
  return Object.assign({}, ...Object.values(snapshot.getMeta() as Record<string, StateMeta | undefined>).filter(Boolean)) as StateMeta;
}

/** Whether the actor is done: a completion state (or an XState final state). */
export function isFinal(snapshot: AnyMachineSnapshot): boolean {
  return snapshot.status === 'done' || stateMeta(snapshot).final === true;
}

import type { ExperimentContext } from './experiment.machine.js';
import type { RunContext } from './run.machine.js';
import type { SubtestContext } from './subtest.machine.js';
import type { TierContext } from './tier.machine.js';

/** The context of each lifecycle machine, by machine id. */
export interface LifecycleContexts {
  experiment: ExperimentContext;
  tier: TierContext;
  subtest: SubtestContext;
  run: RunContext;
}

export type LifecycleMachineId = keyof LifecycleContexts;

/** What the accessors need of an actor: its machine and its snapshot (a replayed or live actor). */
interface ActorLike {
  stream: string;
  entry: { id: string };
  snapshot: { context: unknown };
}

/** Whether the actor is of the lifecycle machine `kind`. */
export function isLifecycleMachine<K extends LifecycleMachineId>(actor: ActorLike, kind: K): boolean {
  return actor.entry.id === kind;
}

/**
 * The typed context of a lifecycle actor; throws when the actor is of another
 * machine (a bug in the caller), so no context is read under the wrong type.
 *
 * @example const { tier, subtest, run } = contextOf(actor, 'run');
 */
export function contextOf<K extends LifecycleMachineId>(actor: ActorLike, kind: K): LifecycleContexts[K] {
  if (actor.entry.id !== kind) throw new Error(`actor ${actor.stream} is a ${actor.entry.id}, not a ${kind}`);
  return actor.snapshot.context as LifecycleContexts[K];
}

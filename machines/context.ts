import type { ExperimentContext } from './experiment.machine.js';
import type { LifecycleContext, ParentContext } from './lifecycle.js';
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

/** Who an actor is in the experiment: the ids its context carries (a tier has no subtest, the experiment none). */
export function identityOf(actor: ActorLike): { tier?: string; subtest?: string; run?: number } {
  const { tier, subtest, run } = actor.snapshot.context as { tier?: string; subtest?: string; run?: number };
  return { ...(tier !== undefined ? { tier } : {}), ...(subtest !== undefined ? { subtest } : {}), ...(run !== undefined ? { run } : {}) };
}

/** The part of every lifecycle actor's context that drives effects, retries, failure and resume. */
export function lifecycleOf(actor: ActorLike): LifecycleContext {
  return actor.snapshot.context as LifecycleContext;
}

/** The context of a parent (experiment, tier or subtest): the children it expects and their outcomes. */
export function parentOf(actor: ActorLike): ParentContext {
  if (!['experiment', 'tier', 'subtest'].includes(actor.entry.id)) throw new Error(`actor ${actor.stream} is a ${actor.entry.id}, which has no children`);
  return actor.snapshot.context as ParentContext;
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

import { isFinal, stateMeta, type ReplayedActor, type SpawnSpec } from '../engine/index.js';
import { lifecycleOf } from '../machines/index.js';
import type { LifecycleEvent, Operator } from '../schemas/events.js';

/** Queries over the live tree of actors: who is done, who waits for its children, what a fan-out creates. */

/**
 * Fan-out over children that may already exist (after an operator reset sent
 * their parent back before its fan-out): new ones are spawned, finished or
 * failed ones restart from their initial state, running ones are left alone.
 */
export function fanOut(actors: ReadonlyMap<string, ReplayedActor>, operator: Operator, children: SpawnSpec[]): { spawn: SpawnSpec[]; events: { stream: string; event: LifecycleEvent }[] } {
  const spawn = children.filter((c) => !actors.has(c.stream));
  const events = children.flatMap(({ stream }) => {
    const actor = actors.get(stream);
    if (!actor || !isDone(actor)) return [];
    const event: LifecycleEvent = { type: 'operator.reset', data: { to: String(actor.entry.machine.config.initial), operator } };
    return [{ stream, event }];
  });
  return { spawn, events };
}

/** Finished, or failed: nothing will happen to it unless someone acts. */
export function isDone(actor: ReplayedActor): boolean {
  return isFinal(actor.snapshot) || stateMeta(actor.snapshot).outcome === 'failed';
}

/** Failed: in a state whose outcome is `failed`. */
export function isFailed(actor: ReplayedActor): boolean {
  return stateMeta(actor.snapshot).outcome === 'failed';
}

/** The state in which a parent waits for its children (`meta.awaits`), or null for a run. */
export function waitingState(actor: ReplayedActor): string | null {
  const states = actor.entry.machine.states as Record<string, { meta?: { awaits?: string } }>;
  return Object.keys(states).find((name) => states[name]?.meta?.awaits) ?? null;
}

/** Where a failed or interrupted actor goes back to when resumed (every lifecycle context has it). */
export function resumeTarget(actor: ReplayedActor): string | null {
  return lifecycleOf(actor).resumeTo;
}

/** The position of `state` in its machine's lifecycle order (the definition order of its states). */
export function stateIndex(actor: ReplayedActor, state: string): number {
  return Object.keys(actor.entry.machine.states).indexOf(state);
}

/**
 * Where an actor stands in its lifecycle: its state's position, or, for a
 * failed or interrupted actor, the position of the state it resumes to (a
 * finished one stands past everything).
 */
export function positionOf(actor: ReplayedActor): number {
  const resumeTo = resumeTarget(actor);
  const meta = stateMeta(actor.snapshot);
  if (!isFinal(actor.snapshot) && resumeTo && (meta.outcome === 'failed' || !meta.effect)) return stateIndex(actor, resumeTo);
  return stateIndex(actor, String(actor.snapshot.value));
}

/** Whether a parent waits for its children now, or will as soon as it is resumed. */
export function waitsForChildren(actor: ReplayedActor): boolean {
  const waiting = waitingState(actor);
  if (!waiting) return false;
  return actor.snapshot.value === waiting || (resumeTarget(actor) === waiting && !isFinal(actor.snapshot));
}

/** The children of a parent stream, in creation order. */
export function childrenOf(actors: ReadonlyMap<string, ReplayedActor>, parent: string): ReplayedActor[] {
  return [...actors.values()].filter((a) => a.parent === parent);
}

/** A child's local id under its parent (`T0`, `00-empty`, `3`). */
export function localId(child: ReplayedActor): string {
  return child.stream.slice(child.parent!.length + 1);
}

import { createActor, initialTransition, transition, type AnyStateMachine, type AnyMachineSnapshot } from 'xstate';
import type { LifecycleEvent } from '../../schemas/events.js';

/** Given an actor that received `events`, its snapshot (pure transitions). */
export function given(machine: AnyStateMachine, input: unknown, events: readonly LifecycleEvent[] = []): AnyMachineSnapshot {
  let [snapshot] = initialTransition(machine, input);
  for (const event of events) [snapshot] = transition(machine, snapshot, event);
  return snapshot;
}

/** When `event` arrives: the next snapshot and the effects the transition starts. */
export function when(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: LifecycleEvent) {
  const [next, actions] = transition(machine, snapshot, event);
  const effects = (actions as { type: string; params?: unknown }[])
    .filter((a) => a.type === 'startEffect')
    .map((a) => (a.params as { effect: string }).effect);
  return { snapshot: next, state: next.value, context: next.context as Record<string, unknown>, effects };
}

/** The same events through a live, started actor (the independent reference for replay tests). */
export function live(machine: AnyStateMachine, input: unknown, events: readonly LifecycleEvent[]): AnyMachineSnapshot[] {
  const actor = createActor(machine, { input }).start();
  const snapshots = [actor.getSnapshot()];
  for (const event of events) {
    actor.send(event);
    snapshots.push(actor.getSnapshot());
  }
  actor.stop();
  return snapshots;
}

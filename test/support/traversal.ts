import type { AnyMachineSnapshot } from 'xstate';
import { pendingEffect } from '../../engine/index.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import { completed, failed, finished, interrupted, reset, resumed, retried, timerElapsed } from './events.js';

/** Outputs of the effects whose completion carries data the machine records. */
const outputs: Record<string, unknown> = {
  loadTierConfig: { subtests: ['a'] },
  selectBestSubtest: { subtest: 'a', reason: 'highest median score' },
};

/** Operator resets exercised by the full alphabet: back to the start, and (parents) to the waiting state. */
const RESET_TARGETS: Record<string, string[]> = {
  run: ['run_pending', 'run_agent_complete'],
  subtest: ['subtest_pending', 'subtest_runs_in_progress'],
  tier: ['tier_pending', 'tier_subtests_running'],
  experiment: ['exp_initializing', 'exp_tiers_running'],
};

const childKind: Record<string, 'run' | 'subtest' | 'tier' | undefined> = { experiment: 'tier', tier: 'subtest', subtest: 'run' };

/**
 * Every event that could reach an actor in this snapshot, with payloads:
 * its effect's completion and failures (retryable, fatal, rate limit),
 * child reports, timers and operator actions. Events a state ignores are
 * harmless self-loops for the traversal. The `main` alphabet leaves out what
 * makes the graph too dense to enumerate every simple path (children retried,
 * child reports outside the waiting state); the `full` one has everything.
 */
export function candidateEvents(machineId: string, snapshot: AnyMachineSnapshot, alphabet: 'full' | 'main' = 'full'): LifecycleEvent[] {
  const events: LifecycleEvent[] = [];
  const pending = pendingEffect('x', snapshot);
  if (pending) {
    const { effect, attempt } = pending;
    events.push(completed(effect, attempt, outputs[effect] ?? null), failed(effect, attempt, { retryable: true }), failed(effect, attempt));
    if (effect === 'runAgent') events.push(failed(effect, attempt, { retryAt: 1_000 }));
  }
  const kind = childKind[machineId];
  const expected = (snapshot.context as { expected?: string[] }).expected ?? [];
  if (kind && (alphabet === 'full' || isAwaiting(snapshot))) {
    for (const id of expected) events.push(finished(kind, id, 'completed'), finished(kind, id, 'failed'));
    if (alphabet === 'full') for (const id of expected) events.push(retried(kind, id));
  }
  events.push(timerElapsed('retryAfter', 1_000), resumed());
  if (machineId === 'experiment') events.push(interrupted());
  // only from a first attempt: each reset starts a new attempt, and the graph must stay finite and small
  const { attempt } = snapshot.context as { attempt: number };
  if (alphabet === 'full' && attempt === 1) for (const to of RESET_TARGETS[machineId] ?? []) events.push(reset(to));
  return events;
}

/** Coarse serialisation: what decides where events lead, except attempt counters. */
export const coarseState = (s: AnyMachineSnapshot) => {
  const { children, resumeTo } = s.context as { children?: unknown; resumeTo: unknown };
  return JSON.stringify([s.value, children ?? null, resumeTo]);
};

/** Full serialisation: state value and context (distinguishes attempts and child outcomes). */
export const fullState = (s: AnyMachineSnapshot) => JSON.stringify([s.value, s.context]);

/**
 * Re-target an effect event at the actor's current attempt. Paths found on a
 * coarse graph (one vertex per state value) carry the attempt of the vertex's
 * first visit; along another path the same step means "the current attempt".
 */
export function concretize(event: LifecycleEvent, snapshot: AnyMachineSnapshot): LifecycleEvent {
  if (event.type !== 'effect.completed' && event.type !== 'effect.failed') return event;
  const pending = pendingEffect('x', snapshot);
  return pending ? ({ ...event, data: { ...event.data, attempt: pending.attempt } } as LifecycleEvent) : event;
}

function isAwaiting(snapshot: AnyMachineSnapshot): boolean {
  return Object.values(snapshot.getMeta() as Record<string, { awaits?: string }>).some((m) => m?.awaits);
}

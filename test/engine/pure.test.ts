import { initialTransition, transition, type AnyEventObject, type AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { pureInitial, pureTransition, restoreSnapshot } from '../../engine/pure.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { candidateEvents, fullState } from '../support/traversal.js';

const cases = [
  { id: 'run', input: { tier: 'T0', subtest: 'a', run: 1, maxAttempts: 2 } },
  { id: 'subtest', input: { tier: 'T0', subtest: 'a', runs: 2, maxAttempts: 2 } },
  { id: 'tier', input: { tier: 'T0', maxAttempts: 2 } },
  { id: 'experiment', input: { experiment: 'e', tiers: [{ id: 'T0', dependsOn: [] }], failFast: true, maxAttempts: 2 } },
];

const essence = ([snapshot, actions]: [AnyMachineSnapshot, readonly { type: string; params?: unknown }[]]) => ({
  value: snapshot.value, context: snapshot.context, status: snapshot.status, output: snapshot.output,
  actions: actions.map((a) => ({ type: a.type, params: a.params })),
});

describe('pure transitions with a reused inert scope', () => {
  it.each(cases)('give what XState\'s transition() gives, for every event in every reachable $id state', ({ id, input }) => {
    const machine = lifecycleRegistry.get(id)!.machine;
    const first = pureInitial(machine, input);
    expect(essence(first)).toEqual(essence(initialTransition(machine, input) as never));
    const seen = new Set<string>([fullState(first[0])]);
    const queue = [first[0]];
    let compared = 0;
    while (queue.length > 0 && seen.size < 1500) {
      const snapshot = queue.shift()!;
      for (const event of candidateEvents(id, snapshot)) {
        const ours = pureTransition(machine, snapshot, event as AnyEventObject);
        expect(essence(ours), `${JSON.stringify(snapshot.value)} + ${event.type}`).toEqual(essence(transition(machine, snapshot, event as never) as never));
        compared += 1;
        const key = fullState(ours[0]);
        if (!seen.has(key) && ((ours[0].context as { attempt: number }).attempt ?? 0) <= 3) {
          seen.add(key);
          queue.push(ours[0]);
        }
      }
    }
    expect(compared).toBeGreaterThan(50);
  });

  it.each(cases)('restore a recorded $id state as resolveState does, and step on from it the same way, whichever stream used that state first', ({ id, input }) => {
    const machine = lifecycleRegistry.get(id)!.machine;
    const queue = [pureInitial(machine, input)[0]];
    const seen = new Set<string>();
    let restoredStates = 0;
    while (queue.length > 0 && seen.size < 400) {
      const snapshot = queue.shift()!;
      const key = fullState(snapshot);
      if (seen.has(key)) continue;
      seen.add(key);
      const context = JSON.parse(canonicalJson(snapshot.context)) as Record<string, unknown>;
      const ours = restoreSnapshot(machine, canonicalJson(snapshot.value), context);
      const theirs = machine.resolveState({ value: snapshot.value as never, context });
      expect({ ...essence([ours, []]), tags: [...ours.tags] }).toEqual({ ...essence([theirs, []]), tags: [...theirs.tags] });
      restoredStates += 1;
      for (const event of candidateEvents(id, snapshot)) {
        expect(essence(pureTransition(machine, ours, event as AnyEventObject))).toEqual(essence(pureTransition(machine, theirs, event as AnyEventObject)));
        queue.push(pureTransition(machine, snapshot, event as AnyEventObject)[0]);
      }
    }
    expect(restoredStates).toBeGreaterThan(10);
  });
});

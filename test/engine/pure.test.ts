import { initialTransition, transition, type AnyEventObject, type AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { pureInitial, pureTransition } from '../../engine/pure.js';
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
});

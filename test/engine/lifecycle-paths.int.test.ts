import { join } from 'node:path';
import { getShortestPaths, getSimplePaths, type StatePath } from '@xstate/graph';
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { applyRow, createStep, essenceOf, eventStep, type ReplayedActor } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import { live } from '../support/given.js';
import { useTempDir } from '../support/temp.js';
import { candidateEvents, coarseState, concretize, fullState } from '../support/traversal.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();
type Path = StatePath<AnyMachineSnapshot, LifecycleEvent>;

const cases = [
  { name: 'run', id: 'run', input: { tier: 'T0', subtest: 'a', run: 1, maxAttempts: 2 } },
  { name: 'subtest', id: 'subtest', input: { tier: 'T0', subtest: 'a', runs: 1, maxAttempts: 2 } },
  { name: 'tier', id: 'tier', input: { tier: 'T0', maxAttempts: 2 } },
  { name: 'experiment', id: 'experiment', input: { experiment: 'e', tiers: [{ id: 'T0', dependsOn: [] }], failFast: false, maxAttempts: 2 } },
  { name: 'experiment with failFast', id: 'experiment', input: { experiment: 'e', tiers: [{ id: 'T0', dependsOn: [] }], failFast: true, maxAttempts: 2 } },
];
/** With two children, outcomes combine; attempts are bounded so the graph is finite. */
const wideInput = (id: string, input: object) => (id === 'subtest' ? { ...input, runs: 2 } : input);

function simplePaths(machine: AnyStateMachine, input: unknown): Path[] {
  return getSimplePaths(machine, {
    input,
    events: (s: AnyMachineSnapshot) => candidateEvents(machine.id, s, 'main'),
    // one vertex per state value, child outcomes and resume target: loops (retry, resume) are left to the
    // shortest paths; effect events are re-targeted at the current attempt when a path is executed (concretize)
    serializeState: coarseState,
  }) as Path[];
}

function shortestPaths(machine: AnyStateMachine, input: unknown): Path[] {
  return getShortestPaths(machine, {
    input,
    events: (s: AnyMachineSnapshot) => candidateEvents(machine.id, s),
    serializeState: fullState,
    // counters bound the graph: attempts, and rate limits (a reset can lead to the agent step again)
    stopWhen: (s: AnyMachineSnapshot) => (s.context as { attempt: number }).attempt > 3 || ((s.context as { rateLimits?: number }).rateLimits ?? 0) > 1,
  }) as Path[];
}

/**
 * Append each path to a real SQLite file (one experiment per path, one
 * transaction per path), reopen the file, replay each stream row by row and
 * check that the snapshot after every prefix equals a live actor's (I1, I2).
 */
function checkPathsThroughSqlite(machineId: string, input: unknown, paths: Path[]): number {
  const entry = lifecycleRegistry.get(machineId)!;
  const file = join(tempDir(), 'expctl.db');
  const written = openLog(file);
  const eventsOf = paths.map((path, i) => {
    const stream = `path-${i}`;
    let step = createStep(entry, stream, input, null, { at: '2026-01-01T00:00:00.000Z', cause: 'engine' });
    const rows = [step.row];
    const events = path.steps.filter((s) => (s.event.type as string) !== 'xstate.init').map((s, v) => {
      const event = concretize(s.event, step.snapshot);
      step = eventStep(entry, stream, { snapshot: step.snapshot, version: v + 1 }, event, { at: '2026-01-01T00:00:01.000Z', cause: 'effect' });
      rows.push(step.row);
      return event;
    });
    written.append(stream, rows);
    return events;
  });
  written.close();

  const store = openLog(file, { readonly: true });
  let prefixes = 0;
  eventsOf.forEach((events, i) => {
    const reference = live(entry.machine, input, events);
    const actors = new Map<string, ReplayedActor>();
    const rows = store.readStream(`path-${i}`);
    expect(rows).toHaveLength(events.length + 1);
    rows.forEach((row, k) => {
      expect(essenceOf(applyRow(lifecycleRegistry, actors, row).snapshot)).toEqual(essenceOf(reference[k]!));
      prefixes += 1;
    });
    expect(reference[events.length]!.value).toEqual(paths[i]!.state.value);
  });
  store.close();
  return prefixes;
}

describe('every lifecycle path survives a round trip through SQLite (I1, I2)', () => {
  it.each(cases)('$name machine: every simple path, replayed at every prefix, equals the live actor', ({ id, input }) => {
    const machine = lifecycleRegistry.get(id)!.machine;
    const paths = simplePaths(machine, input);
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect(reached).toEqual(new Set(Object.keys(machine.states).map((s) => JSON.stringify(s))));
    expect(checkPathsThroughSqlite(id, input, paths)).toBeGreaterThan(paths.length);
  });

  it.each(cases)('$name machine: the shortest path to every reachable state and context, with retries, resumes and operator resets', ({ id, input }) => {
    const machine = lifecycleRegistry.get(id)!.machine;
    const wide = wideInput(id, input);
    const paths = shortestPaths(machine, wide);
    expect(paths.length).toBeGreaterThan(Object.keys(machine.states).length);
    checkPathsThroughSqlite(id, wide, paths);
  });
});

import type { AnyMachineSnapshot } from 'xstate';
import { createStep, eventStep, type RegisteredMachine } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import type { AppendRow } from '../../store/types.js';
import { completed } from './events.js';

export const runEntry = lifecycleRegistry.get('run')!;
export const runInput = (run = 1) => ({ tier: 'T0', subtest: 's1', run, maxAttempts: 3 });

/** Rows of a real actor: `actor.created` then each event, with versions counted from `fromVersion`. */
export function actorRows(
  entry: RegisteredMachine,
  stream: string,
  input: unknown,
  events: readonly LifecycleEvent[],
  at = '2026-01-01T00:00:00.000Z',
): { rows: AppendRow[]; snapshots: AnyMachineSnapshot[] } {
  let step = createStep(entry, stream, input, null, { at, cause: 'engine' });
  const rows = [step.row];
  const snapshots = [step.snapshot];
  events.forEach((event, i) => {
    step = eventStep(entry, stream, { snapshot: step.snapshot, version: i + 1 }, event, { at, cause: 'effect' });
    rows.push(step.row);
    snapshots.push(step.snapshot);
  });
  return { rows, snapshots };
}

/** A run stream: created, then `n` completed steps. */
export function runRows(stream: string, n = 3, run = 1): AppendRow[] {
  const effects = ['createRunDir', 'createWorktree', 'applyResources', 'commitResources', 'writePrompt', 'runAgent'];
  return actorRows(runEntry, stream, runInput(run), effects.slice(0, n).map((e) => completed(e))).rows;
}

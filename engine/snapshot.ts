import type { AnyMachineSnapshot } from 'xstate';
import { canonicalJson } from '../util/canonical-json.js';
import { sha256 } from '../util/hash.js';
import type { StateValue } from '../store/types.js';

/** The part of a snapshot that the log records and replay must reproduce exactly (I2, I4). */
export interface SnapshotEssence {
  status: string;
  value: StateValue;
  context: unknown;
}

export function essenceOf(snapshot: AnyMachineSnapshot): SnapshotEssence {
  return { status: snapshot.status, value: snapshot.value as StateValue, context: snapshot.context };
}

/** SHA-256 of the canonical JSON of status, state value and context. */
export function snapshotHash(snapshot: AnyMachineSnapshot): string {
  return sha256(canonicalJson(essenceOf(snapshot)));
}

/** Whether two recorded state values are the same state (null: no actor yet). */
export function sameState(a: StateValue | null, b: StateValue | null): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A state value as one readable string: `run_failed`, or `parent.child` for nested states. */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, inner]) => `${key}.${stateName(inner)}`)
    .join(',');
}

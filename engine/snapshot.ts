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
  return snapshotTexts(snapshot).hash;
}

/** What a row records of a snapshot: the canonical JSON of its state value and context (the stored texts), and its snapshot hash. */
export interface SnapshotTexts {
  state: string;
  context: string;
  hash: string;
}

/**
 * The texts and hash of a snapshot, each value serialised once: the hash is
 * over canonicalJson(essenceOf(snapshot)), whose text is made of the other
 * two (its keys sorted: context, status, value; undefined ones left out).
 */
export function snapshotTexts(snapshot: AnyMachineSnapshot): SnapshotTexts {
  const state = canonicalJson(snapshot.value);
  const context = canonicalJson(snapshot.context);
  return { state, context, hash: essenceHash(snapshot.status, snapshot.value === undefined ? undefined : state, snapshot.context === undefined ? undefined : context) };
}

/** The snapshot hash from the texts of its parts (undefined: a part the essence does not have). */
export function essenceHash(status: string, state: string | undefined, context: string | undefined): string {
  const parts = [context === undefined ? null : `"context":${context}`, `"status":${JSON.stringify(status)}`, state === undefined ? null : `"value":${state}`];
  return sha256(`{${parts.filter((p) => p !== null).join(',')}}`);
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

import type { AnyStateMachine } from 'xstate';
import { canonicalJson } from '../util/canonical-json.js';
import { ExpctlError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';

/**
 * The events an actor of a machine sends its parent: `finished` when it
 * reaches a state with an outcome, `retried` when a failed one is retried.
 * The parent's definition handles events of these types.
 */
export interface Notices {
  finished: string;
  retried: string;
}

/** A machine as registered: the XState machine, and the notices its actors send their parents (none for a root). */
export interface MachineDeclaration {
  machine: AnyStateMachine;
  notices?: Notices;
}

/** A machine the engine can drive, with the identity recorded on every row (I5). */
export interface RegisteredMachine {
  id: string;
  version: string;
  /** First 16 hex digits of the SHA-256 of the machine's definition. */
  hash: string;
  /** `id@version#hash`, as stored in the `machine` column. */
  ref: string;
  machine: AnyStateMachine;
  notices: Notices | null;
}

export type Registry = ReadonlyMap<string, RegisteredMachine>;

/**
 * Hash of a machine's structure: states, transitions, guard and action names
 * with their params, meta. Implementations (function bodies) are not hashed,
 * since their compiled text differs between builds; behavioural changes there
 * are caught by replay verification and should bump the machine's version.
 */
export function definitionHash(machine: AnyStateMachine): string {
  const structure = JSON.parse(JSON.stringify(machine.definition, (key, value) => (key === 'toJSON' ? undefined : value)));
  return sha256(canonicalJson(structure)).slice(0, 16);
}

export function registerMachine(declared: AnyStateMachine | MachineDeclaration): RegisteredMachine {
  const { machine, notices } = 'machine' in declared ? declared : { machine: declared, notices: undefined };
  const version = machine.version ?? '0';
  const hash = definitionHash(machine);
  return { id: machine.id, version, hash, ref: `${machine.id}@${version}#${hash}`, machine, notices: notices ?? null };
}

/**
 * @example const registry = createRegistry([{ machine: parentMachine }, { machine: childMachine, notices: { finished: 'child.finished', retried: 'child.retried' } }]);
 */
export function createRegistry(machines: readonly (AnyStateMachine | MachineDeclaration)[]): Registry {
  const registry = new Map<string, RegisteredMachine>();
  for (const declared of machines) {
    const entry = registerMachine(declared);
    if (registry.has(entry.id)) throw new Error(`two machines share the id "${entry.id}"`);
    registry.set(entry.id, entry);
  }
  return registry;
}

/** Parse a stored `id@version#hash` reference. */
export function parseMachineRef(ref: string): { id: string; version: string; hash: string } {
  const match = /^([^@#]+)@([^@#]+)#([0-9a-f]+)$/.exec(ref);
  if (!match) throw new ExpctlError('EXPCTL_BAD_MACHINE_REF', `malformed machine reference "${ref}"`);
  return { id: match[1]!, version: match[2]!, hash: match[3]! };
}

export class UnknownMachineError extends ExpctlError {
  constructor(readonly machineId: string, readonly stream: string) {
    super(
      'EXPCTL_UNKNOWN_MACHINE',
      `stream ${stream} was written by machine "${machineId}", which this expctl does not know`,
      'use the expctl version that wrote this log',
    );
  }
}

export function lookupMachine(registry: Registry, ref: string, stream: string): RegisteredMachine {
  const { id } = parseMachineRef(ref);
  const entry = registry.get(id);
  if (!entry) throw new UnknownMachineError(id, stream);
  return entry;
}

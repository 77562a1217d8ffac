/*
 * Coverage's shortcuts (engine/coverage.ts): what a step took, decided from
 * the machine's definition and the states the rows record where that is
 * certain, so that most rows need neither their context parsed nor XState's
 * microsteps computed. Where it is not certain they say so, and coverage
 * evaluates the step exactly.
 */
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import type { StateValue } from '../store/types.js';
import { indexedGraph } from './graph.js';
import { sameState } from './snapshot.js';

const eventlessNodes = new WeakMap<AnyStateMachine, AnyStateNode[]>();

/**
 * Whether an eventless transition can follow the step: some state with
 * `always` transitions is among the states active before it, the targets it
 * enters, or their ancestors and descendants (what can be active after it).
 * When none is, the microsteps need not be computed (the costly part, which
 * most rows do not need).
 */
export function mayTakeEventless(machine: AnyStateMachine, states: readonly AnyStateNode[]): boolean {
  let withAlways = eventlessNodes.get(machine);
  if (!withAlways) {
    withAlways = [...indexedGraph(machine).nodeOf.values()].filter((n) => (n.always?.length ?? 0) > 0);
    eventlessNodes.set(machine, withAlways);
  }
  const within = (inner: AnyStateNode, outer: AnyStateNode) => {
    for (let n: AnyStateNode | undefined = inner; n; n = n.parent) if (n === outer) return true;
    return false;
  };
  return withAlways.some((e) => states.some((s) => within(e, s) || within(s, e)));
}

/**
 * The row records the state it met (`after`), the event took only internal
 * transitions, and every eventless transition of the machine leaves its
 * state for good (a target, and no way back through other eventless ones):
 * then none fired (the usual case of a child's notice to a parent that still
 * waits), and the microsteps need not be computed.
 */
export function stayedWithoutEventless(machine: AnyStateMachine, before: AnyMachineSnapshot, selected: readonly AnyTransitionDefinition[], after: StateValue): boolean {
  return sameState(before.value as StateValue, after) && selected.every((t) => (t.target?.length ?? 0) === 0) && eventlessLeaveForGood(machine);
}

const eventlessLeaves = new WeakMap<AnyStateMachine, boolean>();

/** Every eventless transition has targets other than its own state, and following them never comes back (they form no cycle). */
function eventlessLeaveForGood(machine: AnyStateMachine): boolean {
  let leaving = eventlessLeaves.get(machine);
  if (leaving === undefined) {
    const always = [...indexedGraph(machine).nodeOf.values()].flatMap((n) => ((n.always ?? []) as AnyTransitionDefinition[]).map((t) => ({ n, targets: (t.target ?? []) as AnyStateNode[] })));
    const next = new Map<AnyStateNode, AnyStateNode[]>();
    for (const { n, targets } of always) next.set(n, [...(next.get(n) ?? []), ...targets]);
    const cycle = (start: AnyStateNode) => {
      const seen = new Set<AnyStateNode>();
      const visit = (n: AnyStateNode): boolean => (next.get(n) ?? []).some((m) => m === start || (!seen.has(m) && (seen.add(m), visit(m))));
      return visit(start);
    };
    leaving = always.every(({ targets }) => targets.length > 0) && [...next.keys()].every((n) => !cycle(n));
    eventlessLeaves.set(machine, leaving);
  }
  return leaving;
}

/** A step as the rows record it: the state before (a top-level state), its context text, the event's type, the state and context text after. */
export interface RecordedStep {
  before: string;
  beforeContext: string;
  event: string;
  after: StateValue;
  afterContext: string;
}

/**
 * The transitions a recorded step took, when the definition and the recorded
 * states leave no doubt; null otherwise. No doubt: no eventless transition can
 * follow it, and the event has at most one transition to choose from in that
 * state (the state's own, else the root's). Then a transition to another
 * state was taken exactly when the row records that state, and an internal
 * one exactly when the context changed; a step that records neither
 * (a guard that failed, or an internal transition that changed nothing) is
 * decided exactly.
 */
export function recordedStep(machine: AnyStateMachine, step: RecordedStep): AnyTransitionDefinition[] | null {
  const node = (machine.root.states as Record<string, AnyStateNode>)[step.before];
  if (!node || hasWildcards(machine)) return null;
  const own = (node.transitions.get(step.event) ?? []) as AnyTransitionDefinition[];
  const root = (machine.root.transitions.get(step.event) ?? []) as AnyTransitionDefinition[];
  const candidates = [...own, ...root];
  const eventless = mayTakeEventless(machine, [node, machine.root, ...candidates.flatMap((t) => t.target ?? [])]);
  // one may follow: then only a step that records the state it met, in a machine whose eventless transitions leave for good, took none
  if (eventless && !(sameState(step.after, step.before) && eventlessLeaveForGood(machine))) return null;
  if (candidates.length === 0) return [];
  if (candidates.length > 1) return null;
  const [t] = candidates as [AnyTransitionDefinition];
  const targets = (t.target ?? []) as AnyStateNode[];
  if (targets.length === 0) return step.afterContext !== step.beforeContext && sameState(step.after, step.before) ? [t] : null;
  if (targets.length !== 1 || targets[0] === node || targets[0]!.parent !== machine.root || t.reenter) return null;
  if (sameState(step.after, targets[0]!.key)) return [t];
  return null;
}

const wildcards = new WeakMap<AnyStateMachine, boolean>();

/** Transitions on `*` or `x.*` events match more than their own type: not for shortcuts. */
function hasWildcards(machine: AnyStateMachine): boolean {
  let found = wildcards.get(machine);
  if (found === undefined) {
    found = [...indexedGraph(machine).nodeOf.values()].some((n) => [...(n.transitions.keys() as Iterable<string>)].some((type) => type.includes('*')));
    wildcards.set(machine, found);
  }
  return found;
}

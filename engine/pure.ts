import { createActor, type AnyActorScope, type AnyEventObject, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';

/*
 * XState's pure transitions, without their per-call set-up. `transition()` and
 * `initialTransition()` build a throw-away actor scope on every call: a new
 * actor, whose constructor computes (and discards) the machine's initial
 * snapshot by running its context factory without input; for a machine whose
 * factory reads its input, that is a TypeError thrown and caught, stack trace
 * and all, on every transition. That set-up was most of the cost of a replay.
 * Here each machine gets one inert scope, made once and reused: the same
 * `machine.transition(snapshot, event, scope)` call that `transition()` makes,
 * with the same results (test/engine/pure.test.ts compares them).
 *
 * A scope may be shared because the engine's machines are pure (they start
 * nothing and spawn nothing: their effects are named in state meta and run by
 * the engine), so nothing registers in the scope's system or reads its actor.
 */

type Action = { type: string; params?: unknown };
type Inert = { scope: AnyActorScope; actions: Action[] };

const scopes = new WeakMap<AnyStateMachine, Inert>();

function inertScope(machine: AnyStateMachine): Inert {
  let inert = scopes.get(machine);
  if (inert) return inert;
  // the actor is never started; its constructor's initial snapshot (an error one without input) is never read
  const self = createActor(machine);
  const actions: Action[] = [];
  const scope = {
    self,
    system: self.system,
    id: '',
    sessionId: '',
    logger: () => {},
    defer: () => {},
    emit: () => {},
    stopChild: () => {},
    actionExecutor: (action: Action) => void actions.push(action),
  } as unknown as AnyActorScope;
  inert = { scope, actions };
  scopes.set(machine, inert);
  return inert;
}

/** As XState's `initialTransition(machine, input)`: the first snapshot and the actions it would execute, none executed. */
export function pureInitial(machine: AnyStateMachine, input: unknown): [AnyMachineSnapshot, Action[]] {
  const { scope, actions } = inertScope(machine);
  actions.length = 0;
  const snapshot = machine.getInitialSnapshot(scope, input) as AnyMachineSnapshot;
  return [snapshot, actions.splice(0)];
}

/** As XState's `transition(machine, snapshot, event)`: the next snapshot and the actions it would execute, none executed. */
export function pureTransition(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: AnyEventObject): [AnyMachineSnapshot, Action[]] {
  const { scope, actions } = inertScope(machine);
  actions.length = 0;
  const next = machine.transition(snapshot, event, scope) as AnyMachineSnapshot;
  return [next, actions.splice(0)];
}

const restored = new WeakMap<AnyStateMachine, Map<string, AnyMachineSnapshot>>();

/**
 * As `machine.resolveState({ value, context })` for a state recorded as its
 * canonical JSON `stateText`: the state nodes, value and tags of a state are
 * resolved once per machine and state, and each snapshot made from them gets
 * its own context (and its own empty children and history: the engine's
 * machines have neither). A resume restores every stream of a log this way:
 * 10^5 streams are a few dozen states.
 */
export function restoreSnapshot(machine: AnyStateMachine, stateText: string, context: Record<string, unknown>): AnyMachineSnapshot {
  let byState = restored.get(machine);
  if (!byState) restored.set(machine, (byState = new Map()));
  let template = byState.get(stateText);
  if (!template) byState.set(stateText, (template = machine.resolveState({ value: JSON.parse(stateText) as never, context: {} }) as AnyMachineSnapshot));
  return { ...template, context, children: {}, historyValue: {} } as AnyMachineSnapshot;
}

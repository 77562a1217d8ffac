/**
 * The definition graph of an XState machine: its states and every
 * transition (one edge per target, eventless `always` ones included), read
 * from the machine's state nodes. The one extraction behind the diagrams
 * (observe/diagram.ts), coverage and the viewer's statecharts. Generic: it
 * reads only the machine definition, and knows nothing of experiments.
 * Deterministic: states in document order, transitions in definition order
 * (each state's, then the root's).
 */

import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** Source of a transition defined at the machine root: it applies in any state. */
export const ANY_STATE = '*';

/** Event name of eventless (`always`) transitions; those also carry `eventless: true`. */
export const ALWAYS = 'always';

/** A guard as the definition names it: `{ type, params }`; `and`/`or`/`not` nest `guards`. */
export interface GuardRef {
  type: string;
  params?: unknown;
  guards?: GuardRef[];
}

/** An action as the definition names it. */
export interface ActionRef {
  type: string;
  params?: unknown;
}

export interface GraphState {
  /** Path from the root, dot-separated (`run_pending`; `parent.child` when nested). */
  id: string;
  /** The state's own key. */
  label: string;
  /** Id of the enclosing state; null at the top level. */
  parent: string | null;
  /** The initial state of its parent (of the machine, at the top level). */
  initial: boolean;
  /** `meta.final === true`, or an XState final state. */
  final: boolean;
  meta: Record<string, unknown>;
}

/**
 * One edge of the definition: a transition to one of its targets. The edge
 * identity is (source, event, target); `id` spells it, suffixed ` #2`, ` #3`
 * in definition order if a machine defines that triple more than once.
 */
export interface GraphTransition {
  id: string;
  /** A state id, or `*` (ANY_STATE) for a transition defined at the machine root. */
  source: string;
  /** A state id; null for a targetless (internal) transition: actions only, no exit or entry. */
  target: string | null;
  /** The event type; `always` for an eventless transition. */
  event: string;
  eventless?: true;
  guard?: GuardRef;
  actions?: ActionRef[];
  /** A transition to its own source that exits and re-enters it (entry actions run again). */
  reenter?: true;
  /** `event [guard]`, as the diagrams print it (guard params only when they add something). */
  label: string;
}

export interface MachineGraph {
  id: string;
  states: GraphState[];
  transitions: GraphTransition[];
}

/** The graph plus, for each transition definition, the edges it makes (one per target), for attributing taken transitions. */
export interface IndexedGraph {
  graph: MachineGraph;
  edgesOf: ReadonlyMap<AnyTransitionDefinition, readonly GraphTransition[]>;
  /** The machine's state node of a state id (`*` is the root). */
  nodeOf: ReadonlyMap<string, AnyStateNode>;
}

/**
 * @example const graph = machineGraph(runMachine); // { id: 'run', states: [...], transitions: [...] }
 */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  return indexedGraph(machine).graph;
}

const cache = new WeakMap<AnyStateMachine, IndexedGraph>();

export function indexedGraph(machine: AnyStateMachine): IndexedGraph {
  const cached = cache.get(machine);
  if (cached) return cached;
  const root = machine.root as AnyStateNode;
  const states: GraphState[] = [];
  const nodeOf = new Map<string, AnyStateNode>([[ANY_STATE, root]]);
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode, parent: string | null) => {
    const initialChildren = new Set((node.initial?.target ?? []).map((n: AnyStateNode) => n));
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      const id = stateId(child);
      const meta = (child.meta ?? {}) as Record<string, unknown>;
      states.push({ id, label: child.key, parent, initial: initialChildren.has(child), final: meta.final === true || child.type === 'final', meta });
      nodeOf.set(id, child);
      nodes.push(child);
      visit(child, id);
    }
  };
  visit(root, null);

  // a node's `on` (and delayed, invoke) transitions by event, in definition order; then its eventless ones
  const transitions: GraphTransition[] = [];
  const edgesOf = new Map<AnyTransitionDefinition, GraphTransition[]>();
  const seen = new Map<string, number>();
  for (const node of [...nodes, root]) {
    const onEvents = [...(node.transitions.values() as Iterable<AnyTransitionDefinition[]>)].flat();
    for (const t of [...onEvents, ...((node.always ?? []) as AnyTransitionDefinition[])]) {
      const targets: (AnyStateNode | null)[] = t.target && t.target.length > 0 ? [...t.target] : [null];
      const edges = targets.map((target) => {
        const edge = toEdge(t, target);
        const n = (seen.get(edge.id) ?? 0) + 1;
        seen.set(edge.id, n);
        if (n > 1) edge.id = `${edge.id} #${n}`;
        return edge;
      });
      transitions.push(...edges);
      edgesOf.set(t, edges);
    }
  }
  const result: IndexedGraph = { graph: { id: machine.id, states, transitions }, edgesOf, nodeOf };
  cache.set(machine, result);
  return result;
}

/** A state node's id in the graph: its path, dot-separated; `*` for the root. */
export function stateId(node: AnyStateNode): string {
  return node.path.length === 0 ? ANY_STATE : node.path.join('.');
}

function toEdge(t: AnyTransitionDefinition, targetNode: AnyStateNode | null): GraphTransition {
  const source = stateId(t.source as AnyStateNode);
  const target = targetNode ? stateId(targetNode) : null;
  const eventless = t.eventType === '';
  const event = eventless ? ALWAYS : String(t.eventType);
  const guard = t.guard === undefined ? undefined : guardRef(t.guard);
  const actions = (t.actions ?? []).map(actionRef);
  const label = `${event}${guard ? ` [${guardLabel(guard, redundantValues(t.source as AnyStateNode, targetNode))}]` : ''}`;
  return {
    id: `${source} --${event}--> ${target ?? '(internal)'}`,
    source,
    target,
    event,
    ...(eventless ? { eventless: true as const } : {}),
    ...(guard ? { guard } : {}),
    ...(actions.length > 0 ? { actions } : {}),
    ...(t.reenter && target !== null ? { reenter: true as const } : {}),
    label,
  };
}

function guardRef(guard: unknown): GuardRef {
  if (typeof guard === 'string') return { type: guard };
  if (typeof guard === 'function') {
    const fn = guard as { name?: string; guards?: unknown; check?: unknown };
    const nested = Array.isArray(fn.guards) ? fn.guards : fn.guards !== undefined ? [fn.guards] : null;
    if (nested && typeof fn.check === 'function') return { type: fn.name || 'guard', guards: nested.map(guardRef) };
    return { type: fn.name || 'inline' };
  }
  if (guard && typeof guard === 'object' && 'type' in guard) {
    const { type, params } = guard as { type: unknown; params?: unknown };
    return { type: String(type), ...(params !== undefined && typeof params !== 'function' ? { params } : {}) };
  }
  return { type: 'inline' };
}

function actionRef(action: unknown): ActionRef {
  if (typeof action === 'string') return { type: action };
  if (typeof action === 'function') {
    const fn = action as { type?: unknown; name?: string };
    return { type: typeof fn.type === 'string' ? fn.type : fn.name || 'inline' };
  }
  if (action && typeof action === 'object' && 'type' in action) {
    const { type, params } = action as { type: unknown; params?: unknown };
    return { type: String(type), ...(params !== undefined && typeof params !== 'function' ? { params } : {}) };
  }
  return { type: 'inline' };
}

/** Values an edge already shows: its source and target, and what the source's meta says (e.g. its effect). */
function redundantValues(source: AnyStateNode, target: AnyStateNode | null): Set<unknown> {
  const values = new Set<unknown>([source.key, stateId(source)]);
  if (target) values.add(target.key).add(stateId(target));
  for (const value of Object.values((source.meta ?? {}) as Record<string, unknown>)) values.add(value);
  return values;
}

/**
 * `name`, or `name(a, b)` when a param value is not already visible on the
 * edge: `isCurrentEffect` (its effect is the source state's), `resetsTo` (its
 * state is the target), but `hasScore(0.5)`.
 */
export function guardLabel(guard: GuardRef, redundant: Set<unknown> = new Set()): string {
  if (guard.guards) {
    const inner = guard.guards.map((g) => guardLabel(g, redundant));
    return guard.type === 'not' && inner.length === 1 ? `!${inner[0]}` : `${guard.type}(${inner.join(', ')})`;
  }
  const values = guard.params && typeof guard.params === 'object' ? Object.values(guard.params) : guard.params !== undefined ? [guard.params] : [];
  const shown = values.filter((v) => !redundant.has(v));
  if (shown.length === 0) return guard.type;
  return `${guard.type}(${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')})`;
}

/** A state's meta as short description lines: `effect createRunDir`, `final`, `timer name=retryAfter, field=retryAt`. */
export function metaLines(meta: Record<string, unknown>): string[] {
  return Object.entries(meta).flatMap(([key, value]) => {
    if (value === undefined || value === null || value === false) return [];
    if (value === true) return [key];
    if (Array.isArray(value)) return [`${key} ${value.map(String).join(', ')}`];
    if (typeof value === 'object') return [`${key} ${Object.entries(value).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}`];
    return [`${key} ${String(value)}`];
  });
}


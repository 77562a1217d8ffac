/**
 * Diagrams of XState machines: a plain JSON graph of a machine's definition
 * (from @xstate/graph's toDirectedGraph, plus the eventless `always`
 * transitions it leaves out), and Mermaid (stateDiagram-v2) and Graphviz DOT
 * renderings of it. Generic: it reads only the machine definition, and knows
 * nothing of experiments. Output is deterministic: states in document order,
 * transitions in definition order (each state's, then the root's).
 */

import { toDirectedGraph } from '@xstate/graph';
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

  // toDirectedGraph lists each node's `on` (and delayed, invoke) transitions, one edge per target; always transitions are added here
  const directed = new Map<AnyStateNode, AnyTransitionDefinition[]>();
  const collect = (g: ReturnType<typeof toDirectedGraph>) => {
    const list: AnyTransitionDefinition[] = [];
    for (const edge of g.edges) if (!list.includes(edge.transition)) list.push(edge.transition);
    directed.set(g.stateNode as AnyStateNode, list);
    g.children.forEach(collect);
  };
  collect(toDirectedGraph(machine));

  const transitions: GraphTransition[] = [];
  const edgesOf = new Map<AnyTransitionDefinition, GraphTransition[]>();
  const seen = new Map<string, number>();
  for (const node of [...nodes, root]) {
    for (const t of [...(directed.get(node) ?? []), ...((node.always ?? []) as AnyTransitionDefinition[])]) {
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

/** An internal (targetless) transition as one line: `event [guard] / action, action`. */
function internalLine(t: GraphTransition): string {
  return `${t.label}${t.actions ? ` / ${t.actions.map((a) => a.type).join(', ')}` : ''}`;
}

// ---------------------------------------------------------------- Mermaid

const MERMAID_RESERVED = new Set(['state', 'note', 'end', 'as', 'direction', 'class', 'classdef', 'style', 'hide', 'scale', 'left', 'right', 'of', 'tb', 'bt', 'lr', 'rl', 'fork', 'join', 'choice', 'accTitle', 'accDescr', 'default'].map((w) => w.toLowerCase()));

/**
 * Mermaid text: a description (after `:`) ends at `:`, `;` or a newline, a
 * quoted state name at `"`, and `<…>` is read as HTML; those are replaced
 * by look-alikes (꞉ ； ' ‹ ›) and spaces.
 */
export function mermaidText(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/:/g, '\uA789') // ꞉ modifier letter colon
    .replace(/;/g, '\uFF1B') // ； fullwidth semicolon
    .replace(/"/g, "'")
    .replace(/</g, '\u2039') // ‹
    .replace(/>/g, '\u203A'); // ›
}

/** Mermaid node ids: a state id that is a plain word (not a keyword) as itself, any other as `s1`, `s2` … with its label. */
function mermaidIds(graph: MachineGraph): { ids: Map<string, string>; aliased: Set<string>; any: string } {
  const ids = new Map<string, string>();
  const aliased = new Set<string>();
  const taken = new Set<string>();
  const plain = (id: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(id) && !MERMAID_RESERVED.has(id.toLowerCase());
  for (const s of graph.states) if (plain(s.id)) ids.set(s.id, s.id), taken.add(s.id);
  let n = 0;
  const fresh = (base: string) => {
    let id = base;
    while (taken.has(id)) id = `${base}_${++n}`;
    taken.add(id);
    return id;
  };
  for (const s of graph.states) if (!ids.has(s.id)) ids.set(s.id, fresh(`s${graph.states.indexOf(s) + 1}`)), aliased.add(s.id);
  return { ids, aliased, any: fresh('any_state') };
}

/**
 * Mermaid stateDiagram-v2. Root-level transitions come from one pseudo-state
 * "any state" (drawing them from every state would multiply them by the
 * number of states); targetless transitions are written inside their state
 * as `event [guard] / actions` lines (UML internal transitions), as is the
 * state's meta.
 */
export function toMermaid(graph: MachineGraph): string {
  const { ids, aliased, any } = mermaidIds(graph);
  const id = (state: string) => (state === ANY_STATE ? any : ids.get(state)!);
  const lines = [`%% state machine "${mermaidText(graph.id)}", generated from its definition (expctl graph); do not edit`, 'stateDiagram-v2'];
  const internal = graph.transitions.filter((t) => t.target === null);
  const rootInternal = internal.filter((t) => t.source === ANY_STATE);
  const hasRoot = graph.transitions.some((t) => t.source === ANY_STATE);

  const declare = (parent: string | null, indent: string) => {
    for (const s of graph.states.filter((x) => x.parent === parent)) {
      const children = graph.states.some((x) => x.parent === s.id);
      if (children) {
        lines.push(`${indent}state "${mermaidText(s.label)}" as ${id(s.id)} {`);
        for (const c of graph.states.filter((x) => x.parent === s.id && x.initial)) lines.push(`${indent}  [*] --> ${id(c.id)}`);
        declare(s.id, `${indent}  `);
        for (const c of graph.states.filter((x) => x.parent === s.id && x.final)) lines.push(`${indent}  ${id(c.id)} --> [*]`);
        lines.push(`${indent}}`);
      } else if (aliased.has(s.id)) {
        lines.push(`${indent}state "${mermaidText(s.label)}" as ${id(s.id)}`);
      }
      for (const line of metaLines(s.meta)) lines.push(`${indent}${id(s.id)} : ${mermaidText(line)}`);
      for (const t of internal.filter((x) => x.source === s.id)) lines.push(`${indent}${id(s.id)} : ${mermaidText(internalLine(t))}`);
    }
  };
  if (hasRoot) {
    lines.push(`  state "any state" as ${any}`);
    for (const t of rootInternal) lines.push(`  ${any} : ${mermaidText(internalLine(t))}`);
  }
  declare(null, '  ');
  for (const s of graph.states.filter((x) => x.parent === null && x.initial)) lines.push(`  [*] --> ${id(s.id)}`);
  for (const t of graph.transitions) {
    if (t.target === null) continue;
    lines.push(`  ${id(t.source)} --> ${id(t.target)} : ${mermaidText(t.label)}`);
  }
  for (const s of graph.states.filter((x) => x.final && x.parent === null)) lines.push(`  ${id(s.id)} --> [*]`);
  if (hasRoot) lines.push('  classDef anyState fill:none,stroke-dasharray:5 5', `  class ${any} anyState`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- DOT

/** A DOT double-quoted string: backslashes and quotes escaped, newlines as `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n|\r/g, '\\n')}"`;
}

/**
 * Graphviz DOT, same conventions as toMermaid: a dashed "any state" node for
 * root-level transitions, internal transitions and meta inside the node
 * label, final states with a double border, compound states as clusters.
 */
export function toDot(graph: MachineGraph): string {
  const stateIds = new Set(graph.states.map((s) => s.id));
  const fresh = (base: string) => {
    let id = base;
    while (stateIds.has(id)) id = `_${id}`;
    return id;
  };
  const start = fresh('__initial');
  const any = fresh('__any_state');
  const compound = new Set(graph.states.filter((s) => graph.states.some((x) => x.parent === s.id)).map((s) => s.id));
  const internal = graph.transitions.filter((t) => t.target === null);
  const hasRoot = graph.transitions.some((t) => t.source === ANY_STATE);
  const lines = [
    `digraph ${dotString(graph.id)} {`,
    ...(compound.size > 0 ? ['  compound=true;'] : []),
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
    `  ${dotString(start)} [shape=point, label=""];`,
  ];
  const label = (name: string, extra: string[]) => dotString([name, ...extra].join('\n'));
  if (hasRoot) {
    const rootLines = internal.filter((t) => t.source === ANY_STATE).map(internalLine);
    lines.push(`  ${dotString(any)} [label=${label('any state', rootLines)}, style="rounded,dashed"];`);
  }
  // an edge to or from a compound state is drawn to its initial descendant (or first child), clipped at the cluster
  const anchor = (state: string): string => {
    if (!compound.has(state)) return state;
    const children = graph.states.filter((x) => x.parent === state);
    return anchor((children.find((c) => c.initial) ?? children[0])!.id);
  };
  const declare = (parent: string | null, indent: string) => {
    for (const s of graph.states.filter((x) => x.parent === parent)) {
      const extra = [...metaLines(s.meta), ...internal.filter((t) => t.source === s.id).map(internalLine)];
      if (compound.has(s.id)) {
        lines.push(`${indent}subgraph ${dotString(`cluster_${s.id}`)} {`, `${indent}  label=${label(s.label, extra)};`);
        declare(s.id, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${dotString(s.id)} [label=${label(s.label, extra)}${s.final ? ', peripheries=2' : ''}];`);
      }
    }
  };
  declare(null, '  ');
  const edge = (from: string, to: string, attrs: string[]) => {
    const clip = [...(compound.has(from) ? [`ltail=${dotString(`cluster_${from}`)}`] : []), ...(compound.has(to) ? [`lhead=${dotString(`cluster_${to}`)}`] : [])];
    const all = [...attrs, ...clip];
    return `  ${dotString(from === ANY_STATE ? any : anchor(from))} -> ${dotString(anchor(to))}${all.length > 0 ? ` [${all.join(', ')}]` : ''};`;
  };
  for (const s of graph.states.filter((x) => x.parent === null && x.initial)) lines.push(edge(start, s.id, []));
  for (const t of graph.transitions) {
    if (t.target === null) continue;
    lines.push(edge(t.source, t.target, [`label=${dotString(t.label)}`, ...(t.source === ANY_STATE ? ['style=dashed'] : [])]));
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

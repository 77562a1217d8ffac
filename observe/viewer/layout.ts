import dagre from '@dagrejs/dagre';
import type { AnyStateMachine } from 'xstate';
import { ANY_STATE, machineGraph } from '../../engine/graph.js';
import type { StateMeta } from '../../engine/state-meta.js';

/** How the viewer colours a state: what an actor in it is doing. */
export type StateKind = 'not_started' | 'working' | 'waiting' | 'rate_limited' | 'interrupted' | 'failed' | 'completed';
/** How the viewer draws a transition, by its event. */
export type EdgeKind = 'completed' | 'failed' | 'always' | 'timer' | 'operator' | 'other';
export type Point = [number, number];

export interface GraphNode { id: string; kind: StateKind; initial: boolean; layer: number; x: number; y: number; w: number; h: number }
export interface GraphEdge { from: string; to: string; kind: EdgeKind; labels: string[]; points: Point[]; arrow: Point[] }
/** One machine drawn as a statechart: nodes with boxes, edges as polylines with an arrowhead. */
export interface ViewerGraph {
  machine: string;
  width: number;
  height: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Transitions defined on the machine root (from any state), listed instead of drawn. */
  notes: string[];
}

const H = 30;
const PAD = 24;

/** The kind of every state of a machine, from its definition (meta and state type). */
export function stateKinds(machine: AnyStateMachine): Record<string, StateKind> {
  const kinds: Record<string, StateKind> = {};
  for (const [name, node] of Object.entries(machine.root.states)) {
    const meta = (node.meta ?? {}) as StateMeta;
    kinds[name] = meta.outcome === 'completed' || meta.final || node.type === 'final' ? 'completed'
      : meta.outcome === 'failed' ? 'failed'
        : meta.timer ? 'rate_limited'
          : meta.awaits ? 'waiting'
            : meta.effect ? 'working' : 'interrupted';
  }
  return kinds;
}

const EDGE_ORDER: EdgeKind[] = ['completed', 'always', 'timer', 'other', 'failed', 'operator'];
const PREFIX: Record<Exclude<EdgeKind, 'other'>, string> = { completed: 'effect.completed', failed: 'effect.failed', always: 'always', timer: 'timer.', operator: 'operator.' };
const edgeKind = (labels: string[]): EdgeKind =>
  (['completed', 'always', 'timer', 'failed', 'operator'] as const).find((k) => labels.some((l) => l.startsWith(PREFIX[k]))) ?? 'other';

interface Merged { from: string; to: string; labels: string[] }

/** The machine's top-level transitions merged per (from, to), in definition order; root ones become notes. */
function mergedEdges(machine: AnyStateMachine): { names: string[]; edges: Merged[]; notes: string[] } {
  const graph = machineGraph(machine);
  const names = graph.states.filter((s) => s.parent === null).map((s) => s.id);
  const merged = new Map<string, Merged>();
  const rootTargets = new Map<string, string[]>();
  for (const t of graph.transitions) {
    if (t.source === ANY_STATE) {
      rootTargets.set(t.event, [...(rootTargets.get(t.event) ?? []), t.target ?? '(no change of state)']);
      continue;
    }
    if (t.target === null || !names.includes(t.source) || !names.includes(t.target)) continue;
    const key = JSON.stringify([t.source, t.target]);
    const edge = merged.get(key) ?? { from: t.source, to: t.target, labels: [] };
    if (!edge.labels.includes(t.label)) edge.labels.push(t.label);
    merged.set(key, edge);
  }
  const notes = [...rootTargets].map(([event, targets]) => `from any state: ${event} → ${[...new Set(targets)].join(', ')}`);
  return { names, edges: [...merged.values()], notes };
}

/**
 * Back edges, found by a depth-first walk from the initial state that follows
 * progress first (completions, then eventless, timers, …; failure and
 * interrupt states last): without them the graph is acyclic, the main line
 * runs top to bottom and failure states sit below the steps leading to them.
 */
function backEdges(initial: string, names: string[], edges: Merged[], kinds: Record<string, StateKind>): Set<Merged> {
  const back = new Set<Merged>();
  const seen = new Map<string, 'open' | 'done'>();
  const rank = (e: Merged) => (['failed', 'interrupted'].includes(kinds[e.to] ?? '') ? 10 : 0) + EDGE_ORDER.indexOf(edgeKind(e.labels));
  const visit = (at: string) => {
    seen.set(at, 'open');
    for (const e of edges.filter((x) => x.from === at && x.to !== at).sort((a, b) => rank(a) - rank(b))) {
      if (seen.get(e.to) === 'open') back.add(e);
      else if (!seen.has(e.to)) visit(e.to);
    }
    seen.set(at, 'done');
  };
  visit(initial);
  for (const name of names) if (!seen.has(name)) visit(name);
  return back;
}

/**
 * Lay out a machine's top-level states as a statechart with dagre (a layered
 * layout: longest-path ranks over the graph without its back edges, crossings
 * reduced, edges routed between the boxes). Self-loops (retries) are drawn as
 * small loops on the left of their state.
 */
export function layoutMachine(machine: AnyStateMachine): ViewerGraph {
  const kinds = stateKinds(machine);
  const { names, edges, notes } = mergedEdges(machine);
  const initial = String(machine.root.initial?.target[0]?.key ?? names[0]);
  const back = backEdges(initial, names, edges, kinds);
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 26, ranksep: 36, edgesep: 12, marginx: PAD, marginy: PAD });
  g.setDefaultEdgeLabel(() => ({}));
  for (const name of names) g.setNode(name, { width: Math.round(Math.max(110, name.length * 7.2 + 24)), height: H });
  edges.forEach((e, i) => {
    if (e.from === e.to) return;
    const [v, w] = back.has(e) ? [e.to, e.from] : [e.from, e.to];
    g.setEdge(v, w, { minlen: 1, weight: edgeKind(e.labels) === 'completed' ? 4 : 1 }, String(i));
  });
  dagre.layout(g);
  const ys = [...new Set(names.map((n) => g.node(n).y))].sort((a, b) => a - b);
  const nodes = names.map((name): GraphNode => {
    const n = g.node(name);
    return { id: name, kind: kinds[name] ?? 'working', initial: name === initial, layer: ys.indexOf(n.y), x: round(n.x - n.width / 2), y: round(n.y - n.height / 2), w: n.width, h: n.height };
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const laid = edges.map((e, i): GraphEdge => {
    const points = e.from === e.to ? selfLoop(byId.get(e.from)!) : routed(g.edge(back.has(e) ? e.to : e.from, back.has(e) ? e.from : e.to, String(i)).points, back.has(e));
    return { from: e.from, to: e.to, kind: edgeKind(e.labels), labels: e.labels, points, arrow: arrowHead(points) };
  });
  const right = Math.max(...nodes.map((n) => n.x + n.w), ...laid.flatMap((e) => e.points.map(([x]) => x)));
  const bottom = Math.max(...nodes.map((n) => n.y + n.h), ...laid.flatMap((e) => e.points.map(([, y]) => y)));
  return { machine: machine.id, width: Math.ceil(right + PAD), height: Math.ceil(bottom + PAD), nodes, edges: laid, notes };
}

/** dagre's route of an edge (endpoints on the boxes' borders), in the edge's own direction. */
function routed(points: { x: number; y: number }[], reversed: boolean): Point[] {
  const line = points.map((p): Point => [round(p.x), round(p.y)]);
  return reversed ? line.reverse() : line;
}

function selfLoop(n: GraphNode): Point[] {
  return [[n.x, n.y + 7], [n.x - 14, n.y + 7], [n.x - 14, n.y + n.h - 7], [n.x, n.y + n.h - 7]];
}

const round = (n: number) => Math.round(n * 10) / 10;

/** A small triangle at the end of the polyline, pointing along its last segment. */
function arrowHead(points: Point[]): Point[] {
  const [x1, y1] = points[points.length - 2]!;
  const [x2, y2] = points[points.length - 1]!;
  const len = Math.hypot(x2 - x1, y2 - y1) || 1;
  const [ux, uy] = [(x2 - x1) / len, (y2 - y1) / len];
  const base: Point = [x2 - ux * 8, y2 - uy * 8];
  return [[x2, y2], [base[0] - uy * 4, base[1] + ux * 4], [base[0] + uy * 4, base[1] - ux * 4]].map(([x, y]) => [round(x!), round(y!)]);
}

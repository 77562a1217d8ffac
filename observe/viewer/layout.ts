import { toDirectedGraph } from '@xstate/graph';
import type { AnyStateMachine } from 'xstate';
import type { StateMeta } from '../../engine/state-meta.js';

/** How the viewer colours a state: what an actor in it is doing. */
export type StateKind = 'not_started' | 'working' | 'waiting' | 'rate_limited' | 'interrupted' | 'failed' | 'completed';
/** How the viewer draws a transition, by its event. */
export type EdgeKind = 'completed' | 'failed' | 'always' | 'timer' | 'operator' | 'other';
export type Point = [number, number];

export interface GraphNode { id: string; kind: StateKind; initial: boolean; layer: number; x: number; y: number; w: number; h: number }
export interface GraphEdge { from: string; to: string; kind: EdgeKind; labels: string[]; points: Point[]; arrow: Point[] }
/** One machine drawn as a statechart: nodes with boxes, edges as polylines with an arrowhead. */
export interface MachineGraph {
  machine: string;
  width: number;
  height: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Transitions defined on the machine root (from any state), listed instead of drawn. */
  notes: string[];
}

const H = 30;
const GAP_X = 26;
const GAP_Y = 36;
const PAD = 24;
const BUS = 12;

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

const guardName = (guard: unknown) => (typeof guard === 'string' ? guard : (guard as { type?: unknown } | undefined)?.type);
const withGuard = (text: string, guard: unknown) => (guardName(guard) ? `${text} [${String(guardName(guard))}]` : text);
const EDGE_ORDER: EdgeKind[] = ['completed', 'always', 'timer', 'other', 'failed', 'operator'];
const edgeKind = (labels: string[]): EdgeKind =>
  (['completed', 'always', 'timer', 'failed', 'operator'] as const).find((k) => labels.some((l) => l.startsWith(k === 'completed' || k === 'failed' ? `effect.${k}` : k === 'timer' ? 'timer.' : k === 'operator' ? 'operator.' : 'always'))) ?? 'other';

/**
 * Lay out a machine's top-level states as a layered graph (Sugiyama-lite):
 * back edges are found by a DFS from the initial state, layers are longest
 * paths over the remaining (acyclic) edges; within a layer nodes are
 * ordered by the barycentre of their neighbours in the layer above and placed
 * under them. Edges between adjacent layers are straight; every other edge
 * (back, same-layer, skipping layers) runs along a vertical bus right of the
 * chart that belongs to its busier endpoint, so e.g. all edges into and out of
 * `run_failed` share one bus. Eventless (`always`) transitions, which
 * `toDirectedGraph` leaves out, are added from the state definitions.
 */
export function layoutMachine(machine: AnyStateMachine): MachineGraph {
  const graph = toDirectedGraph(machine);
  const kinds = stateKinds(machine);
  const key = (id: string) => id.slice(machine.id.length + 1);
  const names = graph.children.map((c) => key(c.id));
  const initial = String(machine.root.initial?.target[0]?.key ?? names[0]);
  const merged = new Map<string, { from: string; to: string; labels: string[] }>();
  const add = (from: string, to: string, label: string) => {
    const edge = merged.get(`${from}\u0000${to}`) ?? { from, to, labels: [] };
    if (!edge.labels.includes(label)) edge.labels.push(label);
    merged.set(`${from}\u0000${to}`, edge);
  };
  for (const child of graph.children) {
    for (const e of child.edges) add(key(e.source.id), key(e.target.id), withGuard(e.label.text, e.transition.guard));
    for (const t of child.stateNode.always ?? []) for (const target of t.target ?? []) add(key(child.id), key(target.id), withGuard('always', t.guard));
  }
  const rootEdges = new Map<string, string[]>();
  for (const e of graph.edges) rootEdges.set(e.label.text, [...(rootEdges.get(e.label.text) ?? []), e.target.id === machine.id ? '(no change of state)' : key(e.target.id)]);
  const notes = [...rootEdges].map(([event, targets]) => `from any state: ${event} → ${[...new Set(targets)].join(', ')}`);
  const edges = [...merged.values()].filter((e) => names.includes(e.from) && names.includes(e.to));

  // layers: DFS from the initial state (progress first: completions, then eventless, timers, …,
  // failure and interrupt states last) marks back edges; without them the graph
  // is acyclic and each state sits one layer below its deepest predecessor (longest path), so the
  // main line runs top to bottom and failure states sit below the steps that lead to them
  const back = new Set<string>();
  const seen = new Map<string, 'open' | 'done'>();
  const rank = (e: { to: string; labels: string[] }) => (['failed', 'interrupted'].includes(kinds[e.to] ?? '') ? 10 : 0) + EDGE_ORDER.indexOf(edgeKind(e.labels));
  const dfs = (at: string) => {
    seen.set(at, 'open');
    for (const e of edges.filter((x) => x.from === at && x.to !== at).sort((a, b) => rank(a) - rank(b))) {
      if (seen.get(e.to) === 'open') back.add(`${e.from}\u0000${e.to}`);
      else if (!seen.has(e.to)) dfs(e.to);
    }
    seen.set(at, 'done');
  };
  dfs(initial);
  for (const name of names) if (!seen.has(name)) dfs(name);
  const forward = edges.filter((e) => e.from !== e.to && !back.has(`${e.from}\u0000${e.to}`));
  const layer = new Map<string, number>();
  const depth = (name: string): number => {
    if (!layer.has(name)) layer.set(name, Math.max(0, ...forward.filter((e) => e.to === name).map((e) => depth(e.from) + 1)));
    return layer.get(name)!;
  };
  for (const name of names) depth(name);
  const layers: string[][] = [];
  for (const name of names) (layers[layer.get(name)!] ??= []).push(name);

  // order within layers: two downward barycentre sweeps, ties kept in definition order
  const above = (name: string) => edges.flatMap((e) => (e.to === name && layer.get(e.from) === layer.get(name)! - 1 ? [e.from] : e.from === name && layer.get(e.to) === layer.get(name)! - 1 ? [e.to] : []));
  for (let sweep = 0; sweep < 2; sweep += 1) {
    for (let l = 1; l < layers.length; l += 1) {
      const prev = layers[l - 1] ?? [];
      const bary = (name: string, i: number) => {
        const ps = above(name).map((p) => prev.indexOf(p));
        return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : i;
      };
      layers[l] = (layers[l] ?? []).map((name, i) => ({ name, b: bary(name, i), i })).sort((a, b) => a.b - b.b || a.i - b.i).map((n) => n.name);
    }
  }

  // a state with many long edges (a failure state) goes last in its layer: its bus stubs then cross no box
  const longEdges = (name: string) => edges.filter((e) => e.from !== e.to && (e.from === name || e.to === name) && Math.abs(layer.get(e.from)! - layer.get(e.to)!) !== 1).length;
  for (const [l, row] of layers.entries()) layers[l] = [...row].sort((a, b) => Number(longEdges(a) >= 3) - Number(longEdges(b) >= 3));

  // coordinates: each node as close as possible under its parents, no overlaps
  const nodes = new Map<string, GraphNode>();
  const width = (name: string) => Math.round(Math.max(110, name.length * 7.2 + 24));
  layers.forEach((row, l) => {
    const desired = row.map((name) => {
      const ps = above(name).map((p) => nodes.get(p)!).filter(Boolean);
      return ps.length ? ps.reduce((a, p) => a + p.x + p.w / 2, 0) / ps.length : 0;
    });
    let right = -Infinity;
    const placed = row.map((name, i) => {
      const w = width(name);
      const x = Math.max(desired[i]! - w / 2, right + GAP_X);
      right = x + w;
      return { name, x, w };
    });
    const shift = (desired.reduce((a, b) => a + b, 0) - placed.reduce((a, p) => a + p.x + p.w / 2, 0)) / Math.max(1, row.length);
    for (const p of placed) nodes.set(p.name, { id: p.name, kind: kinds[p.name] ?? 'working', initial: p.name === initial, layer: l, x: p.x + shift, y: PAD + l * (H + GAP_Y), w: p.w, h: H });
  });
  const minX = Math.min(...[...nodes.values()].map((n) => n.x));
  for (const n of nodes.values()) n.x = Math.round(n.x - minX + PAD + 16);
  const chartRight = Math.max(...[...nodes.values()].map((n) => n.x + n.w));

  // routing
  const isDirect = (e: { from: string; to: string }) => Math.abs(layer.get(e.to)! - layer.get(e.from)!) === 1;
  const adjacent = (e: { from: string; to: string }) => {
    const row = layers[layer.get(e.from)!]!;
    return layer.get(e.to) === layer.get(e.from) && Math.abs(row.indexOf(e.to) - row.indexOf(e.from)) === 1;
  };
  const busy = new Map<string, number>();
  for (const e of edges) if (e.from !== e.to && !isDirect(e) && !adjacent(e)) for (const n of [e.from, e.to]) busy.set(n, (busy.get(n) ?? 0) + 1);
  const buses: string[] = [];
  const laid = edges.map((e): GraphEdge => {
    const a = nodes.get(e.from)!;
    const b = nodes.get(e.to)!;
    const cy = (n: GraphNode) => n.y + n.h / 2;
    let points: Point[];
    if (e.from === e.to) points = [[a.x, a.y + 7], [a.x - 14, a.y + 7], [a.x - 14, a.y + a.h - 7], [a.x, a.y + a.h - 7]];
    else if (isDirect(e)) points = layer.get(e.to)! > layer.get(e.from)! ? [[a.x + a.w / 2, a.y + a.h], [b.x + b.w / 2, b.y]] : [[a.x + a.w / 2 + 8, a.y], [b.x + b.w / 2 + 8, b.y + b.h]];
    else if (adjacent(e)) {
      const dy = a.x < b.x ? -5 : 5;
      points = a.x < b.x ? [[a.x + a.w, cy(a) + dy], [b.x, cy(b) + dy]] : [[a.x, cy(a) + dy], [b.x + b.w, cy(b) + dy]];
    } else {
      const hub = (busy.get(e.from) ?? 0) > (busy.get(e.to) ?? 0) ? e.from : e.to;
      if (!buses.includes(hub)) buses.push(hub);
      const x = chartRight + 18 + BUS * buses.indexOf(hub);
      points = [[a.x + a.w, cy(a) + 4], [x, cy(a) + 4], [x, cy(b) - 4], [b.x + b.w, cy(b) - 4]];
    }
    return { from: e.from, to: e.to, kind: edgeKind(e.labels), labels: e.labels, points: points.map(([x, y]) => [round(x), round(y)]), arrow: arrowHead(points) };
  });
  const all = [...nodes.values()];
  return {
    machine: machine.id,
    width: Math.ceil(chartRight + 18 + BUS * buses.length + PAD),
    height: Math.ceil(Math.max(...all.map((n) => n.y + n.h)) + PAD),
    nodes: names.map((n) => nodes.get(n)!),
    edges: laid,
    notes,
  };
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

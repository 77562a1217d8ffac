/// <reference lib="dom" />
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { escapeHtml, graphSvg } from '../../viewer/render.js';
import { getJson, type ViewerGraph, type StateKind } from './api.js';

export interface Machines {
  graphs: ViewerGraph[];
  kinds: Record<string, Record<string, StateKind>>;
  refs: Record<string, string>;
}

let machines: Promise<Machines> | null = null;
/** The four machines laid out (once per page: they do not change while the server runs). */
export const loadMachines = () => (machines ??= getJson<Machines>('/api/machines'));

export interface ChartProps {
  graph: ViewerGraph;
  refText?: string;
  /** How many actors are in each state (×N on the node). */
  counts?: Record<string, number>;
  /** The state drawn as current. */
  current?: string | null;
  /** The states an actor went through, in order: the edges between them are drawn as taken. */
  path?: string[];
  caption?: string;
}

/** One machine as a statechart (the viewer's drawing), marked with where its actors are and the path one took. */
export function Chart({ graph, refText, counts = {}, current = null, path = [], caption }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const svg = useMemo(() => graphSvg(graph), [graph]);
  useEffect(() => {
    const root = box.current;
    if (!root) return;
    const visited = new Set(path);
    const taken = new Set(path.slice(1).map((to, i) => `${path[i]}\u0000${to}`));
    for (const node of root.querySelectorAll('g.node')) {
      const name = node.getAttribute('data-node')!;
      const n = counts[name] ?? 0;
      node.classList.toggle('current', current === name);
      node.classList.toggle('occupied', n > 0 || visited.has(name));
      node.querySelector('text.count')!.textContent = n > 0 ? `×${n}` : '';
    }
    for (const edge of root.querySelectorAll('g.edge')) {
      edge.classList.toggle('taken', taken.has(`${edge.getAttribute('data-from')}\u0000${edge.getAttribute('data-to')}`));
    }
  }, [svg, JSON.stringify(counts), current, path.join(' ')]);
  return (
    <figure class="chart" data-machine={graph.machine}>
      <figcaption><b>{caption ?? graph.machine}</b> {refText ? <small>{refText}</small> : null}</figcaption>
      <div class="svg-wrap" ref={box} dangerouslySetInnerHTML={{ __html: svg }} />
      {graph.notes.length ? <ul class="notes">{graph.notes.map((n) => <li key={n}>{n}</li>)}</ul> : null}
    </figure>
  );
}

export { escapeHtml };

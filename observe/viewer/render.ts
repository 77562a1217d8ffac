/*
 * The page's markup: pure functions of the viewer's data, run in the browser
 * (bundled into the page's script) and in tests alike.
 */
import type { StatusTree } from '../status-tree.js';
import type { StateKind, ViewerGraph } from './layout.js';

/** Escape text for HTML text and attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** One laid-out machine as inline SVG (no markers, no references: arrowheads are polygons). */
export function graphSvg(graph: ViewerGraph): string {
  const pts = (points: number[][]) => points.map((p) => `${p[0]},${p[1]}`).join(' ');
  const edges = graph.edges.map((e) => {
    const [a, b] = [e.points[0]!, e.points[e.points.length - 1]!];
    const mid = e.points.length === 2 ? [(a[0]! + b[0]!) / 2, (a[1]! + b[1]!) / 2] : null;
    // drawn labels only where the colour does not say it all (eventless with its guard, timers); every label is in the tooltip
    const shown = e.kind === 'always' ? e.labels : e.kind === 'timer' || e.kind === 'other' ? e.labels.map((l) => l.replace(/ \[.*\]$/, '')) : [];
    const up = b[1]! < a[1]!; // upward edges are labelled on their left, downward ones on their right
    const label = mid && shown.length && e.from !== e.to
      ? `<text class="elabel${up ? ' left' : ''}" x="${mid[0]! + (up ? -6 : 6)}" y="${mid[1]! + 3}">${escapeHtml(shown.join(', '))}</text>` : '';
    return `<g class="edge e-${e.kind}" data-from="${escapeHtml(e.from)}" data-to="${escapeHtml(e.to)}"><title>${escapeHtml(`${e.from} → ${e.to}: ${e.labels.join('; ')}`)}</title>`
      + `<polyline points="${pts(e.points)}"/><polygon points="${pts(e.arrow)}"/>${label}</g>`;
  }).join('');
  const nodes = graph.nodes.map((n) => `<g class="node k-${n.kind}${n.initial ? ' initial' : ''}" data-node="${escapeHtml(n.id)}"><title>${escapeHtml(`${n.id} (${n.kind.replace('_', ' ')})`)}</title>`
    + `<rect x="${n.x}" y="${n.y}" width="${n.w}" height="${n.h}" rx="${n.kind === 'completed' ? 15 : 6}"/>`
    + `<text x="${n.x + n.w / 2}" y="${n.y + n.h / 2 + 4}">${escapeHtml(n.id)}</text>`
    + `<text class="count" x="${n.x + n.w - 4}" y="${n.y - 3}"></text></g>`).join('');
  const start = graph.nodes.find((n) => n.initial);
  const dot = start ? `<circle class="start" cx="${start.x - 10}" cy="${start.y - 10}" r="4"/><polyline class="start" points="${start.x - 7},${start.y - 7} ${start.x},${start.y}"/>` : '';
  return `<svg class="chart-svg" viewBox="0 0 ${graph.width} ${graph.height}" width="${graph.width}" height="${graph.height}" style="max-width: ${graph.width}px" role="img" aria-label="${escapeHtml(`${graph.machine} machine`)}">${dot}${edges}${nodes}</svg>`;
}

/**
 * The tier → subtest → run tree as nested lists. Every actor is one element
 * with `data-stream` and `data-state` (the stable hooks for tests), coloured
 * by the kind of its state; a run with an outcome by its outcome (passed,
 * not passed, errored), with its score; subtests and tiers show how many of
 * their judged runs passed.
 */
export function treeHtml(tree: StatusTree, kinds: Record<string, Record<string, StateKind>>, selected: string, changed: string | null): string {
  const key = tree.experiment;
  const kind = (machine: string, state: string) => (state === 'not_started' ? 'not_started' : (kinds[machine] || {})[state] || 'working');
  const actor = (stream: string, machine: string, name: string, state: string, extra: string, outcome: string | null = null) =>
    `<div class="actor ${outcome ? `o-${outcome}` : `k-${kind(machine, state)}`}${stream === selected ? ' selected' : ''}${stream === changed ? ' changed' : ''}"${outcome ? ` data-outcome="${outcome}"` : ''} data-stream="${escapeHtml(stream)}" data-state="${escapeHtml(state)}" data-machine="${machine}" tabindex="0">`
    + `<span class="name">${escapeHtml(name)}</span><span class="state">${escapeHtml(state.replace(/^(exp|tier|subtest|run)_/, ''))}</span>${extra}</div>`;
  const list = (items: string[]) => (items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : '');
  const passes = (r: { judged: number; passed: number }) => (r.judged > 0 ? `<span class="passes" title="judged runs that passed">${r.passed}/${r.judged} passed</span>` : '');
  const tiers = tree.tiers.map((t) => actor(`${key}/${t.id}`, 'tier', t.id, t.state, passes(t.results) + (t.best ? `<span class="best" title="best subtest">★ ${escapeHtml(t.best)}${t.separation?.withinNoise ? ' (within noise)' : ''}</span>` : ''))
    + list(t.subtests.map((s) => actor(`${key}/${t.id}/${s.id}`, 'subtest', s.id, s.state, passes(s.results))
      + list(s.runs.map((r) => actor(`${key}/${t.id}/${s.id}/${r.run}`, 'run', `run ${r.run}`, r.state, runExtra(r), r.outcome))))));
  return `<ul class="tree"><li>${actor(key, 'experiment', key, tree.state, '')}${list(tiers)}</li></ul>`;
}

const OUTCOME_MARKS: Record<string, string> = { passed: '✓ passed', not_passed: '✗ not passed', errored: '! errored' };

function runExtra(r: StatusTree['tiers'][number]['subtests'][number]['runs'][number]): string {
  const outcome = r.outcome ? `<span class="outcome" title="${escapeHtml(r.error ?? '')}">${OUTCOME_MARKS[r.outcome]}${r.score !== null ? ` ${r.score.toFixed(2)}` : ''}</span>` : '';
  return outcome + (r.attempt > 1 ? `<span class="attempt">attempt ${r.attempt}</span>` : '');
}

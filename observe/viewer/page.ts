import type { StatusTree } from '../status-tree.js';
import { viewerActors, viewerTree, type ViewerData } from './data.js';
import type { MachineGraph, StateKind } from './layout.js';

/*
 * The offline page. Everything is inline: CSS, the data as JSON, and one
 * script made of the pure functions below (embedded by their source, so Node
 * and the page run the same code) plus `viewerMain`, which wires the DOM.
 * The page requests nothing: no URLs, no fonts, no images, no fetch.
 */

/** Escape text for HTML text and attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** One laid-out machine as inline SVG (no markers, no references: arrowheads are polygons). */
export function graphSvg(graph: MachineGraph): string {
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
 * by the kind of its state.
 */
export function treeHtml(tree: StatusTree, kinds: Record<string, Record<string, StateKind>>, selected: string, changed: string | null): string {
  const key = tree.experiment;
  const kind = (machine: string, state: string) => (state === 'not_started' ? 'not_started' : (kinds[machine] || {})[state] || 'working');
  const actor = (stream: string, machine: string, name: string, state: string, extra: string) =>
    `<div class="actor k-${kind(machine, state)}${stream === selected ? ' selected' : ''}${stream === changed ? ' changed' : ''}" data-stream="${escapeHtml(stream)}" data-state="${escapeHtml(state)}" data-machine="${machine}" tabindex="0">`
    + `<span class="name">${escapeHtml(name)}</span><span class="state">${escapeHtml(state.replace(/^(exp|tier|subtest|run)_/, ''))}</span>${extra}</div>`;
  const list = (items: string[]) => (items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : '');
  const tiers = tree.tiers.map((t) => actor(`${key}/${t.id}`, 'tier', t.id, t.state, t.best ? `<span class="best" title="best subtest">★ ${escapeHtml(t.best)}</span>` : '')
    + list(t.subtests.map((s) => actor(`${key}/${t.id}/${s.id}`, 'subtest', s.id, s.state, '')
      + list(s.runs.map((r) => actor(`${key}/${t.id}/${s.id}/${r.run}`, 'run', `run ${r.run}`, r.state, r.attempt > 1 ? `<span class="attempt">attempt ${r.attempt}</span>` : ''))))));
  return `<ul class="tree"><li>${actor(key, 'experiment', key, tree.state, '')}${list(tiers)}</li></ul>`;
}

/** The page's behaviour: slider, buttons and keys move through the rows; the tree and the charts follow. */
export function viewerMain(document: any, window: any): void {
  const data: ViewerData = JSON.parse(document.getElementById('viewer-data').textContent);
  const $ = (id: string) => document.getElementById(id);
  const slider = $('timeline');
  const last = data.rows.length - 1;
  let selected = data.experiment;
  let timer: any = null;
  $('charts').innerHTML = data.graphs.map((g) => `<figure class="chart" data-machine="${g.machine}"><figcaption><b>${g.machine}</b> <small>${escapeHtml(data.machines[g.machine])}</small></figcaption>`
    + `<div class="svg-wrap">${graphSvg(g)}</div>${g.notes.length ? `<ul class="notes">${g.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}</figure>`).join('');
  const short = (stream: string) => (stream === data.experiment ? stream : stream.slice(data.experiment.length + 1));

  function render(): void {
    const i = Number(slider.value);
    const actors = viewerActors(data, i);
    const tree = viewerTree(data, actors);
    const row = data.rows[i];
    const rowStream = row ? data.streams[row.s]!.stream : null;
    if ($('follow').checked && rowStream) selected = rowStream;
    $('exp-state').textContent = tree.state;
    $('exp-state').className = `pill k-${tree.state === 'not_started' ? 'not_started' : data.kinds.experiment![tree.state] || 'working'}`;
    const r = tree.runs;
    $('runs').textContent = `runs: ${r.completed}/${r.total} done, ${r.running} running, ${r.failed} failed, ${r.rateLimited} rate-limited, ${r.pending} not started`;
    $('pos').textContent = String(i + 1);
    $('seq').textContent = row ? String(row.seq) : '';
    $('row-at').textContent = row ? row.at : '';
    $('row-stream').textContent = rowStream ? short(rowStream) : '';
    $('row-type').textContent = row ? row.type : '';
    $('row-state').textContent = row ? row.state : '';
    $('tree').innerHTML = treeHtml(tree, data.kinds, selected, rowStream);
    // charts: how many actors of each machine are in each state; the selected actor's state and last transition
    const chosen = actors.get(selected);
    const counts: Record<string, Record<string, number>> = {};
    for (const a of actors.values()) (counts[a.machine] ||= {})[a.state] = ((counts[a.machine] || {})[a.state] || 0) + 1;
    for (const fig of document.querySelectorAll('figure.chart')) {
      const machine = fig.getAttribute('data-machine');
      fig.classList.toggle('selected', Boolean(chosen && chosen.machine === machine));
      for (const node of fig.querySelectorAll('g.node')) {
        const name = node.getAttribute('data-node');
        const n = (counts[machine] || {})[name] || 0;
        node.classList.toggle('current', Boolean(chosen && chosen.machine === machine && chosen.state === name));
        node.classList.toggle('occupied', n > 0);
        node.querySelector('text.count').textContent = n > 0 ? `×${n}` : '';
      }
      for (const edge of fig.querySelectorAll('g.edge')) {
        const taken = Boolean(chosen && chosen.machine === machine && chosen.row === i && edge.getAttribute('data-from') === chosen.previous && edge.getAttribute('data-to') === chosen.state);
        edge.classList.toggle('taken', taken);
      }
    }
    $('selected').textContent = chosen
      ? `selected: ${short(selected)} (${chosen.machine}) in ${chosen.state}${chosen.machine === 'run' && chosen.attempt > 1 ? `, attempt ${chosen.attempt}` : ''}; its last row: seq ${data.rows[chosen.row]!.seq} ${data.rows[chosen.row]!.type}`
      : `selected: ${short(selected)}, not started as of this row`;
    const from = Math.max(0, i - 7);
    $('recent').innerHTML = data.rows.slice(from, Math.min(data.rows.length, i + 4)).map((x, k) => `<tr data-index="${from + k}" class="${from + k === i ? 'now' : from + k > i ? 'later' : ''}"><td>${x.seq}</td><td>${escapeHtml(x.at.slice(11, 23))}</td>`
      + `<td>${escapeHtml(short(data.streams[x.s]!.stream))}</td><td>${escapeHtml(x.type)}</td><td>${escapeHtml(x.state)}</td></tr>`).join('');
  }
  const go = (i: number) => {
    slider.value = String(Math.max(0, Math.min(last, i)));
    render();
  };
  const play = () => {
    if (timer) { window.clearInterval(timer); timer = null; $('play').textContent = '▶ play'; return; }
    if (Number(slider.value) >= last) go(0);
    $('play').textContent = '|| pause';
    timer = window.setInterval(() => (Number(slider.value) >= last ? play() : go(Number(slider.value) + 1)), 150);
  };
  slider.addEventListener('input', render);
  $('first').addEventListener('click', () => go(0));
  $('prev').addEventListener('click', () => go(Number(slider.value) - 1));
  $('next').addEventListener('click', () => go(Number(slider.value) + 1));
  $('last').addEventListener('click', () => go(last));
  $('play').addEventListener('click', play);
  $('follow').addEventListener('change', render);
  document.addEventListener('keydown', (event: any) => {
    if (event.target === slider || event.altKey || event.ctrlKey || event.metaKey) return;
    const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
    if (event.key in step) go(Number(slider.value) + step[event.key]!);
    else if (event.key === 'Home') go(0);
    else if (event.key === 'End') go(last);
    else if (event.key === 'Enter' && event.target.dataset && event.target.dataset.stream) { selected = event.target.dataset.stream; $('follow').checked = false; render(); }
    else return;
    event.preventDefault();
  });
  $('tree').addEventListener('click', (event: any) => {
    const el = event.target.closest('[data-stream]');
    if (!el) return;
    selected = el.getAttribute('data-stream');
    $('follow').checked = false;
    render();
  });
  $('recent').addEventListener('click', (event: any) => {
    const tr = event.target.closest('tr[data-index]');
    if (tr) go(Number(tr.getAttribute('data-index')));
  });
  render();
}

const CSS = `
:root { color-scheme: light; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2937; background: #f8fafc; }
body { margin: 0; }
header { display: flex; flex-wrap: wrap; gap: 12px; align-items: baseline; padding: 10px 16px; background: #fff; border-bottom: 1px solid #e2e8f0; }
header h1 { font-size: 18px; margin: 0; }
.muted, header .muted { color: #64748b; }
#controls { position: sticky; top: 0; z-index: 2; padding: 8px 16px; background: #fff; border-bottom: 1px solid #e2e8f0; }
#controls .bar { display: flex; gap: 6px; align-items: center; }
#controls button { font: inherit; padding: 2px 8px; border: 1px solid #cbd5e1; border-radius: 4px; background: #f1f5f9; cursor: pointer; }
#timeline { flex: 1; }
#row { margin-top: 4px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
#row b { color: #0f172a; }
main { display: grid; grid-template-columns: minmax(320px, 420px) 1fr; gap: 16px; padding: 12px 16px; align-items: start; }
h2 { font-size: 14px; margin: 0 0 6px; }
section.panel { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 10px; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 14px; }
.tree { padding-left: 0; }
.tree li { margin: 2px 0; }
.actor { display: flex; gap: 8px; align-items: baseline; padding: 2px 6px; border: 1px solid var(--bd); border-left-width: 4px; border-radius: 4px; background: var(--bg); color: var(--fg); cursor: pointer; font-size: 12px; }
.actor .name { font-weight: 600; min-width: 54px; }
.actor .state { font-family: ui-monospace, Menlo, Consolas, monospace; }
.actor .best, .actor .attempt { margin-left: auto; font-size: 11px; }
.actor.selected { outline: 2px solid #0f172a; outline-offset: 1px; }
.actor.changed { box-shadow: 0 0 0 3px #facc15; }
.k-not_started { --bg: #f1f5f9; --bd: #cbd5e1; --fg: #64748b; }
.k-working { --bg: #dbeafe; --bd: #3b82f6; --fg: #1e3a8a; }
.k-waiting { --bg: #e0e7ff; --bd: #6366f1; --fg: #312e81; }
.k-rate_limited { --bg: #fef3c7; --bd: #f59e0b; --fg: #78350f; }
.k-interrupted { --bg: #ffedd5; --bd: #f97316; --fg: #7c2d12; }
.k-failed { --bg: #fee2e2; --bd: #ef4444; --fg: #7f1d1d; }
.k-completed { --bg: #dcfce7; --bd: #22c55e; --fg: #14532d; }
.pill { padding: 1px 8px; border-radius: 10px; background: var(--bg); border: 1px solid var(--bd); color: var(--fg); font-family: ui-monospace, Menlo, Consolas, monospace; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 10px; }
.legend span { padding: 0 6px; border-radius: 4px; background: var(--bg); border: 1px solid var(--bd); color: var(--fg); font-size: 11px; }
#charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; align-items: start; }
#charts figure[data-machine="run"] { grid-column: 2; grid-row: 1 / span 3; }
@media (max-width: 1100px) { main { grid-template-columns: 1fr; } }
@media (max-width: 800px) { #charts { grid-template-columns: 1fr; } #charts figure[data-machine="run"] { grid-column: auto; grid-row: auto; } }
figure.chart { margin: 0; background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 6px; min-width: 0; }
figure.chart.selected { border-color: #0f172a; box-shadow: 0 0 0 1px #0f172a; }
figure.chart figcaption small { color: #64748b; font-family: ui-monospace, Menlo, Consolas, monospace; }
.svg-wrap svg { display: block; width: 100%; height: auto; margin: 0 auto; }
.notes { margin: 4px 0 0; padding-left: 16px; color: #64748b; font-size: 11px; max-width: 460px; }
svg text { font: 12px ui-monospace, Menlo, Consolas, monospace; text-anchor: middle; fill: #0f172a; }
svg .node rect { fill: #fff; stroke: var(--bd); stroke-width: 1.2; }
svg .node.occupied rect { fill: var(--bg); }
svg .node.current rect { fill: var(--bg); stroke: #0f172a; stroke-width: 3; }
svg .node.current text { font-weight: 700; }
svg .node text.count { text-anchor: end; font-size: 10px; fill: #475569; }
svg .edge polyline { fill: none; stroke: #94a3b8; stroke-width: 1.1; }
svg .edge polygon { fill: #94a3b8; }
svg .edge text.elabel { text-anchor: start; font-size: 9px; fill: #64748b; }
svg .edge text.elabel.left { text-anchor: end; }
svg .e-completed polyline { stroke: #334155; } svg .e-completed polygon { fill: #334155; }
svg .e-failed polyline { stroke: #f87171; } svg .e-failed polygon { fill: #f87171; }
svg .e-always polyline { stroke: #6366f1; stroke-dasharray: 2 2; } svg .e-always polygon { fill: #6366f1; }
svg .e-timer polyline { stroke: #f59e0b; } svg .e-timer polygon { fill: #f59e0b; }
svg .e-operator polyline { stroke: #a855f7; stroke-dasharray: 5 3; } svg .e-operator polygon { fill: #a855f7; }
svg .edge.taken polyline { stroke: #ca8a04; stroke-width: 3.5; stroke-dasharray: none; } svg .edge.taken polygon { fill: #ca8a04; }
svg .start { fill: #0f172a; stroke: #0f172a; }
#recent-panel table { border-collapse: collapse; width: 100%; font: 11px ui-monospace, Menlo, Consolas, monospace; }
#recent-panel td { padding: 1px 6px; border-bottom: 1px solid #f1f5f9; white-space: nowrap; cursor: pointer; }
#recent-panel tr.now { background: #fef9c3; font-weight: 700; }
#recent-panel tr.later { color: #94a3b8; }
#selected { margin: 0 0 8px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
`;

/** Embed JSON in a script element: `<` escaped so no `</script>` or `<!--` can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** The whole self-contained page for the viewer's data. */
export function viewerPage(data: ViewerData): string {
  const last = Math.max(0, data.rows.length - 1);
  const kinds: StateKind[] = ['not_started', 'working', 'waiting', 'rate_limited', 'interrupted', 'failed', 'completed'];
  const code = [escapeHtml, graphSvg, treeHtml, viewerActors, viewerTree, viewerMain].map((f) => f.toString()).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>expctl view: ${escapeHtml(data.experiment)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(data.experiment)}</h1>
  <span>state <span id="exp-state" class="pill"></span></span>
  <span class="muted">${data.rows.length} rows (seq ${data.rows[0]?.seq ?? '–'} … ${data.rows.at(-1)?.seq ?? '–'})</span>
  <span id="runs" class="muted"></span>
</header>
<section id="controls">
  <div class="bar">
    <button id="first" title="first row (Home)">|◀</button>
    <button id="prev" title="previous row (←)">◀</button>
    <input type="range" id="timeline" min="0" max="${last}" step="1" value="${last}" aria-label="row of the log">
    <button id="next" title="next row (→)">▶</button>
    <button id="last" title="last row (End)">▶|</button>
    <button id="play">▶ play</button>
    <label title="select the actor of the current row"><input type="checkbox" id="follow"> follow</label>
  </div>
  <div id="row">row <b id="pos"></b>/${data.rows.length} · seq <b id="seq"></b> · <span id="row-at"></span> · <b id="row-stream"></b> · <span id="row-type"></span> → <b id="row-state"></b></div>
</section>
<main>
  <div>
    <section class="panel">
      <h2>Tiers → subtests → runs</h2>
      <div id="tree"></div>
      <div class="legend">${kinds.map((k) => `<span class="k-${k}">${k.replace('_', ' ')}</span>`).join('')}</div>
      <p class="muted">Click an actor to show its state in its machine. ← → Home End move through the rows.</p>
    </section>
    <section class="panel" id="recent-panel">
      <h2>Rows around this one</h2>
      <table><tbody id="recent"></tbody></table>
    </section>
  </div>
  <section class="panel">
    <h2>Machines</h2>
    <p id="selected"></p>
    <div id="charts"></div>
    <p class="muted">Edges: dark = effect completed, red = effect failed, blue dotted = eventless (always), amber = timer, purple dashed = operator; gold = the transition the selected actor just took. ×N: actors of that machine in that state.</p>
  </section>
</main>
<script type="application/json" id="viewer-data">${scriptJson(data)}</script>
<script>
${code}
if (typeof document !== 'undefined') viewerMain(document, window);
</script>
</body>
</html>
`;
}

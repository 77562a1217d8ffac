/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/*
 * The viewer page's script: the entry point that scripts/bundle.mjs bundles
 * (with observe/status-tree.ts and ./render.ts) into one script inlined in
 * the page. It runs in the browser; `Timeline` and `treeAt` also run in
 * tests, which load the bundle as the page does.
 */
import { statusTree, type StatusTree } from '../status-tree.js';
import type { ViewerData } from './data.js';
import { escapeHtml, graphSvg, treeHtml } from './render.js';
import { Timeline, type ActorAt } from './timeline.js';

export { Timeline, treeHtml, type ActorAt };

/** The tier → subtest → run tree as of row `index`, as `history --at` prints it. */
export function treeAt(timeline: Timeline, index: number): StatusTree {
  const actors = timeline.actorsAt(index);
  return statusTree(timeline.data.experiment, (stream) => actors.get(stream), { plan: timeline.planAt(index) });
}

/** The page's timeline: its data, and its chunks of rows in their own script elements, read when needed. */
export function pageTimeline(document: Document): Timeline {
  const text = (id: string) => document.getElementById(id)!.textContent!;
  return new Timeline(JSON.parse(text('viewer-data')) as ViewerData, (chunk) => text(`viewer-rows-${chunk}`));
}

/** The elements the page's script reads and writes, by id. */
function elements(document: Document) {
  const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
  return {
    slider: $<HTMLInputElement>('timeline'), follow: $<HTMLInputElement>('follow'), play: $('play'),
    expState: $('exp-state'), runs: $('runs'), pos: $('pos'), seq: $('seq'), rowAt: $('row-at'), rowStream: $('row-stream'),
    rowType: $('row-type'), rowState: $('row-state'), tree: $('tree'), charts: $('charts'), selected: $('selected'), recent: $('recent'),
  };
}

type Elements = ReturnType<typeof elements>;

/** The page's behaviour: slider, buttons and keys move through the rows; the tree and the charts follow. */
export function viewerMain(document: Document, window: Window): void {
  const timeline = pageTimeline(document);
  const { data } = timeline;
  const el = elements(document);
  const last = timeline.last;
  const view = { selected: data.experiment };
  el.charts.innerHTML = data.graphs.map((g) => `<figure class="chart" data-machine="${g.machine}"><figcaption><b>${g.machine}</b> <small>${escapeHtml(data.machines[g.machine])}</small></figcaption>`
    + `<div class="svg-wrap">${graphSvg(g)}</div>${g.notes.length ? `<ul class="notes">${g.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}</figure>`).join('');
  const render = () => renderRow(document, timeline, el, view);
  const go = (i: number) => {
    el.slider.value = String(Math.max(0, Math.min(last, i)));
    render();
  };
  bindControls(document, window, el, { go, render, last, select: (stream) => { view.selected = stream; el.follow.checked = false; render(); } });
  render();
  // when the page first shows the experiment (the bench reads it)
  window.performance?.mark?.('expctl-rendered');
}

/** Show row `slider.value`: the row line, the tree, the charts and the rows around it. */
function renderRow(document: Document, timeline: Timeline, el: Elements, view: { selected: string }): void {
  const { data } = timeline;
  const i = Number(el.slider.value);
  const actors = timeline.actorsAt(i);
  const tree = treeAt(timeline, i);
  const row = i >= 0 && i <= timeline.last ? timeline.row(i) : null;
  const rowStream = row ? row.stream : null;
  if (el.follow.checked && rowStream) view.selected = rowStream;
  const short = (stream: string) => (stream === data.experiment ? stream : stream.slice(data.experiment.length + 1));
  el.expState.textContent = tree.state;
  el.expState.className = `pill k-${tree.state === 'not_started' ? 'not_started' : data.kinds.experiment![tree.state] || 'working'}`;
  const r = tree.runs;
  el.runs.textContent = `runs: ${r.completed}/${r.total} done, ${r.running} running, ${r.failed} failed, ${r.rateLimited} rate-limited, ${r.pending} not started`;
  el.pos.textContent = String(i + 1);
  el.seq.textContent = row ? String(row.seq) : '';
  el.rowAt.textContent = row ? row.at : '';
  el.rowStream.textContent = rowStream ? short(rowStream) : '';
  el.rowType.textContent = row ? row.type : '';
  el.rowState.textContent = row ? row.state : '';
  el.tree.innerHTML = treeHtml(tree, data.kinds, view.selected, rowStream);
  const chosen = actors.get(view.selected);
  renderCharts(document, actors, chosen, i);
  const its = chosen ? timeline.row(chosen.row) : null;
  el.selected.textContent = chosen
    ? `selected: ${short(view.selected)} (${chosen.machine}) in ${chosen.state}${chosen.machine === 'run' && chosen.attempt > 1 ? `, attempt ${chosen.attempt}` : ''}; its last row: seq ${its!.seq} ${its!.type}`
    : `selected: ${short(view.selected)}, not started as of this row`;
  const from = Math.max(0, i - 7);
  const around = Array.from({ length: Math.max(0, Math.min(timeline.last, i + 3) - from + 1) }, (_, k) => timeline.row(from + k));
  el.recent.innerHTML = around.map((x, k) => `<tr data-index="${from + k}" class="${from + k === i ? 'now' : from + k > i ? 'later' : ''}"><td>${x.seq}</td><td>${escapeHtml(x.at.slice(11, 23))}</td>`
    + `<td>${escapeHtml(short(x.stream))}</td><td>${escapeHtml(x.type)}</td><td>${escapeHtml(x.state)}</td></tr>`).join('');
}

/** Charts: how many actors of each machine are in each state; the selected actor's state and the transition it just took. */
function renderCharts(document: Document, actors: Map<string, ActorAt>, chosen: ActorAt | undefined, i: number): void {
  const counts: Record<string, Record<string, number>> = {};
  for (const a of actors.values()) (counts[a.machine] ||= {})[a.state] = ((counts[a.machine] || {})[a.state] || 0) + 1;
  for (const fig of document.querySelectorAll('figure.chart')) {
    const machine = fig.getAttribute('data-machine')!;
    const mine = Boolean(chosen && chosen.machine === machine);
    fig.classList.toggle('selected', mine);
    for (const node of fig.querySelectorAll('g.node')) {
      const name = node.getAttribute('data-node')!;
      const n = (counts[machine] || {})[name] || 0;
      node.classList.toggle('current', mine && chosen!.state === name);
      node.classList.toggle('occupied', n > 0);
      node.querySelector('text.count')!.textContent = n > 0 ? `×${n}` : '';
    }
    for (const edge of fig.querySelectorAll('g.edge')) {
      const taken = mine && chosen!.row === i && edge.getAttribute('data-from') === chosen!.previous && edge.getAttribute('data-to') === chosen!.state;
      edge.classList.toggle('taken', taken);
    }
  }
}

interface Controls {
  go(i: number): void;
  render(): void;
  select(stream: string): void;
  last: number;
}

/** Buttons, keys (← → PageUp PageDown Home End, Enter on an actor), clicks on the tree and the rows. */
function bindControls(document: Document, window: Window, el: Elements, c: Controls): void {
  let timer: number | null = null;
  const at = () => Number(el.slider.value);
  const play = () => {
    if (timer !== null) { window.clearInterval(timer); timer = null; el.play.textContent = '▶ play'; return; }
    if (at() >= c.last) c.go(0);
    el.play.textContent = '|| pause';
    timer = window.setInterval(() => (at() >= c.last ? play() : c.go(at() + 1)), 150);
  };
  el.slider.addEventListener('input', c.render);
  document.getElementById('first')!.addEventListener('click', () => c.go(0));
  document.getElementById('prev')!.addEventListener('click', () => c.go(at() - 1));
  document.getElementById('next')!.addEventListener('click', () => c.go(at() + 1));
  document.getElementById('last')!.addEventListener('click', () => c.go(c.last));
  el.play.addEventListener('click', play);
  el.follow.addEventListener('change', c.render);
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    if (target === el.slider || event.altKey || event.ctrlKey || event.metaKey) return;
    const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
    if (event.key in step) c.go(at() + step[event.key]!);
    else if (event.key === 'Home') c.go(0);
    else if (event.key === 'End') c.go(c.last);
    else if (event.key === 'Enter' && target.dataset?.stream) c.select(target.dataset.stream);
    else return;
    event.preventDefault();
  });
  el.tree.addEventListener('click', (event) => {
    const actor = (event.target as HTMLElement).closest('[data-stream]');
    if (actor) c.select(actor.getAttribute('data-stream')!);
  });
  el.recent.addEventListener('click', (event) => {
    const tr = (event.target as HTMLElement).closest('tr[data-index]');
    if (tr) c.go(Number(tr.getAttribute('data-index')));
  });
}

if (typeof document !== 'undefined') viewerMain(document, window);

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExpctlError } from '../../util/errors.js';
import type { ViewerChunk, ViewerData } from './data.js';
import type { StateKind } from './layout.js';
import { escapeHtml } from './render.js';

/*
 * The offline page. Everything is inline: CSS, the data as JSON, and the
 * page's script (./client.ts, bundled by `npm run build` into
 * client.bundle.js). The page requests nothing: no URLs, no fonts, no
 * images, no fetch.
 */

const BUNDLE = 'client.bundle.js';

/** The bundled page script: next to this module in dist/, or in dist/ of the package when running from source. */
export function clientScript(): string {
  // a `</script>` inside the script would end the element early
  return builtBundle(import.meta.url, BUNDLE, "the viewer's page script").replaceAll('</script', '<\\/script');
}

/** A script `npm run build` bundled next to the module at `moduleUrl` (in dist/; from source, in dist/ of the package). */
export function builtBundle(moduleUrl: string, name: string, what: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const root = packageRoot(here);
  const candidates = [join(here, name), join(root, 'dist', relative(root, here), name)];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new ExpctlError('EXPCTL_ASSET_MISSING', `${what} is not built (looked for ${candidates.join(', ')})`, 'run `npm run build` in the expctl folder');
  return readFileSync(found, 'utf8');
}

function packageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  return from;
}

/** The viewer's styles: the tree, the statecharts and their colours (the live UI uses them too). */
export const VIEWER_CSS = `
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
/* a big experiment's tree is laid out only where it is on screen */
.tree > li > ul > li { content-visibility: auto; contain-intrinsic-size: auto 400px; }
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
.o-passed { --bg: #bbf7d0; --bd: #15803d; --fg: #14532d; }
.o-not_passed { --bg: #fef9c3; --bd: #ca8a04; --fg: #713f12; }
.o-errored { --bg: #fecaca; --bd: #b91c1c; --fg: #7f1d1d; }
.actor .outcome, .actor .passes { margin-left: auto; font-size: 11px; font-weight: 600; }
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

/**
 * The whole self-contained page for the viewer's data. The rows go in chunks,
 * each its own JSON script element: the browser does not parse them as it
 * loads the page, and the page decodes one only when the slider reaches it.
 */
export function viewerPage(data: ViewerData, chunks: readonly ViewerChunk[]): string {
  const last = Math.max(0, data.rows - 1);
  const kinds: StateKind[] = ['not_started', 'working', 'waiting', 'rate_limited', 'interrupted', 'failed', 'completed'];
  const code = clientScript();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>expctl view: ${escapeHtml(data.experiment)}</title>
<style>${VIEWER_CSS}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(data.experiment)}</h1>
  <span>state <span id="exp-state" class="pill"></span></span>
  <span class="muted">${data.rows} rows (seq ${data.firstSeq ?? '–'} … ${data.lastSeq ?? '–'})</span>
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
  <div id="row">row <b id="pos"></b>/${data.rows} · seq <b id="seq"></b> · <span id="row-at"></span> · <b id="row-stream"></b> · <span id="row-type"></span> → <b id="row-state"></b></div>
</section>
<main>
  <div>
    <section class="panel">
      <h2>Tiers → subtests → runs</h2>
      <div id="tree"></div>
      <div class="legend">${kinds.map((k) => `<span class="k-${k}">${k.replace('_', ' ')}</span>`).join('')} · runs by outcome: <span class="o-passed">passed</span><span class="o-not_passed">not passed</span><span class="o-errored">errored</span></div>
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
${chunks.map((chunk, i) => `<script type="application/json" id="viewer-rows-${i}">${scriptJson(chunk)}</script>`).join('\n')}
<script>
${code}
</script>
</body>
</html>
`;
}

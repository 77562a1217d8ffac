import { builtBundle, VIEWER_CSS } from '../viewer/page.js';

/*
 * The live UI's one HTML page and its script (observe/serve/app/, bundled by
 * `npm run build` into app.bundle.js next to this module). The page loads
 * nothing but its own script and the API of the server that served it: no
 * CDN, no fonts, no images.
 */

const APP_CSS = `
body { min-width: 0; }
a { color: #1d4ed8; }
nav.top { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; padding: 8px 16px; background: #0f172a; color: #e2e8f0; }
nav.top a { color: #e2e8f0; text-decoration: none; }
nav.top .brand { font-weight: 700; }
nav.top .live { margin-left: auto; font-size: 12px; }
nav.top .live.off { color: #fca5a5; }
.page { padding: 12px 16px; max-width: 1400px; }
.page h1 { font-size: 20px; margin: 4px 0 8px; word-break: break-all; }
.page h2 { margin-top: 14px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 16px; color: #475569; margin-bottom: 8px; }
.meta code, code.hash { font-size: 11px; word-break: break-all; }
.meta > span { min-width: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
table.grid { border-collapse: collapse; width: 100%; background: #fff; font-size: 12px; }
table.grid th, table.grid td { padding: 3px 8px; border-bottom: 1px solid #e2e8f0; text-align: left; white-space: nowrap; }
table.grid th { background: #f1f5f9; position: sticky; top: 0; }
table.grid td.num, table.grid th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.grid tr.o-passed td { background: #dcfce7; }
table.grid tr.o-not_passed td { background: #fef9c3; }
table.grid tr.o-errored td { background: #fee2e2; }
table.grid tr.click { cursor: pointer; }
table.grid tr.click:hover td { filter: brightness(0.96); }
.filters { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; margin: 8px 0; }
.filters input, .filters select, button { font: inherit; padding: 2px 6px; border: 1px solid #cbd5e1; border-radius: 4px; background: #fff; }
button { background: #f1f5f9; cursor: pointer; }
.pager { display: flex; gap: 8px; align-items: center; margin: 6px 0; flex-wrap: wrap; }
.tabs { display: flex; gap: 4px; margin: 8px 0; border-bottom: 1px solid #cbd5e1; flex-wrap: wrap; }
.tabs a { padding: 4px 10px; text-decoration: none; border: 1px solid transparent; border-bottom: none; border-radius: 4px 4px 0 0; }
.tabs a.on { border-color: #cbd5e1; background: #fff; color: #0f172a; font-weight: 600; }
.cols { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; align-items: start; }
@media (max-width: 900px) { .cols { grid-template-columns: minmax(0, 1fr); } }
pre.out { background: #0f172a; color: #e2e8f0; padding: 8px; border-radius: 6px; max-height: 420px; overflow: auto; font-size: 12px; margin: 4px 0; white-space: pre-wrap; word-break: break-word; }
pre.out mark { background: #facc15; color: #0f172a; }
pre.diff { background: #fff; color: #0f172a; border: 1px solid #e2e8f0; white-space: pre; }
pre.diff .add { background: #dcfce7; display: block; }
pre.diff .del { background: #fee2e2; display: block; }
pre.diff .hunk { color: #6366f1; display: block; }
pre.diff .file { font-weight: 700; display: block; }
.verdict { border: 1px solid #e2e8f0; border-left: 4px solid var(--bd); background: #fff; border-radius: 4px; padding: 6px 10px; margin: 6px 0; }
.verdict.pass { --bd: #15803d; } .verdict.fail { --bd: #ca8a04; }
.verdict p { margin: 4px 0; white-space: pre-wrap; }
.error { color: #b91c1c; }
.notfound { padding: 24px 16px; }
.scrubber { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.scrubber input[type=range] { flex: 1; min-width: 160px; }
.rows-box { max-height: 70vh; overflow-y: auto; }
.charts-row { margin-top: 12px;  display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 10px; align-items: start; }
/* on a narrow window the tables keep their main columns; the rest are on the run's page or a wider window */
@media (max-width: 600px) { table.grid .opt { display: none; } table.grid td:first-child { white-space: normal; } .page { padding: 10px; } }
.pill.o-passed, .pill.o-not_passed, .pill.o-errored { font-family: inherit; }
`;

export const servePage = {
  /** The page: the same for every path (the script routes), with its styles inline. */
  html(): string {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>expctl</title>
<style>${VIEWER_CSS}${APP_CSS}</style>
</head>
<body>
<div id="app"><p class="page">loading…</p></div>
<script src="/assets/app.js"></script>
</body>
</html>
`;
  },
  script(): string {
    return (cachedScript ??= builtBundle(import.meta.url, 'app.bundle.js', "the web UI's script"));
  },
};

let cachedScript: string | undefined;

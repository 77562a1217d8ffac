// Bundles the browser code (run by `npm run build`, after tsc): each entry
// becomes one self-contained script in dist/, next to the module that serves
// or inlines it.
import { build } from 'esbuild';

const entries = [
  // the offline viewer page's script (observe/viewer/page.ts inlines it)
  { in: 'observe/viewer/client.ts', out: 'dist/observe/viewer/client.bundle.js', globalName: 'expctlViewer', minify: false },
  // the live web UI (`expctl serve`; observe/serve/page.ts serves it): preact and the viewer's drawing, bundled
  { in: 'observe/serve/app/main.tsx', out: 'dist/observe/serve/app.bundle.js', globalName: 'expctlServe', minify: true },
];

for (const entry of entries) {
  await build({
    entryPoints: [entry.in],
    outfile: entry.out,
    bundle: true,
    format: 'iife',
    globalName: entry.globalName,
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: entry.minify,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

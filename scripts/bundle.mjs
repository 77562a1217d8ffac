// Bundles the browser code (run by `npm run build`, after tsc): each entry
// becomes one self-contained script in dist/, next to the module that inlines it.
import { build } from 'esbuild';

const entries = [
  // the offline viewer page's script (observe/viewer/page.ts inlines it)
  { in: 'observe/viewer/client.ts', out: 'dist/observe/viewer/client.bundle.js', globalName: 'expctlViewer' },
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
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

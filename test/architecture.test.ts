import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The house rules (docs/architecture.md), checked on the source: every
 * import, `import type` included, of every file below the repository root
 * (tests, benchmarks, scripts and docs excepted). In the spirit of zod's
 * no-circular-imports test. The web UI's .tsx files count as source too.
 */

const ROOT = resolve(import.meta.dirname, '..');
const LAYERS = ['cli', 'observe', 'runner', 'workspace', 'analysis', 'engine', 'store', 'machines', 'schemas', 'util'] as const;
type Layer = (typeof LAYERS)[number] | 'index.ts';

/** What each layer may import (besides itself). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  'index.ts': ['observe', 'runner', 'workspace', 'analysis', 'engine', 'store', 'machines', 'schemas', 'util'],
  cli: ['observe', 'runner', 'workspace', 'analysis', 'engine', 'store', 'machines', 'schemas', 'util'],
  observe: ['runner', 'analysis', 'engine', 'store', 'machines', 'schemas', 'util'],
  runner: ['workspace', 'analysis', 'engine', 'store', 'machines', 'schemas', 'util'],
  workspace: ['util'],
  analysis: ['schemas', 'util'],
  engine: ['store', 'schemas', 'util'],
  store: ['schemas', 'util'],
  machines: ['schemas', 'util', 'engine'],
  schemas: ['util'],
  util: [],
};

interface Import { from: string; to: string; typeOnly: boolean; line: string }

function sourceFiles(): string[] {
  const files = ['index.ts'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const layer of LAYERS) walk(layer);
  return files;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = m[3] ?? m[4]!;
    const asTs = relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts');
    // `./x.js` is x.ts, or x.tsx (the web UI's components)
    const to = files.includes(asTs) ? asTs : `${asTs}x`;
    // `import { type A, type B }` is type-only too
    const names = /\{([^}]*)\}/.exec(m[0])?.[1];
    const allTypes = names !== undefined && names.split(',').filter((n) => n.trim()).every((n) => n.trim().startsWith('type '));
    return { from: file, to, typeOnly: Boolean(m[2]) || allTypes, line: m[0].trim() };
  });
}

const layerOf = (file: string): Layer => (file === 'index.ts' ? 'index.ts' : (file.split('/')[0] as Layer));
const files = sourceFiles();
const imports = files.flatMap(importsOf);
const code = (file: string) => readFileSync(join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');

/** Strongly connected components with more than one file (Tarjan). */
function cycles(): string[][] {
  const edges = new Map(files.map((f) => [f, imports.filter((i) => i.from === f).map((i) => i.to)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

describe('architecture', () => {
  it('reads every source file and its imports', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(imports.length).toBeGreaterThan(300);
    for (const i of imports) expect(files, `${i.from}: ${i.line}`).toContain(i.to);
  });

  it('has no import cycles, type imports included', () => {
    expect(cycles()).toEqual([]);
  });

  it('imports only downwards: each layer from the layers it may use', () => {
    const wrong = imports.filter((i) => layerOf(i.from) !== layerOf(i.to) && !ALLOWED[layerOf(i.from)].includes(layerOf(i.to)));
    expect(wrong.map((i) => `${i.from}: ${i.line}`)).toEqual([]);
  });

  it('machines/ imports only types from engine/; engine/ and store/ nothing of runner/, machines/ or cli/', () => {
    const machineValues = imports.filter((i) => layerOf(i.from) === 'machines' && layerOf(i.to) === 'engine' && !i.typeOnly);
    expect(machineValues.map((i) => `${i.from}: ${i.line}`)).toEqual([]);
    const generic = imports.filter((i) => ['engine', 'store'].includes(layerOf(i.from)) && ['runner', 'machines', 'cli'].includes(layerOf(i.to)));
    expect(generic.map((i) => `${i.from}: ${i.line}`)).toEqual([]);
    // the generic layers know no lifecycle event
    const lifecycle = files.filter((f) => ['engine', 'store'].includes(layerOf(f)) && /\bLifecycleEvent\b/.test(code(f)));
    expect(lifecycle).toEqual([]);
  });

  it('nothing below cli/ prints or exits', () => {
    // the supervisor and the executor host are entry points of processes of their own (started by the executor), not modules of the driver
    const programs = new Set(['workspace/supervisor.ts', 'workspace/executor-host.ts']);
    const printing = files.filter((f) => layerOf(f) !== 'cli' && !programs.has(f) && /\bconsole\.|process\.(stdout|stderr)\b|process\.exit\b/.test(code(f)));
    expect(printing).toEqual([]);
  });

  it('observe/ only reads the log: no appends, imports, snapshots or leases; no runtime', () => {
    const writing = files.filter((f) => layerOf(f) === 'observe' && /\.(append|importRows|saveSnapshot|acquireLease|heartbeat|releaseLease)\(|\bnew Runtime\b|driveExperiment|forkExperiment/.test(code(f)));
    expect(writing).toEqual([]);
  });

  it('the browser-side modules (bundled into the viewer page and the web UI) import nothing of Node, directly or not', () => {
    const reach = (file: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(file)) return seen;
      seen.add(file);
      for (const i of imports.filter((x) => x.from === file && !x.typeOnly)) reach(i.to, seen);
      return seen;
    };
    const bundled = [...reach('observe/viewer/client.ts'), ...reach('observe/serve/app/main.tsx')];
    expect(bundled).toContain('observe/viewer/render.ts');
    expect(bundled.filter((f) => /from '(node:|better-sqlite3|zod|xstate)/.test(readFileSync(join(ROOT, f), 'utf8')))).toEqual([]);
  });

  it('keeps files short and functions shorter: no source file over 350 lines, no function over 60', () => {
    const long: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      if (text.split('\n').length > 350) long.push(`${file}: ${text.split('\n').length} lines`);
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const [from, to] = [node.getStart(), node.end].map((at) => source.getLineAndCharacterOfPosition(at).line);
          if (to! - from! + 1 > 60) long.push(`${file}:${from! + 1}: a function of ${to! - from! + 1} lines`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { viewCommand } from '../../cli/view.js';
import { experimentStatus } from '../../observe/status.js';
import { RUN_STEPS } from '../../machines/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { buildViewer, layoutMachine, type Timeline, type ViewerData } from '../../observe/viewer/index.js';
import type { StatusTree } from '../../observe/status-tree.js';
import type { EventStore } from '../../store/types.js';
import { completed, failed, finished, operator, reset, timerElapsed } from '../support/events.js';
import { LogWriter } from '../support/log.js';
import { useTempDir } from '../support/temp.js';
import { flattenTree } from '../support/tree.js';
import { memoryLog, openLog } from '../support/stores.js';

const tempDir = useTempDir('expctl-viewer-');
const KEY = 'exp';

/**
 * A small experiment written the way the live loop writes it: T0 with two
 * subtests (a: one run passes, one is retried, rate limited and fails; b: its
 * only run fails, so b fails), T0 completes with a best subtest, a tier added
 * on the way, T1 left mid-way, and an operator reset of a finished run.
 */
function writeLog(store: EventStore): LogWriter {
  const w = new LogWriter(store, lifecycleRegistry, KEY);
  const run = (sub: string, n: number) => `${KEY}/T0/${sub}/${n}`;
  const runInput = (sub: string, n: number) => ({ tier: 'T0', subtest: sub, run: n, maxAttempts: 2 });
  const allSteps = RUN_STEPS.map(([, effect]) => completed(effect));
  w.create(KEY, 'experiment', { experiment: KEY, tiers: [{ id: 'T0', dependsOn: [] }, { id: 'T1', dependsOn: ['T0'] }], failFast: false, maxAttempts: 2 })
    .send(KEY, completed('initializeExperiment'), completed('prepareRepository'), completed('preflightChecks'))
    .create(`${KEY}/T0`, 'tier', { tier: 'T0', maxAttempts: 2 }, KEY)
    .send(`${KEY}/T0`, completed('loadTierConfig', 1, { subtests: ['a', 'b'] }), completed('startSubtests'))
    .create(`${KEY}/T0/a`, 'subtest', { tier: 'T0', subtest: 'a', runs: 2, maxAttempts: 2 }, `${KEY}/T0`)
    .send(`${KEY}/T0/a`, completed('startRuns'))
    .create(run('a', 1), 'run', runInput('a', 1), `${KEY}/T0/a`)
    .create(run('a', 2), 'run', runInput('a', 2), `${KEY}/T0/a`)
    .send(run('a', 1), ...allSteps.slice(0, 6))
    .send(run('a', 2), failed('createRunDir', 1, { retryable: true }), completed('createRunDir', 2))
    .send(run('a', 1), ...allSteps.slice(6))
    .send(`${KEY}/T0/a`, finished('run', '1'))
    .send(run('a', 2), ...RUN_STEPS.slice(1, 5).map(([, effect]) => completed(effect)))
    .send(run('a', 2), failed('runAgent', 1, { retryAt: 1_000 }), timerElapsed('retryAfter', 1_000), failed('runAgent', 2))
    .send(`${KEY}/T0/a`, finished('run', '2', 'failed'))
    .send(`${KEY}/T0/a`, completed('aggregateSubtest'))
    .send(`${KEY}/T0`, finished('subtest', 'a'))
    .send(KEY, { type: 'experiment.tiers_added', data: { tiers: [{ id: 'T2', dependsOn: [] }], start: { config: {}, configDir: '/tmp' }, operator } })
    .create(`${KEY}/T0/b`, 'subtest', { tier: 'T0', subtest: 'b', runs: 1, maxAttempts: 2 }, `${KEY}/T0`)
    .send(`${KEY}/T0/b`, completed('startRuns'))
    .create(run('b', 1), 'run', runInput('b', 1), `${KEY}/T0/b`)
    .send(run('b', 1), failed('createRunDir'))
    .send(`${KEY}/T0/b`, finished('run', '1', 'failed'))
    .send(`${KEY}/T0`, finished('subtest', 'b', 'failed'))
    .send(`${KEY}/T0`, completed('selectBestSubtest', 1, { subtest: 'a', reason: 'the only one' }), completed('writeTierReport'), completed('completeTier'))
    .send(KEY, finished('tier', 'T0'))
    .create(`${KEY}/T1`, 'tier', { tier: 'T1', maxAttempts: 2 }, KEY)
    .send(`${KEY}/T1`, completed('loadTierConfig', 1, { subtests: ['x'] }))
    .send(run('a', 1), reset('run_agent_complete'));
  return w;
}

/** The page's own script (the bundle it inlines), evaluated outside a browser on the page's own data: its pure functions, as the page runs them. */
function pageFunctions(html: string) {
  const script = /<script>\n([\s\S]*?)<\/script>/.exec(html)![1]!;
  const json = (id: string) => new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(html)![1]!;
  const sandbox: Record<string, unknown> = {};
  runInNewContext(`${script}\nthis.fns = expctlViewer;`, sandbox);
  const fns = sandbox.fns as {
    Timeline: new (data: ViewerData, chunkText: (chunk: number) => string) => Timeline;
    treeAt: (timeline: Timeline, index: number) => StatusTree;
    treeHtml: (tree: StatusTree, kinds: ViewerData['kinds'], selected: string, changed: string | null) => string;
  };
  const data = JSON.parse(json('viewer-data')) as ViewerData;
  const decoded: number[] = [];
  const timeline = new fns.Timeline(data, (chunk) => (decoded.push(chunk), json(`viewer-rows-${chunk}`)));
  return { ...fns, data, timeline, decoded, treeAt: (i: number) => fns.treeAt(timeline, i) };
}

/** status JSON without what time travel does not have (the log position and driver). */
function treeOf(store: EventStore, seq: number): StatusTree {
  const { lastSeq: _l, rows: _r, driver: _d, paused: _p, ...tree } = experimentStatus(store, KEY, seq);
  return JSON.parse(JSON.stringify(tree)) as StatusTree;
}

describe('offline viewer: data and tree', () => {
  const store = memoryLog();
  writeLog(store);
  // small chunks, so that the rows span several of them
  const { html, data } = buildViewer(store, KEY, 7);
  const page = pageFunctions(html);
  const rows = [...store.readExperiment(KEY)];

  it('embeds one entry per row of the log, in order, with its time, stream, event and resulting state, in chunks', () => {
    expect(rows.length).toBe(50);
    expect(page.data).toEqual(JSON.parse(JSON.stringify(data)));
    expect(page.data.rows).toBe(50);
    expect(html.match(/id="viewer-rows-\d+"/g)).toHaveLength(8);
    const shown = rows.map((_, i) => page.timeline.row(i));
    expect(shown).toEqual(rows.map((r) => ({ seq: r.seq, at: r.at, stream: r.stream, type: r.event.type, state: String(r.state) })));
  });

  it('opens at the last row without decoding a chunk of rows', () => {
    const fresh = pageFunctions(html);
    expect(fresh.treeAt(rows.length - 1)).toEqual(treeOf(store, rows.at(-1)!.seq));
    expect(fresh.decoded).toEqual([]);
    expect(fresh.treeAt(9)).toEqual(treeOf(store, rows[9]!.seq));
    expect(fresh.decoded).toEqual([0, 1]);
    // and any row in any order, from the nearest chunk start it has folded up to
    for (const i of [30, 2, 48, 0, 17]) expect(fresh.treeAt(i), `row ${i}`).toEqual(treeOf(store, rows[i]!.seq));
  });

  it('rebuilds, with the page\'s own script, the same tree as `history --at SEQ` at every row', () => {
    const seen = new Set<string>();
    for (const [i, row] of rows.entries()) {
      const expected = treeOf(store, row.seq);
      expect(page.treeAt(i), `row ${i} (seq ${row.seq})`).toEqual(expected);
      seen.add(JSON.stringify(flattenTree(expected).map(([, state]) => state)));
    }
    // the log covers what the tree must get right: lists that grow, not-started actors, failures, rate limits, a reset
    const last = treeOf(store, rows.at(-1)!.seq);
    expect(last.tiers.map((t) => [t.id, t.state, t.best])).toEqual([['T0', 'tier_complete', 'a'], ['T1', 'tier_config_loaded', null], ['T2', 'not_started', null]]);
    expect(last.tiers[1]!.subtests).toMatchObject([{ id: 'x', state: 'not_started', runs: [] }]);
    expect(last.tiers[0]!.subtests[0]!.runs).toMatchObject([{ run: 1, state: 'run_agent_complete', attempt: 2, outcome: null }, { run: 2, state: 'run_failed', attempt: 2, outcome: 'errored' }]);
    const states = [...seen].join();
    for (const state of ['run_rate_limited', 'subtest_failed', 'run_worktree_cleaned', 'not_started']) expect(states).toContain(state);
  });

  it('draws each actor of that tree with data-stream and data-state, in tree order, at every row', () => {
    for (const [i, row] of rows.entries()) {
      const tree = page.treeAt(i);
      const markup = page.treeHtml(tree, page.data.kinds, KEY, null);
      const drawn = [...markup.matchAll(/data-stream="([^"]*)" data-state="([^"]*)"/g)].map((m) => [m[1], m[2]]);
      expect(drawn, `seq ${row.seq}`).toEqual(flattenTree(treeOf(store, row.seq)));
    }
    const end = page.treeHtml(page.treeAt(rows.length - 1), page.data.kinds, KEY, null);
    expect(end).toMatch(/class="actor k-completed[^"]*" data-stream="exp\/T0"/);
    expect(end).toMatch(/class="actor k-failed[^"]*" data-stream="exp\/T0\/b"/);
    expect(end).toMatch(/class="actor k-not_started[^"]*" data-stream="exp\/T2"/);
    expect(end).toMatch(/class="actor k-working[^"]*" data-stream="exp\/T0\/a\/1"/);
  });

  it('is self-contained: no URL, no external script, stylesheet, import, font or image', () => {
    const forbidden = [
      /<script[^>]*\ssrc=[^>]*>/gi, // external scripts
      /<link\b[^>]*>/gi, // stylesheets, fonts, icons
      /<(?:img|iframe|object|embed|video|audio|source)\b[^>]*>/gi,
      /@import|@font-face|url\(/gi, // CSS that loads something
      /\s(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["'][^"']*["']/gi, // any URL attribute at all
      /=\s*["']?\/\/[^\s"'>]*/g, // protocol-relative URLs
      /https?:[^\s"'<]*/g,
      /\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts|\bimport\(/g,
    ];
    expect(forbidden.flatMap((pattern) => html.match(pattern) ?? [])).toEqual([]);
    // and it is a whole page with the hooks the browser test uses
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('id="timeline"');
    expect(html).toContain(`max="${rows.length - 1}"`);
    expect(html).toContain('id="seq"');
  });
});

describe('offline viewer: statecharts', () => {
  for (const { id, machine } of lifecycleRegistry.values()) {
    it(`lays out every state of the ${id} machine without overlaps, edges from box to box`, () => {
      const graph = layoutMachine(machine);
      expect(graph.nodes.map((n) => n.id).sort()).toEqual(Object.keys(machine.root.states).sort());
      const initial = graph.nodes.find((n) => n.initial)!;
      expect(initial.id).toBe(machine.root.initial!.target[0]!.key);
      expect(initial.layer).toBe(0);
      for (const a of graph.nodes) {
        expect(a.x).toBeGreaterThanOrEqual(0);
        expect(a.x + a.w).toBeLessThanOrEqual(graph.width);
        expect(a.y + a.h).toBeLessThanOrEqual(graph.height);
        for (const b of graph.nodes) {
          if (a === b) continue;
          const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
          expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
        }
      }
      const byId = new Map(graph.nodes.map((n) => [n.id, n]));
      const onBorder = ([x, y]: number[], n: { x: number; y: number; w: number; h: number }) =>
        x! >= n.x - 0.1 && x! <= n.x + n.w + 0.1 && y! >= n.y - 0.1 && y! <= n.y + n.h + 0.1 && (Math.abs(x! - n.x) < 0.2 || Math.abs(x! - n.x - n.w) < 0.2 || Math.abs(y! - n.y) < 0.2 || Math.abs(y! - n.y - n.h) < 0.2);
      for (const e of graph.edges) {
        expect(onBorder(e.points[0]!, byId.get(e.from)!), `${e.from} → ${e.to} starts on ${e.from}`).toBe(true);
        expect(onBorder(e.points.at(-1)!, byId.get(e.to)!), `${e.from} → ${e.to} ends on ${e.to}`).toBe(true);
        expect(e.arrow[0]).toEqual(e.points.at(-1));
      }
      // every transition between two states of the definition is drawn (eventless ones too)
      for (const [name, node] of Object.entries(machine.root.states)) {
        const targets = [...node.transitions.values(), node.always ?? []].flat().flatMap((t) => (t.target ?? []).map((s) => s.key));
        for (const target of targets) expect(graph.edges.some((e) => e.from === name && e.to === target), `${name} → ${target}`).toBe(true);
      }
    });
  }

  it('puts the main line top to bottom: each step of a run one layer below the one before', () => {
    const graph = layoutMachine(lifecycleRegistry.get('run')!.machine);
    const layer = (id: string) => graph.nodes.find((n) => n.id === id)!.layer;
    RUN_STEPS.forEach(([state], i) => expect(layer(state)).toBe(i));
    expect(layer('run_worktree_cleaned')).toBe(RUN_STEPS.length);
    expect(graph.edges.find((e) => e.from === 'run_prompt_written' && e.to === 'run_rate_limited')!.labels.join()).toContain('effect.failed');
    const tier = layoutMachine(lifecycleRegistry.get('tier')!.machine);
    expect(tier.edges.find((e) => e.from === 'tier_subtests_running' && e.to === 'tier_subtests_complete')).toMatchObject({ kind: 'always', labels: ['always [allChildrenFinished]'] });
  });
});

describe('expctl view', () => {
  it('writes <resultsDir>/<key>/view.html by default, or --out, and prints the path', async () => {
    const dir = tempDir();
    const store = openLog(join(dir, 'expctl.db'));
    writeLog(store);
    store.close();
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: () => {}, isTTY: false, color: false, cwd: dir, env: {} };
    await viewCommand(KEY, { resultsDir: '.' }, io);
    const file = join(dir, KEY, 'view.html');
    expect(out).toEqual([`${file}\n`]);
    expect(readFileSync(file, 'utf8')).toContain('<title>expctl view: exp</title>');
    await viewCommand(KEY, { resultsDir: dir, out: 'elsewhere/page.html' }, io);
    expect(out[1]).toBe(`${join(dir, 'elsewhere', 'page.html')}\n`);
    expect(existsSync(join(dir, 'elsewhere', 'page.html'))).toBe(true);
    await expect(viewCommand('nope', { resultsDir: dir }, io)).rejects.toThrow(/nope/);
  });
});

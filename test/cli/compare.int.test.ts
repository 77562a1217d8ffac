/**
 * `expctl compare` through the built CLI: two generations of one config whose
 * verdicts, costs and errors we set through the environment, and a second
 * experiment with other tiers; what a user reads (text and --json), and the
 * exit codes of bad input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareJson } from '../../cli/compare.js';
import type { Io } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { cli } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';

/** The agent spends $COST × its run number and 100 tokens × its run number. */
const AGENT = "const n = Number(process.env.EXPCTL_RUN); console.log(JSON.stringify({ tokens: 100 * n, costUsd: Number(process.env.COST) * n }))";
/** The judge gives the score VERDICTS says for `<subtest>/<run>` (passed at ≥ 0.5), or fails when it says "error". */
const JUDGE = "const v = JSON.parse(process.env.VERDICTS)[process.env.EXPCTL_SUBTEST + '/' + process.env.EXPCTL_RUN]; if (v === 'error') process.exit(1); console.log(JSON.stringify({ score: v, passed: v >= 0.5 }))";

const A = { COST: '0.001', VERDICTS: JSON.stringify({ 'a/1': 0.5, 'a/2': 0.25, 'b/1': 1, 'b/2': 0.75, 'c/1': 1, 'c/2': 1 }) };
const B = { COST: '0.002', VERDICTS: JSON.stringify({ 'a/1': 0.75, 'a/2': 1, 'b/1': 1, 'b/2': 'error' }) };

let dir = '';
let results = '';
const run = (args: string[], env: Record<string, string> = {}) => cli(['--results-dir', results, ...args], { cwd: dir, env });
const json = async (...args: string[]) => {
  const result = await run(['compare', ...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as CompareJson;
};

/** Generation 1 (A), generation 2 (B: better on T0/a, T0/b/2 errors, twice the cost), generation 3 stopped before any verdict; other-1 with other tiers. */
beforeAll(async () => {
  // one results directory for every test of this file (useTempDir removes its directories after each test)
  const made = mkdtempSync(join(tmpdir(), 'expctl-compare-'));
  dir = made;
  results = join(made, 'results');
  const config = { agent: { command: ['node', '-e', AGENT] }, judges: [{ command: ['node', '-e', JUDGE] }], runsPerSubtest: 2, retries: { maxAttempts: 1, backoffSeconds: 0 } };
  writeExperiment(made, { ...config, tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }, { id: 'T1', subtests: [{ id: 'a' }] }] });
  const first = await run(['run', 'experiment.yaml'], A);
  expect(first.code, first.stderr).toBe(0);
  const second = await run(['run', 'experiment.yaml', '--fresh'], B);
  expect(second.code).toBe(1); // T0/b/2 errored
  expect(second.stdout).toContain('experiment exp-1~2 complete: 6 runs: 5 passed, 0 not passed, 1 errored');
  const third = await run(['run', 'experiment.yaml', '--fresh', '--until-run', 'run_agent_complete'], B);
  expect(third.code, third.stderr).toBe(0);
  const other = join(made, 'other');
  writeExperiment(other, { ...config, id: 'other-1', tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'c' }] }, { id: 'T2', subtests: [{ id: 'a' }] }] });
  expect((await run(['run', join(other, 'experiment.yaml')], A)).code).toBe(0);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('compare two generations: B − A', () => {
  it('prints per subtest, tier and overall: pass rate, median score, cost and tokens with their intervals and what they mean', async () => {
    const result = await run(['compare', 'exp-1~1', 'exp-1~2']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'A  exp-1~1  exp_complete · 6 runs: 4 passed, 2 not passed, 0 errored',
      'B  exp-1~2  exp_complete · 6 runs: 5 passed, 0 not passed, 1 errored',
      'Δ is B − A, with its 95% interval',
    ]);
    // by hand: A passed 1/2 (scores 0.5, 0.25), B 2/2 (0.75, 1); Newcombe [-27.3%, +90.5%]; every resampled
    // difference of medians is in [0.25, 0.75]; each run of B cost twice A's ($0.001 × run number)
    expect(result.stdout).toContain([
      '  T0/a   pass 50.0% → 100.0% Δ +50.0% [-27.3%, +90.5%] within noise · median 0.38 → 0.88 Δ +0.50 [+0.25, +0.75] B better',
      '         cost $0.0030 → $0.0060 Δ +$0.0030 · per run $0.0015 → $0.0030 Δ +$0.0015 [+$0.0000, +$0.0030] within noise · tokens 300 → 300 Δ +0 · judged 2 → 2',
    ].join('\n'));
    // T0/b/2 errored in B: left out of pass rate and score (1 judged: no interval for the median), its spend counted
    expect(result.stdout).toContain([
      '  T0/b   pass 100.0% → 100.0% Δ +0.0% [-79.3%, +65.8%] within noise · median 0.88 → 1.00 Δ +0.13 (too few runs to tell)',
      '         cost $0.0030 → $0.0060 Δ +$0.0030 · per run $0.0015 → $0.0030 Δ +$0.0015 [+$0.0000, +$0.0030] within noise · tokens 300 → 300 Δ +0 · judged 2 → 1 · errored 0 → 1',
    ].join('\n'));
    // pooled: T0 3/4 → 3/3, overall 4/6 → 5/5
    expect(result.stdout).toMatch(/^T0 {7}pass 75\.0% → 100\.0% Δ \+25\.0% \[-34\.8%, \+69\.9%\] within noise · median 0\.63 → 1\.00 Δ \+0\.38 /m);
    expect(result.stdout).toMatch(/^overall {2}pass 66\.7% → 100\.0% Δ \+33\.3% \[-16\.1%, \+70\.0%\] within noise · median 0\.50 → 1\.00 Δ \+0\.50 /m);
    expect(result.stdout).toContain('         cost $0.0090 → $0.0180 Δ +$0.0090 · per run $0.0015 → $0.0030 Δ +$0.0015 [+$0.0005, +$0.0023] B costlier · tokens 900 → 900 Δ +0 · judged 6 → 5 · errored 0 → 1');
    expect(lines.filter((l) => /^\S|^ {2}\S/.test(l)).map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(['A', 'B', 'Δ is B − A, with its 95% interval', 'overall', 'T0', 'T0/a', 'T0/b', 'T1', 'T1/a']);
  });

  it('--json: the same numbers, rounded, with the intervals and verdicts', async () => {
    const c = await json('exp-1~1', 'exp-1~2');
    expect(c.a).toEqual({ experiment: 'exp-1', name: 'exp-1~1', state: 'exp_complete', runs: { total: 6, passed: 4, notPassed: 2, errored: 0, withoutOutcome: 0 } });
    expect(c.b).toEqual({ experiment: 'exp-1~2', name: 'exp-1~2', state: 'exp_complete', runs: { total: 6, passed: 5, notPassed: 0, errored: 1, withoutOutcome: 0 } });
    expect(c.onlyInA).toEqual({ tiers: [], subtests: [] });
    const [t0, t1] = c.tiers;
    expect(c.tiers.map((t) => [t.tier, t.subtests.map((s) => s.subtest)])).toEqual([['T0', ['a', 'b']], ['T1', ['a']]]);
    const a = t0!.subtests[0]!;
    expect(a.passRate).toEqual({ a: 0.5, b: 1, delta: 0.5, interval: [-0.2726, 0.9055], verdict: 'within_noise' });
    expect(a.medianScore).toMatchObject({ a: 0.375, b: 0.875, delta: 0.5, verdict: 'b_better' });
    expect(a.costUsd).toEqual({ a: 0.003, b: 0.006, delta: 0.003 });
    expect(a.meanCostUsd).toMatchObject({ a: 0.0015, b: 0.003, delta: 0.0015, verdict: 'within_noise' });
    expect(a.tokens).toEqual({ a: 300, b: 300, delta: 0 });
    const b = t0!.subtests[1]!;
    expect(b.b).toEqual({ runs: 2, judged: 1, passed: 1, notPassed: 0, errored: 1, withoutOutcome: 0, costed: 2 });
    expect(b.passRate).toEqual({ a: 1, b: 1, delta: 0, interval: [-0.7935, 0.6576], verdict: 'within_noise' });
    expect(b.medianScore).toEqual({ a: 0.875, b: 1, delta: 0.125, interval: null, verdict: null });
    expect(b.costUsd).toEqual({ a: 0.003, b: 0.006, delta: 0.003 });
    expect(t0!.passRate).toMatchObject({ a: 0.75, b: 1, delta: 0.25 });
    expect(t0!.a).toMatchObject({ judged: 4, passed: 3 });
    expect(t1!.passRate).toEqual(t1!.subtests[0]!.passRate);
    expect(c.overall!.passRate).toMatchObject({ a: 0.6667, b: 1, delta: 0.3333, interval: [-0.1614, 0.7] });
    expect(c.overall!.medianScore).toMatchObject({ a: 0.5, b: 1, delta: 0.5 });
    expect(c.overall!.costUsd).toEqual({ a: 0.009, b: 0.018, delta: 0.009 });
    expect(c.overall!.meanCostUsd).toMatchObject({ a: 0.0015, b: 0.003, delta: 0.0015, verdict: 'b_worse' });
    expect(c.overall!.b).toMatchObject({ judged: 5, errored: 1, costed: 6 });
  });

  it('an experiment against itself: every delta 0, within noise; `exp-1` is the latest generation', async () => {
    const c = await json('exp-1~2', 'exp-1~2');
    for (const g of [c.overall!, ...c.tiers, ...c.tiers.flatMap((t) => t.subtests)]) {
      for (const m of [g.passRate, g.medianScore, g.meanCostUsd]) {
        expect(m.delta).toBe(0);
        if (m.interval) expect(m.interval[0] <= 0 && m.interval[1] >= 0, JSON.stringify(m)).toBe(true);
        expect([null, 'within_noise']).toContain(m.verdict);
      }
      expect(g.costUsd.delta).toBe(0);
    }
    const latest = await run(['compare', 'exp-1~2', 'exp-1']);
    expect(latest.stdout).toContain('B  exp-1~3  exp_tiers_running');
  });

  it('--tier and --subtest narrow both sides; an id neither has is refused (exit 2) naming theirs', async () => {
    const c = await json('exp-1~1', 'exp-1~2', '--tier', 'T0', '--subtest', 'b');
    expect(c.tiers.map((t) => [t.tier, t.subtests.map((s) => s.subtest)])).toEqual([['T0', ['b']]]);
    const { subtest, ...only } = c.tiers[0]!.subtests[0]!;
    expect(subtest).toBe('b');
    expect(c.overall).toEqual(only);
    expect(c.overall!.a).toMatchObject({ judged: 2, passed: 2 });
    const bad = await run(['compare', 'exp-1~1', 'exp-1~2', '--tier', 'T9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --tier: "T9" is not a tier of exp-1~1 or exp-1~2\nhint: their tiers: T0, T1\n');
  });
});

describe('colour', () => {
  it('colours a verdict by better (green) or worse (red) on a colour terminal only', async () => {
    const out: string[] = [];
    const io: Io = { out: (t) => void out.push(t), err: (t) => void out.push(t), isTTY: true, color: true, cwd: dir, env: process.env };
    expect(await main(['--results-dir', results, 'compare', 'exp-1~1', 'exp-1~2'], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain('\u001b[32mΔ +0.50\u001b[0m [+0.25, +0.75] \u001b[32mB better\u001b[0m');
    expect(text).toContain('\u001b[31mΔ +$0.0015\u001b[0m [+$0.0005, +$0.0023] \u001b[31mB costlier\u001b[0m');
    expect(text).toContain('Δ +50.0% [-27.3%, +90.5%] \u001b[2mwithin noise\u001b[0m');
    expect((await run(['compare', 'exp-1~1', 'exp-1~2'])).stdout).not.toContain('\u001b[');
  });
});

describe('compare an unfinished experiment', () => {
  it('says how many runs have no outcome yet and compares what there is: spend so far, no verdicts', async () => {
    const result = await run(['compare', 'exp-1~1', 'exp-1~3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('B  exp-1~3  exp_tiers_running · 6 runs: 0 passed, 0 not passed, 0 errored, 6 without outcome yet\n');
    expect(result.stdout).toContain('  T0/a   pass 50.0% → — Δ — · median 0.38 → — Δ —\n');
    expect(result.stdout).toContain('         cost $0.0030 → $0.0060 Δ +$0.0030 · per run $0.0015 → $0.0030 Δ +$0.0015 [+$0.0000, +$0.0030] within noise · tokens 300 → 300 Δ +0 · judged 2 → 0 · without outcome 0 → 2\n');
    const c = await json('exp-1~1', 'exp-1~3');
    expect(c.b.runs).toEqual({ total: 6, passed: 0, notPassed: 0, errored: 0, withoutOutcome: 6 });
    expect(c.overall!.passRate).toEqual({ a: 0.6667, b: null, delta: null, interval: null, verdict: null });
    expect(c.overall!.b).toMatchObject({ runs: 6, judged: 0, withoutOutcome: 6, costed: 6 });
  });
});

describe('compare two experiments with partly different tiers and subtests', () => {
  it('matches tiers and subtests by id and lists what only one has', async () => {
    const result = await run(['compare', 'exp-1~1', 'other-1']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('only in A: tier T1, T0/b\nonly in B: tier T2, T0/c\n');
    const c = await json('exp-1~1', 'other-1');
    expect(c.onlyInA).toEqual({ tiers: ['T1'], subtests: ['T0/b'] });
    expect(c.onlyInB).toEqual({ tiers: ['T2'], subtests: ['T0/c'] });
    expect(c.tiers.map((t) => [t.tier, t.subtests.map((s) => s.subtest)])).toEqual([['T0', ['a']]]);
    // the same verdicts and costs on T0/a: nothing changed
    expect(c.overall!.passRate).toMatchObject({ a: 0.5, b: 0.5, delta: 0, verdict: 'within_noise' });
    expect(c.overall!.costUsd).toEqual({ a: 0.003, b: 0.003, delta: 0 });
    expect(c.b.name).toBe('other-1');
  });

  it('refuses two experiments with nothing in common (exit 2), naming the tiers and subtests of each', async () => {
    const result = await run(['compare', 'exp-1~1', 'other-1', '--tier', 'T1,T2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: exp-1~1 and other-1 have no subtest in common (in the tiers and subtests selected): exp-1~1 has T1 (a); other-1 has T2 (a)\nhint: compare experiments or generations that ran tiers and subtests with the same ids, or select others with --tier and --subtest\n');
    expect(result.stdout).toBe('');
  });

  it('an unknown id is the usual not-found error (exit 2), naming it and the experiments there are', async () => {
    const result = await run(['compare', 'exp-1~1', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`error: no experiment nope in ${join(results, 'expctl.db')}\nhint: known experiments: exp-1, exp-1~2, exp-1~3, other-1 (see \`expctl status\`)\n`);
    const generation = await run(['compare', 'exp-1~9', 'exp-1']);
    expect(generation.code).toBe(2);
    expect(generation.stderr).toContain('error: no experiment exp-1~9 in');
  });
});

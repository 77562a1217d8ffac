import { describe, expect, it } from 'vitest';
import { compareExperiments, compareGroups, verdictOf, type SubtestRuns } from '../../analysis/compare.js';
import type { RunResults } from '../../analysis/outcomes.js';
import { bootstrapDifference, median, proportionDifference, roundedInterval } from '../../analysis/stats.js';

/** A judged run: it passes at score ≥ 0.5. */
const judged = (score: number, costUsd: number | null = 0.001, tokens: number | null = 100): RunResults => ({ outcome: score >= 0.5 ? 'passed' : 'not_passed', score, costUsd, tokens, durationMs: 1 });
const errored = (costUsd: number | null = null): RunResults => ({ outcome: 'errored', score: null, costUsd, tokens: null, durationMs: 1 });
const unfinished = (costUsd: number | null = null): RunResults => ({ outcome: null, score: null, costUsd, tokens: null, durationMs: 0 });
const sub = (tier: string, subtest: string, runs: RunResults[], expected?: number): SubtestRuns => ({ tier, subtest, runs, ...(expected === undefined ? {} : { expected }) });

describe('compareGroups: B − A on one group of runs', () => {
  it('1 of 2 passed against 2 of 2: +50 points with the Newcombe interval, within noise', () => {
    const g = compareGroups([sub('T0', 'a', [judged(0.5), judged(0.25)])], [sub('T0', 'a', [judged(0.75), judged(1)])]);
    expect(g.passRate.a).toBe(0.5);
    expect(g.passRate.b).toBe(1);
    expect(g.passRate.delta).toBe(0.5);
    expect(g.passRate.interval).toEqual(roundedInterval(proportionDifference(1, 2, 2, 2)));
    // by hand: Wilson(1, 2) = [0.0945, 0.9055], Wilson(2, 2) = [0.3424, 1];
    // 0.5 − √((1 − 0.3424)² + (0.9055 − 0.5)²) = −0.2726, 0.5 + √(0² + (0.5 − 0.0945)²) = 0.9055
    expect(g.passRate.interval![0]).toBeCloseTo(-0.2726, 3);
    expect(g.passRate.interval![1]).toBeCloseTo(0.9055, 3);
    expect(g.passRate.verdict).toBe('within_noise');
    expect(g.a).toEqual({ runs: 2, judged: 2, passed: 1, notPassed: 1, errored: 0, withoutOutcome: 0, costed: 2 });
  });

  it('median scores 0.375 → 0.875: +0.5 with the seeded bootstrap interval of the difference, which excludes 0', () => {
    const [a, b] = [[0.5, 0.25], [0.75, 1]];
    const g = compareGroups([sub('T0', 'a', a.map((s) => judged(s)))], [sub('T0', 'a', b.map((s) => judged(s)))]);
    expect(g.medianScore).toMatchObject({ a: 0.375, b: 0.875, delta: 0.5, verdict: 'b_better' });
    expect(g.medianScore.interval).toEqual(roundedInterval(bootstrapDifference(a, b, median)));
    // every resampled median of A is in [0.25, 0.5] and of B in [0.75, 1]: the difference is in [0.25, 0.75]
    expect(g.medianScore.interval![0]).toBeGreaterThanOrEqual(0.25);
    expect(g.medianScore.interval![1]).toBeLessThanOrEqual(0.75);
    // and the other way round B is worse
    expect(compareGroups([sub('T0', 'a', b.map((s) => judged(s)))], [sub('T0', 'a', a.map((s) => judged(s)))]).medianScore).toMatchObject({ delta: -0.5, verdict: 'b_worse' });
  });

  it('the same runs on both sides: every delta 0, every interval containing 0, within noise', () => {
    const runs = [judged(0.9, 0.002, 300), judged(0.4, 0.003, 500), judged(0.7, 0.001, 200)];
    const g = compareGroups([sub('T0', 'a', runs)], [sub('T0', 'a', runs)]);
    for (const m of [g.passRate, g.medianScore, g.meanCostUsd]) {
      expect(m.delta).toBe(0);
      expect(m.interval![0]).toBeLessThanOrEqual(0);
      expect(m.interval![1]).toBeGreaterThanOrEqual(0);
      expect(m.verdict).toBe('within_noise');
    }
    expect(g.costUsd).toEqual({ a: 0.006, b: 0.006, delta: 0 });
    expect(g.tokens).toEqual({ a: 1000, b: 1000, delta: 0 });
  });

  it('errored runs are counted apart and left out of pass rate and score, but their spend is in the cost', () => {
    const g = compareGroups([sub('T0', 'a', [judged(1, 0.001), judged(0, 0.001)])], [sub('T0', 'a', [judged(1, 0.002), judged(1, 0.002), errored(0.004)])]);
    expect(g.b).toEqual({ runs: 3, judged: 2, passed: 2, notPassed: 0, errored: 1, withoutOutcome: 0, costed: 3 });
    expect(g.passRate).toMatchObject({ a: 0.5, b: 1, delta: 0.5 });
    expect(g.medianScore).toMatchObject({ a: 0.5, b: 1, delta: 0.5 });
    expect(g.costUsd).toEqual({ a: 0.002, b: 0.008, delta: 0.006 });
    expect(g.meanCostUsd).toMatchObject({ a: 0.001, b: 0.002667, delta: 0.001667 });
    // every resampled mean of A is $0.001 and of B at least $0.002: B costs more, beyond noise (lower is better)
    expect(g.meanCostUsd.verdict).toBe('b_worse');
  });

  it('unknown costs and tokens are left out, not counted as 0; runs without outcome count the ones not created yet', () => {
    const g = compareGroups([sub('T0', 'a', [judged(1, null, null), judged(1, 0.003, 40)])], [sub('T0', 'a', [judged(1, 0.001, 10), unfinished(0.002)], 4)]);
    expect(g.costUsd).toEqual({ a: 0.003, b: 0.003, delta: 0 });
    expect(g.meanCostUsd).toMatchObject({ a: 0.003, b: 0.0015, delta: -0.0015 });
    expect(g.tokens).toEqual({ a: 40, b: 10, delta: -30 });
    expect(g.a.costed).toBe(1);
    expect(g.b).toMatchObject({ runs: 4, judged: 1, withoutOutcome: 3, costed: 2 });
  });

  it('with fewer than 2 values on a side a bootstrap delta has no interval and no verdict; without judged runs nothing is compared', () => {
    const one = compareGroups([sub('T0', 'a', [judged(0.25)])], [sub('T0', 'a', [judged(0.75), judged(1)])]);
    expect(one.medianScore).toEqual({ a: 0.25, b: 0.875, delta: 0.625, interval: null, verdict: null });
    // Newcombe is defined for 1 run
    expect(one.passRate.interval).toEqual(roundedInterval(proportionDifference(0, 1, 2, 2)));
    const none = compareGroups([sub('T0', 'a', [unfinished()], 2)], [sub('T0', 'a', [judged(1)])]);
    expect(none.passRate).toEqual({ a: null, b: 1, delta: null, interval: null, verdict: null });
    expect(none.medianScore).toEqual({ a: null, b: 1, delta: null, interval: null, verdict: null });
    expect(none.costUsd).toEqual({ a: null, b: 0.001, delta: null });
    expect(none.a).toMatchObject({ runs: 2, judged: 0, withoutOutcome: 2 });
  });
});

describe('verdictOf', () => {
  it('says better or worse only when the interval excludes 0, by which way is better', () => {
    expect(verdictOf([0.01, 0.5], 'higher')).toBe('b_better');
    expect(verdictOf([-0.5, -0.01], 'higher')).toBe('b_worse');
    expect(verdictOf([0, 0.5], 'higher')).toBe('within_noise');
    expect(verdictOf([-0.5, 0], 'lower')).toBe('within_noise');
    expect(verdictOf([-0.5, -0.01], 'lower')).toBe('b_better');
    expect(verdictOf([0.01, 0.5], 'lower')).toBe('b_worse');
    expect(verdictOf(null, 'higher')).toBeNull();
  });
});

describe('compareExperiments: tiers and subtests matched by id, pooled per tier and overall', () => {
  const a = [sub('T0', 'a', [judged(0.5), judged(0.25)]), sub('T0', 'b', [judged(1), judged(1)]), sub('T0', 'only-a', [judged(0)]), sub('T1', 'a', [judged(1)])];
  const b = [sub('T0', 'b', [judged(1), judged(0)]), sub('T0', 'a', [judged(0.75), judged(1)]), sub('T0', 'only-b', [judged(1)]), sub('T2', 'a', [judged(1)])];

  it('lists what only one side has, and compares the rest in A\'s order', () => {
    const c = compareExperiments(a, b);
    expect(c.onlyInA).toEqual({ tiers: ['T1'], subtests: ['T0/only-a'] });
    expect(c.onlyInB).toEqual({ tiers: ['T2'], subtests: ['T0/only-b'] });
    expect(c.tiers.map((t) => [t.tier, t.subtests.map((s) => s.subtest)])).toEqual([['T0', ['a', 'b']]]);
    expect(c.tiers[0]!.subtests[0]!.passRate).toMatchObject({ a: 0.5, b: 1, delta: 0.5 });
    expect(c.tiers[0]!.subtests[1]!.passRate).toMatchObject({ a: 1, b: 0.5, delta: -0.5 });
  });

  it('pools a tier over its matched subtests only (3 of 4 against 3 of 4), and overall over every matched subtest', () => {
    const c = compareExperiments(a, b);
    const tier = c.tiers[0]!;
    expect(tier.a).toMatchObject({ judged: 4, passed: 3 });
    expect(tier.b).toMatchObject({ judged: 4, passed: 3 });
    expect(tier.passRate).toMatchObject({ a: 0.75, b: 0.75, delta: 0 });
    expect(tier.passRate.interval).toEqual(roundedInterval(proportionDifference(3, 4, 3, 4)));
    expect(tier.medianScore).toMatchObject({ a: 0.75, b: 0.875, delta: 0.125 });
    expect(c.overall).toEqual(compareGroups(a.slice(0, 2), b.slice(0, 2)));
  });

  it('with nothing in common there is nothing to compare', () => {
    const c = compareExperiments([sub('T0', 'a', [judged(1)])], [sub('T0', 'b', [judged(1)]), sub('T1', 'a', [judged(1)])]);
    expect(c).toEqual({ onlyInA: { tiers: [], subtests: ['T0/a'] }, onlyInB: { tiers: ['T1'], subtests: ['T0/b'] }, overall: null, tiers: [] });
  });
});

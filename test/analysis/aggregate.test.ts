import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consensus, experimentResult, knownCostRuns, selectBest, subtestResult, tierResult, type TierSubtest } from '../../analysis/aggregate.js';
import { ExperimentResult, type JudgeVerdict, RunResult, SubtestResult, TierResult } from '../../schemas/results.js';

type RunOverrides = Partial<Omit<RunResult, 'agent'>> & { agent?: Partial<RunResult['agent']> };

/** A run result; unless given, its spend is its one agent execution's. */
function run(overrides: RunOverrides = {}): RunResult {
  const { agent: agentOverrides, ...rest } = overrides;
  const agent = { exitCode: 0, timedOut: false, durationMs: 100, tokens: 1000, costUsd: 0.01, ...agentOverrides };
  return RunResult.parse({
    experiment: 'demo-001',
    tier: 'T0',
    subtest: '00-empty',
    run: 1,
    passed: true,
    score: 1,
    grade: null,
    judges: [{ score: 1, passed: true }],
    agent,
    diff: { filesChanged: 1, insertions: 2, deletions: 3 },
    spend: { costUsd: agent.costUsd, tokens: agent.tokens },
    durationMs: 200,
    ...rest,
  });
}

/** Runs with the given scores; a run passes when its score is at least 0.5. */
function runsScoring(scores: number[], overrides: RunOverrides = {}): RunResult[] {
  return scores.map((score, i) => run({ run: i + 1, score, passed: score >= 0.5, ...overrides }));
}

function subtest(runs: RunResult[], failedRuns = 0, id = '00-empty'): SubtestResult {
  return SubtestResult.parse(subtestResult({ tier: 'T0', subtest: id, runs, failedRuns }));
}

/** A subtest result with the given median and tokens, for selectBest. */
function ranked(id: string, median: number, totalTokens: number | null, completedRuns = 1): SubtestResult {
  return SubtestResult.parse({
    ...subtest([], 0, id),
    runs: completedRuns,
    completedRuns,
    score: { mean: median, median, stdev: 0, meanInterval: [median, median], medianInterval: [median, median] },
    totalTokens,
  });
}

function tierSubtest(runs: RunResult[], failedRuns = 0): TierSubtest {
  const id = runs[0]?.subtest ?? '00-empty';
  return { result: subtest(runs, failedRuns, id), knownCostRuns: knownCostRuns(runs) };
}

function tier(input: Partial<Parameters<typeof tierResult>[0]> = {}): TierResult {
  return TierResult.parse(tierResult({ tier: 'T0', outcome: 'completed', subtests: [], best: null, durationMs: 0, ...input }));
}

describe('consensus', () => {
  const v = (score: number, passed: boolean, grade?: JudgeVerdict['grade']): JudgeVerdict => (grade ? { score, passed, grade } : { score, passed });

  it('scores the mean of the judge scores', () => {
    expect(consensus([v(1, true), v(0.5, true), v(0, false)]).score).toBeCloseTo(0.5, 12);
  });

  it('passes only on a strict majority of judges', () => {
    expect(consensus([v(1, true)]).passed).toBe(true);
    expect(consensus([v(1, true), v(0, false)]).passed).toBe(false);
    expect(consensus([v(1, true), v(1, true), v(0, false)]).passed).toBe(true);
    expect(consensus([v(0, false), v(0, false), v(1, true)]).passed).toBe(false);
  });

  it('takes the most common grade, ignoring judges without one', () => {
    expect(consensus([v(1, true, 'A'), v(1, true, 'B'), v(1, true, 'A'), v(1, true)]).grade).toBe('A');
  });

  it('breaks grade ties toward the lower grade', () => {
    expect(consensus([v(1, true, 'S'), v(1, true, 'C')]).grade).toBe('C');
    expect(consensus([v(1, true, 'F'), v(1, true, 'A'), v(1, true, 'A'), v(1, true, 'F')]).grade).toBe('F');
  });

  it('has no grade when no judge gave one', () => {
    expect(consensus([v(0.3, false), v(0.9, true)]).grade).toBeNull();
  });

  it('throws on an empty list of verdicts', () => {
    expect(() => consensus([])).toThrow(Error);
  });

  it('produces values a RunResult accepts', () => {
    const c = consensus([v(0.7, true, 'B'), v(0.2, false, 'D'), v(0.1, false)]);
    expect(() => RunResult.parse({ ...run(), ...c })).not.toThrow();
    expect(c).toEqual({ score: expect.closeTo(1 / 3, 12), passed: false, grade: 'D' });
  });
});

describe('subtestResult', () => {
  it('counts completed and failed runs and the pass rate over completed runs', () => {
    const s = subtest(runsScoring([1, 0.8, 0.2, 0]), 2);
    expect(s).toMatchObject({ tier: 'T0', subtest: '00-empty', runs: 6, completedRuns: 4, failedRuns: 2, passRate: 0.5 });
  });

  it('computes mean, median and sample stdev (n − 1) of the scores', () => {
    const odd = subtest(runsScoring([0.6, 0.2, 0.4]));
    expect(odd.score.mean).toBeCloseTo(0.4, 12);
    expect(odd.score.median).toBe(0.4);
    expect(odd.score.stdev).toBeCloseTo(0.2, 12); // population stdev would be 0.163
    const even = subtest(runsScoring([0.1, 0.9, 0.3, 0.5]));
    expect(even.score.median).toBeCloseTo(0.4, 12);
  });

  it('derives consistency from the coefficient of variation', () => {
    const s = subtest(runsScoring([0.6, 0.2, 0.4])); // cv = 0.2 / 0.4
    expect(s.consistency).toBeCloseTo(0.5, 12);
  });

  it('clamps consistency at 0 when the spread exceeds the mean', () => {
    expect(subtest(runsScoring([0, 0, 1])).consistency).toBe(0);
  });

  it('gives consistency 1 when every run scored 0', () => {
    expect(subtest(runsScoring([0, 0, 0])).consistency).toBe(1);
  });

  it('treats a single run as perfectly consistent with stdev 0', () => {
    const s = subtest(runsScoring([0.7]));
    expect(s.score).toEqual({ mean: 0.7, median: 0.7, stdev: 0, meanInterval: [0.7, 0.7], medianInterval: [0.7, 0.7] });
    expect(s.consistency).toBe(1);
    expect(s.passRate).toBe(1);
  });

  it('reports zeros and unknowns when no run completed', () => {
    const s = subtest([], 3);
    expect(s).toEqual({
      tier: 'T0', subtest: '00-empty', runs: 3, completedRuns: 0, failedRuns: 3, passRate: 0,
      score: { mean: 0, median: 0, stdev: 0, meanInterval: null, medianInterval: null }, consistency: 1, passedRuns: 0, passRateInterval: null,
      meanCostUsd: null, totalCostUsd: null, totalTokens: null, durationMs: { total: 0, mean: 0 },
    });
  });

  it('averages cost and sums tokens over the runs where they are known', () => {
    const s = subtest([
      run({ run: 1, agent: { costUsd: 0.02, tokens: 100 } }),
      run({ run: 2, agent: { costUsd: null, tokens: null } }),
      run({ run: 3, agent: { costUsd: 0.04, tokens: 300 } }),
    ]);
    expect(s.meanCostUsd).toBeCloseTo(0.03, 12); // not 0.02, which counting unknown as zero would give
    expect(s.totalTokens).toBe(400);
  });

  it('leaves cost and tokens unknown when no run reported them', () => {
    const s = subtest(runsScoring([1, 1], { agent: { costUsd: null, tokens: null } }));
    expect(s.meanCostUsd).toBeNull();
    expect(s.totalTokens).toBeNull();
  });

  it('counts a known zero cost as known', () => {
    expect(subtest(runsScoring([1], { agent: { costUsd: 0 } })).meanCostUsd).toBe(0);
  });

  it('sums run durations and averages them over completed runs', () => {
    const s = subtest([run({ run: 1, durationMs: 100 }), run({ run: 2, durationMs: 300 })], 5);
    expect(s.durationMs).toEqual({ total: 400, mean: 200 });
  });

  it('rejects runs of another subtest and a bad failed-run count', () => {
    expect(() => subtestResult({ tier: 'T0', subtest: '01-full', runs: [run()], failedRuns: 0 })).toThrow(/does not belong/);
    expect(() => subtestResult({ tier: 'T1', subtest: '00-empty', runs: [run()], failedRuns: 0 })).toThrow(/does not belong/);
    expect(() => subtestResult({ tier: 'T0', subtest: '00-empty', runs: [], failedRuns: -1 })).toThrow(/failedRuns/);
  });
});

describe('knownCostRuns', () => {
  it('counts the runs whose agent cost is known, including a zero cost', () => {
    expect(knownCostRuns([run({ agent: { costUsd: 0 } }), run({ agent: { costUsd: null } }), run()])).toBe(2);
  });
});

describe('selectBest', () => {
  it('picks the highest median score when no other subtest is within 0.05', () => {
    expect(selectBest([ranked('00-empty', 0.5, 100), ranked('01-full', 0.92, 5000)])).toEqual({
      subtest: '01-full',
      reason: '01-full: highest median score 0.92',
    });
  });

  it('prefers fewer tokens within 0.05 of the top median', () => {
    expect(selectBest([ranked('00-empty', 0.92, 3400), ranked('02-lean', 0.9, 1200)])).toEqual({
      subtest: '02-lean',
      reason: '02-lean: median 0.90 within 0.05 of the top (0.92, 00-empty) and fewer total tokens (1200 vs 3400)',
    });
  });

  it('keeps the top when it also has the fewest tokens, and says so', () => {
    expect(selectBest([ranked('00-empty', 0.88, 3400), ranked('01-full', 0.92, 1200)])).toEqual({
      subtest: '01-full',
      reason: '01-full: highest median score 0.92 and fewer total tokens than 00-empty (1200 vs 3400)',
    });
  });

  it('includes a median exactly 0.05 below the top, despite floating-point noise', () => {
    expect(0.92 - 0.87).toBeGreaterThan(0.05); // the noise this guards against
    expect(selectBest([ranked('00-empty', 0.92, 3400), ranked('02-lean', 0.87, 1200)])?.subtest).toBe('02-lean');
  });

  it('excludes a median more than 0.05 below the top', () => {
    expect(selectBest([ranked('00-empty', 0.92, 3400), ranked('02-lean', 0.869, 1200)])?.subtest).toBe('00-empty');
  });

  it('counts unknown tokens as the most', () => {
    expect(selectBest([ranked('00-empty', 0.92, null), ranked('02-lean', 0.9, 999_999)])?.subtest).toBe('02-lean');
    expect(selectBest([ranked('00-empty', 0.9, 999_999), ranked('02-lean', 0.92, null)])?.subtest).toBe('00-empty');
  });

  it('breaks a token tie by the higher median', () => {
    const best = selectBest([ranked('00-empty', 0.9, 1200), ranked('01-full', 0.92, 1200)]);
    expect(best).toEqual({ subtest: '01-full', reason: '01-full: highest median score 0.92' });
  });

  it('breaks a token tie below the top by the higher median and explains it', () => {
    const best = selectBest([ranked('00-empty', 0.92, 5000), ranked('01-a', 0.88, 1200), ranked('02-b', 0.9, 1200)]);
    expect(best).toEqual({
      subtest: '02-b',
      reason: '02-b: median 0.90 within 0.05 of the top (0.92, 00-empty) and fewer total tokens (1200 vs 5000); 01-a used as many tokens with a lower median (0.88)',
    });
  });

  it('breaks a full tie by the id that sorts first, whatever the input order', () => {
    const a = ranked('b-sub', 0.9, 100);
    const b = ranked('a-sub', 0.9, 100);
    const expected = { subtest: 'a-sub', reason: 'a-sub: highest median score 0.90; tied with b-sub on median and total tokens, a-sub sorts first' };
    expect(selectBest([a, b])).toEqual(expected);
    expect(selectBest([b, a])).toEqual(expected);
  });

  it('treats unknown tokens on both sides as a tie', () => {
    expect(selectBest([ranked('01-x', 0.9, null), ranked('00-y', 0.92, null)])?.subtest).toBe('00-y');
  });

  it('ignores subtests without completed runs', () => {
    expect(selectBest([ranked('00-empty', 1, 1, 0), ranked('01-full', 0.5, 5000)])?.subtest).toBe('01-full');
  });

  it('returns null when no subtest completed a run', () => {
    expect(selectBest([])).toBeNull();
    expect(selectBest([subtest([], 2)])).toBeNull();
  });
});

describe('tierResult', () => {
  const t0 = (subtestId: string, scores: number[], costUsd: number | null = 0.01) =>
    runsScoring(scores, { subtest: subtestId, agent: { costUsd } });

  it('weights the pass rate by completed runs, not by subtest', () => {
    const t = tier({ subtests: [tierSubtest(t0('00-empty', [1])), tierSubtest(t0('01-full', [1, 0, 0]))] });
    expect(t.passRate).toBe(0.5); // the mean of the subtest rates would be 0.667
  });

  it('weights the mean cost by the runs with a known cost', () => {
    const a = [run({ subtest: '00-a', agent: { costUsd: 1 } }), run({ subtest: '00-a', run: 2, agent: { costUsd: null } })];
    const b = [0.1, 0.1, 0.1].map((c, i) => run({ subtest: '01-b', run: i + 1, agent: { costUsd: c } }));
    const t = tier({ subtests: [tierSubtest(a), tierSubtest(b)] });
    expect(t.meanCostUsd).toBeCloseTo(1.3 / 4, 12); // the mean of the subtest means would be 0.55
  });

  it('divides the mean cost by the pass rate for the cost of pass', () => {
    const t = tier({ subtests: [tierSubtest(t0('00-empty', [1, 0, 1, 0], 0.02))] });
    expect(t.passRate).toBe(0.5);
    expect(t.costOfPass).toBeCloseTo(0.04, 12);
  });

  it('has an infinite cost of pass when every run fails', () => {
    const t = tier({ subtests: [tierSubtest(t0('00-empty', [0, 0.1]))] });
    expect(t).toMatchObject({ passRate: 0, meanCostUsd: 0.01, costOfPass: 'Infinity' });
  });

  it('leaves cost and cost of pass unknown when no run reported a cost', () => {
    const t = tier({ subtests: [tierSubtest(t0('00-empty', [1], null))] });
    expect(t).toMatchObject({ passRate: 1, meanCostUsd: null, costOfPass: null });
  });

  it('handles a tier without completed runs', () => {
    const t = tier({ outcome: 'failed', subtests: [tierSubtest([], 2)], durationMs: 50 });
    expect(t).toMatchObject({ outcome: 'failed', passRate: 0, meanCostUsd: null, costOfPass: null, best: null, durationMs: 50 });
    expect(t.subtests).toHaveLength(1);
  });

  it('keeps the subtests, best and duration it is given', () => {
    const s = tierSubtest(t0('00-empty', [1]));
    const best = { subtest: '00-empty', reason: '00-empty: highest median score 1.00' };
    const t = tier({ subtests: [s], best, durationMs: 1234 });
    expect(t).toMatchObject({ tier: 'T0', subtests: [s.result], best, durationMs: 1234 });
  });

  it('rejects inconsistent input', () => {
    const s = tierSubtest(t0('00-empty', [1, 1]));
    const base = { tier: 'T0', outcome: 'completed', best: null, durationMs: 0 } as const;
    expect(() => tierResult({ ...base, subtests: [{ ...s, knownCostRuns: 0 }] })).toThrow(/knownCostRuns/);
    expect(() => tierResult({ ...base, subtests: [{ ...s, knownCostRuns: 3 }] })).toThrow(/knownCostRuns/);
    expect(() => tierResult({ ...base, tier: 'T1', subtests: [s] })).toThrow(/does not belong/);
    expect(() => tierResult({ ...base, subtests: [s], best: { subtest: '09-other', reason: 'x' } })).toThrow(/best/);
  });

  it('equals the statistics over all of the tier’s runs at once', () => {
    const cost = fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { nil: null });
    const subtestRuns = fc.array(fc.record({ passed: fc.boolean(), cost }), { maxLength: 6 });
    fc.assert(
      fc.property(fc.array(subtestRuns, { minLength: 1, maxLength: 4 }), (groups) => {
        const subtests = groups.map((g, s) =>
          tierSubtest(g.map((r, i) => run({ subtest: `s${s}`, run: i + 1, passed: r.passed, score: r.passed ? 1 : 0, agent: { costUsd: r.cost } }))),
        );
        const all = groups.flat();
        const known = all.map((r) => r.cost).filter((c): c is number => c !== null);
        const t = tier({ subtests });
        expect(t.passRate).toBeCloseTo(all.length === 0 ? 0 : all.filter((r) => r.passed).length / all.length, 4);
        if (known.length === 0) expect(t.meanCostUsd).toBeNull();
        else expect(t.meanCostUsd).toBeCloseTo(known.reduce((a, b) => a + b, 0) / known.length, 5);
      }),
    );
  });
});

describe('experimentResult', () => {
  const withCost = (id: string, costOfPass: TierResult['costOfPass']) => ({ ...tier({ tier: id }), costOfPass });

  it('makes the tier with the lowest cost of pass the frontier', () => {
    const e = ExperimentResult.parse(
      experimentResult({ experiment: 'demo-001', configHash: 'abc', tiers: [withCost('T0', 0.05), withCost('T1', 0.015), withCost('T2', 0.02)] }),
    );
    expect(e.frontier).toEqual({ tier: 'T1', costOfPass: 0.015 });
    expect(e.tiers.map((t) => t.tier)).toEqual(['T0', 'T1', 'T2']);
    expect(e).toMatchObject({ experiment: 'demo-001', configHash: 'abc' });
  });

  it('breaks a cost-of-pass tie by the order of the tiers', () => {
    const e = experimentResult({ experiment: 'demo-001', configHash: 'abc', tiers: [withCost('T1', 0.02), withCost('T0', 0.02)] });
    expect(e.frontier?.tier).toBe('T1');
  });

  it('never picks a tier whose cost of pass is infinite or unknown', () => {
    const e = experimentResult({ experiment: 'demo-001', configHash: 'abc', tiers: [withCost('T0', 'Infinity'), withCost('T1', null), withCost('T2', 3)] });
    expect(e.frontier).toEqual({ tier: 'T2', costOfPass: 3 });
  });

  it('has no frontier when no tier has a numeric cost of pass', () => {
    const e = ExperimentResult.parse(experimentResult({ experiment: 'demo-001', configHash: 'abc', tiers: [withCost('T0', 'Infinity'), withCost('T1', null)] }));
    expect(e.frontier).toBeNull();
    expect(experimentResult({ experiment: 'demo-001', configHash: 'abc', tiers: [] }).frontier).toBeNull();
  });

  it('accepts a zero cost of pass as the frontier', () => {
    const e = experimentResult({ experiment: 'demo-001', configHash: 'abc', tiers: [withCost('T0', 0.5), withCost('T1', 0)] });
    expect(e.frontier).toEqual({ tier: 'T1', costOfPass: 0 });
  });
});

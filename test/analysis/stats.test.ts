import { describe, expect, it } from 'vitest';
import { groupResults, separationOf } from '../../analysis/outcomes.js';
import { bootstrap, bootstrapDifference, median, proportionDifference, rounded, separation, wilson } from '../../analysis/stats.js';

describe('uncertainty of a few runs', () => {
  it('gives the 95% Wilson interval of a pass rate', () => {
    expect(wilson(2, 3)!.map((x) => rounded(x, 4))).toEqual([0.2077, 0.9385]);
    expect(wilson(0, 3)!.map((x) => rounded(x, 4))).toEqual([0, 0.5615]);
    expect(wilson(10, 10)![1]).toBe(1);
    expect(wilson(0, 0)).toBeNull();
  });

  it('gives Newcombe\'s interval of a difference of pass rates, containing 0 when they are alike', () => {
    const d = proportionDifference(1, 2, 2, 2)!;
    expect(d[0]).toBeLessThan(0);
    expect(d[1]).toBeGreaterThan(0.5);
    const same = proportionDifference(3, 6, 3, 6)!;
    expect(same[0]).toBeLessThan(0);
    expect(same[1]).toBeGreaterThan(0);
    expect(proportionDifference(0, 50, 50, 50)![0]).toBeGreaterThan(0.8);
  });

  it('bootstraps with a seed: the same scores give the same interval, run after run', () => {
    const scores = [0.2, 0.4, 0.9, 0.95, 0.5];
    expect(bootstrap(scores, median)).toEqual(bootstrap(scores, median));
    const [low, high] = bootstrap(scores, median)!;
    expect(low).toBeGreaterThanOrEqual(0.2);
    expect(high).toBeLessThanOrEqual(0.95);
    expect(bootstrapDifference(scores, scores, median)).toEqual(bootstrapDifference(scores, scores, median));
    expect(bootstrap([], median)).toBeNull();
  });

  it('calls a leader within noise when the intervals overlap, and says how many runs would tell them apart', () => {
    const fewRuns = separation({ passes: 2, judged: 2, median: 0.9, medianInterval: [0.9, 0.9] }, { passes: 0, judged: 2, median: 0.2, medianInterval: [0.2, 0.2] });
    // 2/2 against 0/2: the Wilson intervals [34.2%, 100%] and [0%, 65.8%] overlap
    expect(fewRuns.withinNoise).toBe(true);
    expect(fewRuns.runsToSeparate).toBeGreaterThan(2);
    const many = separation({ passes: 40, judged: 40, median: 0.9, medianInterval: [0.88, 0.92] }, { passes: 0, judged: 40, median: 0.2, medianInterval: [0.18, 0.22] });
    expect(many).toEqual({ withinNoise: false, runsToSeparate: null });
    expect(separation({ passes: 1, judged: 2, median: 0.5, medianInterval: [0, 1] }, { passes: 1, judged: 2, median: 0.5, medianInterval: [0, 1] })).toEqual({ withinNoise: true, runsToSeparate: null });
    expect(separationOf('a', [{ id: 'a', passes: 1, judged: 2, median: 0.75, medianInterval: [0.63, 0.88] }])).toBeNull();
  });

  it('sums a group\'s spend over every run and judges only runs with a verdict', () => {
    const r = groupResults([
      { outcome: 'passed', score: 1, costUsd: 0.1, tokens: 10, durationMs: 1 },
      { outcome: 'not_passed', score: 0.2, costUsd: 0.2, tokens: null, durationMs: 1 },
      { outcome: 'errored', score: null, costUsd: 0.30000000000000004, tokens: 5, durationMs: 1 },
      { outcome: null, score: null, costUsd: null, tokens: null, durationMs: 0 },
    ], 6);
    expect(r).toMatchObject({ runs: 6, judged: 2, passed: 1, notPassed: 1, errored: 1, passRate: 0.5, costUsd: 0.6, tokens: 15 });
    expect(r.score).toMatchObject({ median: 0.6 });
    expect(groupResults([]).passRate).toBeNull();
  });
});

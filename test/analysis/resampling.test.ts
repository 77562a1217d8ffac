import { describe, expect, it } from 'vitest';
import { meanInterval } from '../../analysis/bootstrap-mean.js';
import { Binomial, medianInterval } from '../../analysis/resampling.js';
import { bootstrap, bootstrapMedianMean, BOOTSTRAP_SEED, mean, median, SADDLEPOINT_FROM, seededRandom } from '../../analysis/stats.js';

/*
 * The computed bootstrap intervals against the thing they compute: a seeded
 * Monte Carlo bootstrap of 20,000 resamples. An end computed for level α
 * (0.025 or 0.975) agrees when the resamples put between α − TOLERANCE and
 * α + TOLERANCE of their statistics at or below it (strictly below, for an
 * end the statistic can take): 0.005 is 4.5 standard errors of a proportion
 * near 0.025 over 20,000 resamples, and 1.4 of the 2,000 resamples the
 * intervals were drawn from before.
 */
const RESAMPLES = 20_000;
const TOLERANCE = 0.005;

/** The sorted medians and means of seeded resamples of `values`. */
function resampled(values: readonly number[], seed: number): { medians: Float64Array; means: Float64Array } {
  const random = seededRandom(seed);
  const n = values.length;
  const medians = new Float64Array(RESAMPLES);
  const means = new Float64Array(RESAMPLES);
  const sample = new Float64Array(n);
  for (let s = 0; s < RESAMPLES; s++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(random() * n)]!;
    sample.sort();
    medians[s] = n % 2 === 1 ? sample[(n - 1) / 2]! : (sample[n / 2 - 1]! + sample[n / 2]!) / 2;
    means[s] = sample.reduce((a, b) => a + b, 0) / n;
  }
  return { medians: medians.sort(), means: means.sort() };
}

/** The share of `sorted` below `value` and at or below it (float noise of a resample's mean aside). */
function shares(sorted: Float64Array, value: number): { below: number; atMost: number } {
  const eps = 1e-9 * Math.max(1, Math.abs(value));
  let below = 0;
  let atMost = 0;
  for (const x of sorted) {
    if (x < value - eps) below++;
    if (x <= value + eps) atMost++;
  }
  return { below: below / sorted.length, atMost: atMost / sorted.length };
}

function expectQuantile(sorted: Float64Array, [low, high]: [number, number], what: string): void {
  for (const [value, level] of [[low, 0.025], [high, 0.975]] as const) {
    const { below, atMost } = shares(sorted, value);
    expect(below, `${what}: resamples below the ${level} end ${value}`).toBeLessThanOrEqual(level + TOLERANCE);
    expect(atMost, `${what}: resamples at or below the ${level} end ${value}`).toBeGreaterThanOrEqual(level - TOLERANCE);
  }
}

const random = seededRandom(20260607);
const draw = (n: number, value: () => number) => Array.from({ length: n }, value);
const SHAPES: Record<string, (n: number) => number[]> = {
  'quarter steps': (n) => draw(n, () => Math.round(random() * 4) / 4),
  'continuous': (n) => draw(n, () => random()),
  'skewed': (n) => draw(n, () => random() ** 4),
  'mostly 1': (n) => draw(n, () => (random() < 0.95 ? 1 : Math.round(random() * 4) / 4)),
  'pass/fail': (n) => draw(n, () => (random() < 0.3 ? 1 : 0)),
  'hundredths': (n) => draw(n, () => Math.round(random() * 100) / 100),
};

describe('the bootstrap intervals, computed', () => {
  for (const n of [2, 3, 5, 6, 11, 20, 64, 101, 250]) {
    it(`agree with 20,000 seeded resamples at n = ${n}`, () => {
      for (const [name, shape] of Object.entries(SHAPES)) {
        const values = shape(n);
        const { medians, means } = resampled(values, n);
        expectQuantile(medians, medianInterval(values), `median of ${name}`);
        // below SADDLEPOINT_FROM values, the mean of 3 or more distinct values is still drawn (the test below)
        if (n >= SADDLEPOINT_FROM || new Set(values).size <= 2) expectQuantile(means, bootstrapMedianMean(values)!.mean, `mean of ${name}`);
      }
    });
  }

  it('keeps the seeded draws for the mean of fewer than SADDLEPOINT_FROM values of 3 or more distinct values', () => {
    const few = [0.2, 0.4, 0.9, 0.95, 0.5];
    expect(few.length).toBeLessThan(SADDLEPOINT_FROM);
    for (const seed of [BOOTSTRAP_SEED, 1, 99]) expect(bootstrapMedianMean(few, seed, 500)!.mean).toEqual(bootstrap(few, mean, seed, 500));
  });

  it('gives exact intervals where they can be worked out by hand', () => {
    // two values: a resample is (a,a), (a,b), (b,a) or (b,b); its median and mean a, (a+b)/2 twice, b
    expect(medianInterval([0.5, 0.25])).toEqual([0.25, 0.5]);
    expect(meanInterval([0.5, 0.25])).toEqual([0.25, 0.5]);
    // one value of 3 differing: the median is the common value unless 2 of 3 draws are the odd one (7/27 ≥ 2.5%)
    expect(medianInterval([0, 1, 1])).toEqual([0, 1]);
    // 99 of 100 the same: P(the resample has none of the odd one) = 0.99^100 = 36.6%, so an end there
    expect(meanInterval([...Array(99).fill(1), 0])).toEqual([0.97, 1]);
    expect(medianInterval([...Array(99).fill(1), 0])).toEqual([1, 1]);
    expect(bootstrapMedianMean([0.3])).toEqual({ median: [0.3, 0.3], mean: [0.3, 0.3] });
    expect(bootstrapMedianMean(Array(50).fill(0.7))).toEqual({ median: [0.7, 0.7], mean: [0.7, 0.7] });
    expect(bootstrapMedianMean([])).toBeNull();
  });

  it('is deterministic and does not depend on the order of the values', () => {
    const values = SHAPES['continuous']!(1000);
    const reversed = [...values].reverse();
    expect(bootstrapMedianMean(reversed)).toEqual(bootstrapMedianMean(values));
    expect(median(values)).toBeGreaterThanOrEqual(bootstrapMedianMean(values)!.median[0]);
    expect(median(values)).toBeLessThanOrEqual(bootstrapMedianMean(values)!.median[1]);
  });

  it('sums binomial tails to 1e-9, far into them', () => {
    const b = new Binomial(10_000);
    // P(X ≥ r) + P(X ≤ r − 1) = 1, and the pmf sums to the tails
    for (const [r, p] of [[5000, 0.5], [5100, 0.5], [4800, 0.49], [10, 0.001], [9990, 0.999], [0, 0.3]] as const) {
      expect(b.atLeast(r, p) + b.atMost(r - 1, p)).toBeCloseTo(1, 9);
    }
    expect(b.atLeast(5000, 0.5)).toBeCloseTo(0.5 + b.pmf(5000, 0.5) / 2, 9);
    const small = new Binomial(5);
    expect(small.atLeast(3, 0.4)).toBeCloseTo(10 * 0.4 ** 3 * 0.6 ** 2 + 5 * 0.4 ** 4 * 0.6 + 0.4 ** 5, 15);
  });
});

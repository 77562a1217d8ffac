/**
 * Uncertainty of the results: what a pass rate or a median over 2–10 runs
 * can and cannot tell apart. Pure and deterministic (the bootstrap is seeded).
 */
import { meanInterval } from './bootstrap-mean.js';
import { distinctOf, medianInterval } from './resampling.js';

export type Interval = [number, number];

const Z95 = 1.959963984540054;

/**
 * The 95% Wilson score interval of a proportion: passes of n. Unlike the
 * normal approximation it stays inside [0, 1] and is sensible for small n.
 *
 * @example wilson(2, 3) // [0.2077, 0.9385] (66.7% [20.8%, 93.9%])
 */
export function wilson(passes: number, n: number, z = Z95): Interval | null {
  if (n === 0) return null;
  const p = passes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // at 0 of n and n of n the bound is exactly 0 or 1 (the arithmetic would leave 1e-17 of noise)
  return [passes === 0 ? 0 : Math.max(0, centre - half), passes === n ? 1 : Math.min(1, centre + half)];
}

/**
 * The 95% interval of the difference of two proportions (b − a), Newcombe's
 * method 10 (from the two Wilson intervals): sensible for small samples.
 */
export function proportionDifference(passesA: number, nA: number, passesB: number, nB: number): Interval | null {
  const a = wilson(passesA, nA);
  const b = wilson(passesB, nB);
  if (!a || !b) return null;
  const [pa, pb] = [passesA / nA, passesB / nB];
  const d = pb - pa;
  const lower = d - Math.sqrt((pb - b[0]) ** 2 + (a[1] - pa) ** 2);
  const upper = d + Math.sqrt((b[1] - pb) ** 2 + (pa - a[0]) ** 2);
  return [Math.max(-1, lower), Math.min(1, upper)];
}

/** A small seeded generator (mulberry32): the same seed gives the same intervals, run after run. */
export function seededRandom(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export const BOOTSTRAP_SAMPLES = 2000;
export const BOOTSTRAP_SEED = 20260601;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * A 95% percentile bootstrap interval of a statistic of `values`, seeded so
 * the same values always give the same interval; null without values.
 */
export function bootstrap(values: readonly number[], statistic: (sample: readonly number[]) => number, seed = BOOTSTRAP_SEED, samples = BOOTSTRAP_SAMPLES): Interval | null {
  if (values.length === 0) return null;
  if (values.length === 1) return [values[0]!, values[0]!];
  const random = seededRandom(seed);
  const stats: number[] = [];
  const sample: number[] = new Array(values.length);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < values.length; i++) sample[i] = values[Math.floor(random() * values.length)]!;
    stats.push(statistic(sample));
  }
  stats.sort((a, b) => a - b);
  return [stats[Math.floor(0.025 * (samples - 1))]!, stats[Math.ceil(0.975 * (samples - 1))]!];
}

/** Below this many values the mean's interval is drawn (seeded resamples); from it on, computed (analysis/bootstrap-mean.ts). */
export const SADDLEPOINT_FROM = 20;

/**
 * The 95% percentile bootstrap intervals of the median and of the mean,
 * computed rather than resampled where that is exact or more accurate than
 * 2,000 resamples: the median's from its exact bootstrap distribution
 * (binomial tails at the order statistics, analysis/resampling.ts), at any n;
 * the mean's exactly for two distinct values, by the saddlepoint
 * approximation from SADDLEPOINT_FROM values on, and below that by
 * `bootstrap(values, mean, seed, samples)`. O(n log n), where resampling
 * took O(samples × n): a 10^4-run experiment's status has 10^4 values at
 * each of three levels.
 */
export function bootstrapMedianMean(values: readonly number[], seed = BOOTSTRAP_SEED, samples = BOOTSTRAP_SAMPLES): { median: Interval; mean: Interval } | null {
  const n = values.length;
  if (n === 0) return null;
  if (n === 1) return { median: [values[0]!, values[0]!], mean: [values[0]!, values[0]!] };
  const drawn = n < SADDLEPOINT_FROM && distinctOf(values).values.length > 2;
  return { median: medianInterval(values), mean: drawn ? bootstrap(values, mean, seed, samples)! : meanInterval(values) };
}

/** The bootstrap interval of the difference of a statistic between two samples (b − a). */
export function bootstrapDifference(a: readonly number[], b: readonly number[], statistic: (sample: readonly number[]) => number, seed = BOOTSTRAP_SEED, samples = BOOTSTRAP_SAMPLES): Interval | null {
  if (a.length === 0 || b.length === 0) return null;
  const random = seededRandom(seed);
  const draw = (values: readonly number[]) => Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)]!);
  const diffs = Array.from({ length: samples }, () => statistic(draw(b)) - statistic(draw(a))).sort((x, y) => x - y);
  return [diffs[Math.floor(0.025 * (samples - 1))]!, diffs[Math.ceil(0.975 * (samples - 1))]!];
}

/** One side of a comparison: its passes of judged runs, and its median score with that median's interval. */
export interface Estimate {
  passes: number;
  judged: number;
  median: number;
  medianInterval: Interval | null;
}

/**
 * Whether two competitors can be told apart: on pass rate (95% Wilson
 * intervals) and on median score (95% bootstrap intervals). They are within
 * noise when, on either, their intervals overlap (a conservative test, right
 * for "is the choice real?"). Then `runsToSeparate` is about how many judged
 * runs each would need, at the differences seen, for the intervals to stop
 * overlapping on a measure where they differ; null when they do not differ
 * at all, or are apart already.
 */
export function separation(a: Estimate, b: Estimate): { withinNoise: boolean; runsToSeparate: number | null } {
  const pa = wilson(a.passes, a.judged);
  const pb = wilson(b.passes, b.judged);
  const overlap = (x: Interval | null, y: Interval | null) => x === null || y === null || (x[0] <= y[1] && y[0] <= x[1]);
  const withinNoise = overlap(pa, pb) || overlap(a.medianInterval, b.medianInterval);
  if (!withinNoise) return { withinNoise, runsToSeparate: null };
  const needed = [passRuns(a, b), scoreRuns(a, b)].filter((n): n is number => n !== null);
  if (needed.length === 0) return { withinNoise, runsToSeparate: null };
  return { withinNoise, runsToSeparate: Math.max(Math.max(a.judged, b.judged) + 1, ...needed) };
}

/** n at which z·(σa + σb)/√n < |pa − pb|, with σ from the Wilson-adjusted rate (never 0 for 0/n or n/n). */
function passRuns(a: Estimate, b: Estimate): number | null {
  if (a.judged === 0 || b.judged === 0) return null;
  const d = Math.abs(a.passes / a.judged - b.passes / b.judged);
  if (d === 0) return null;
  const sigma = (e: Estimate) => {
    const p = (e.passes + (Z95 * Z95) / 2) / (e.judged + Z95 * Z95);
    return Math.sqrt(p * (1 - p));
  };
  return Math.ceil(((Z95 * (sigma(a) + sigma(b))) / d) ** 2);
}

/** The same for median scores, with σ/√n read off each bootstrap interval's half width. */
function scoreRuns(a: Estimate, b: Estimate): number | null {
  const d = Math.abs(a.median - b.median);
  if (d === 0 || !a.medianInterval || !b.medianInterval) return null;
  const spread = (e: Estimate) => ((e.medianInterval![1] - e.medianInterval![0]) / 2) * Math.sqrt(e.judged);
  return Math.max(1, Math.ceil(((spread(a) + spread(b)) / d) ** 2));
}

/** A number rounded for people and JSON alike: no 0.4000000000000001. */
export function rounded(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Rates (pass rates and their intervals) keep 6 digits: shown as a percentage
 * with one decimal, a value rounded to 4 digits first could round the wrong
 * way (0.938510 → 0.9385 → 93.8%).
 */
export const RATE_DIGITS = 6;

/** An interval with both ends {@link rounded}. */
export function roundedInterval(interval: Interval | null, digits = 4): Interval | null {
  return interval ? [rounded(interval[0], digits), rounded(interval[1], digits)] : null;
}

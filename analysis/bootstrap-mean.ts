/**
 * The 95% percentile interval of the bootstrap mean, computed instead of
 * drawn (docs/design.md §6). Pure: nothing but its arguments.
 *
 * The mean of a resample is the mean of n independent draws from the values.
 * Its distribution is a binomial when the values take two distinct values
 * (exact); otherwise its quantiles come from the Lugannani–Rice saddlepoint
 * approximation (Davison & Hinkley 1988, "Saddlepoint approximations in
 * resampling methods", Biometrika 75:417–431), whose error for a few dozen
 * values and more is far below the Monte Carlo error of 2,000 resamples. An
 * end at the smallest or largest value is exact: it is one when the
 * resamples made only of it alone are more likely than the tail.
 */
import { Binomial, distinctOf, type Distinct } from './resampling.js';

type Interval = [number, number];

const ALPHA = 0.025;

/** The 95% interval of the bootstrap mean of `values` (n ≥ 1). */
export function meanInterval(values: readonly number[]): Interval {
  const d = distinctOf(values);
  const { n, values: v } = d;
  if (v.length === 1) return [v[0]!, v[0]!];
  if (v.length === 2) {
    // the mean is v0 + (v1 − v0) N / n with N ~ Binomial(n, share of v1)
    const binomial = new Binomial(n);
    const p = 1 - d.atMost[0]! / n;
    const quantile = (level: number) => {
      let [lo, hi] = [0, n];
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (binomial.atMost(mid, p) >= level - 1e-12) hi = mid;
        else lo = mid + 1;
      }
      return v[0]! + ((v[1]! - v[0]!) * lo) / n;
    };
    return [quantile(ALPHA), quantile(1 - ALPHA)];
  }
  return [saddlepointQuantile(d, ALPHA), saddlepointQuantile(d, 1 - ALPHA)];
}

/** The values standardised (mean 0, variance 1) with the share of the sample each has. */
interface Tilted {
  u: Float64Array;
  w: Float64Array;
  centre: number;
  scale: number;
  n: number;
}

function standardised(d: Distinct): Tilted {
  const k = d.values.length;
  const w = new Float64Array(k);
  for (let i = 0; i < k; i++) w[i] = (d.atMost[i]! - (i === 0 ? 0 : d.atMost[i - 1]!)) / d.n;
  let centre = 0;
  for (let i = 0; i < k; i++) centre += w[i]! * d.values[i]!;
  let variance = 0;
  for (let i = 0; i < k; i++) variance += w[i]! * (d.values[i]! - centre) ** 2;
  const scale = Math.sqrt(variance);
  return { u: Float64Array.from(d.values, (x) => (x - centre) / scale), w, centre, scale, n: d.n };
}

/**
 * P(mean of a resample ≤ κ'(θ)) by Lugannani–Rice, where κ(θ) = log Σ w_i e^{θ u_i}
 * is the cumulant generating function of one draw: Φ(r) + φ(r)(1/r − 1/s) with
 * r = sign(θ) √(2n(θκ' − κ)) and s = θ √(n κ'').
 */
function tailAt(t: Tilted, theta: number): { cdf: number; mean: number } {
  let top = -Infinity;
  for (let i = 0; i < t.u.length; i++) top = Math.max(top, theta * t.u[i]!);
  let [s0, s1, s2] = [0, 0, 0];
  for (let i = 0; i < t.u.length; i++) {
    const e = t.w[i]! * Math.exp(theta * t.u[i]! - top);
    s0 += e;
    s1 += e * t.u[i]!;
    s2 += e * t.u[i]! * t.u[i]!;
  }
  const kappa = top + Math.log(s0);
  const mean = s1 / s0;
  const variance = Math.max(0, s2 / s0 - mean * mean);
  const r = Math.sign(theta) * Math.sqrt(Math.max(0, 2 * t.n * (theta * mean - kappa)));
  const s = theta * Math.sqrt(t.n * variance);
  return { cdf: normalCdf(r) + normalDensity(r) * (1 / r - 1 / s), mean };
}

/** The least mean of a resample whose cumulative probability reaches `level`: θ found by bisection (the cdf rises with θ). */
function saddlepointQuantile(d: Distinct, level: number): number {
  const last = d.values.length - 1;
  // an end at an extreme: P(every draw is the smallest value) = share^n
  if (level < 0.5 && (d.atMost[0]! / d.n) ** d.n >= level) return d.values[0]!;
  if (level > 0.5 && ((d.n - d.atMost[last - 1]!) / d.n) ** d.n > 1 - level) return d.values[last]!;
  const t = standardised(d);
  const side = level < 0.5 ? -1 : 1;
  let far = side / Math.sqrt(t.n);
  for (let i = 0; i < 60 && (tailAt(t, far).cdf - level) * side < 0; i++) far *= 2;
  let [lo, hi] = side < 0 ? [far, 0] : [0, far];
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(lo)); i++) {
    const mid = (lo + hi) / 2;
    if (tailAt(t, mid).cdf >= level) hi = mid;
    else lo = mid;
  }
  const mean = t.centre + t.scale * tailAt(t, hi).mean;
  return Math.min(d.values[last]!, Math.max(d.values[0]!, onLattice(d, mean)));
}

/**
 * Values on a lattice (every one the smallest plus a whole number of steps,
 * as scores in quarters or hundredths are) have resample means on a lattice
 * n times finer: the quantile is the least lattice point s whose probability
 * P(mean ≤ s), read with the continuity correction at s + half a step,
 * reaches the level; the saddlepoint's continuous quantile `mean` is where
 * that reading is the level.
 */
function onLattice(d: Distinct, mean: number): number {
  const v = d.values;
  const low = v[0]!;
  const span = v[v.length - 1]! - low;
  let step = 0;
  for (let i = 1; i < v.length; i++) step = approximateGcd(step, v[i]! - low, span * 1e-9);
  if (step < span * 1e-6) return mean;
  const fine = step / d.n;
  return low + fine * Math.ceil((mean - low) / fine - 0.5 - 1e-9);
}

/** The greatest common divisor of two non-negative numbers, with remainders below `tolerance` taken for 0 (float noise). */
function approximateGcd(a: number, b: number, tolerance: number): number {
  while (b > tolerance) [a, b] = [b, a % b];
  return a;
}

/** Φ, from the complementary error function. */
function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function normalDensity(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** erfc by Numerical Recipes' Chebyshev fit (erfcc): fractional error below 1.2e-7 everywhere. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

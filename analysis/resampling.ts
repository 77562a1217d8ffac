/**
 * The bootstrap distributions of the median and of the mean of a sample,
 * computed instead of drawn: the same 95% percentile intervals a seeded
 * resampling bootstrap estimates, without its Monte Carlo error and in
 * O(n log n) rather than O(resamples × n) (docs/design.md §6). Pure: nothing
 * but its arguments.
 *
 * A resample draws n of the n values with replacement. With the values sorted
 * and grouped into distinct values v_0 < … < v_{K−1}, C_k of them ≤ v_k, the
 * number of draws ≤ v_k is Binomial(n, C_k/n); so the m-th smallest value of
 * a resample is ≤ v_k exactly when that number is ≥ m, and the bootstrap
 * median's distribution is a binomial tail at each distinct value (for an
 * even n, the mean of the two middle order statistics, whose joint
 * distribution follows the same way). The bootstrap mean is a sum of n
 * independent draws: exact when the values take two distinct values (a
 * binomial), and otherwise the Lugannani–Rice saddlepoint approximation of
 * its distribution (Davison & Hinkley 1988, Biometrika 75:417–431), whose
 * error at n ≥ SADDLEPOINT_FROM is far below that of 2,000 resamples.
 */

type Interval = [number, number];

/** The tails of a 95% interval. */
const ALPHA = 0.025;
/** A cumulative probability this close to a quantile's level reaches it (float noise at an atom of the distribution). */
const REACH = 1e-12;
/** Probabilities below this are dropped from the median's distribution. */
const NEGLIGIBLE = 1e-15;

/** The sorted values grouped into distinct values, with how many values are ≤ each. */
export interface Distinct {
  n: number;
  values: number[];
  /** atMost[k]: how many of the n values are ≤ values[k]. */
  atMost: number[];
}

export function distinctOf(values: readonly number[]): Distinct {
  const sorted = Float64Array.from(values).sort();
  const distinct: Distinct = { n: sorted.length, values: [], atMost: [] };
  for (let i = 0; i < sorted.length; i++) {
    if (i + 1 < sorted.length && sorted[i + 1] === sorted[i]) continue;
    distinct.values.push(sorted[i]!);
    distinct.atMost.push(i + 1);
  }
  return distinct;
}

/** Binomial(n, p) probabilities, exact to float precision: each tail summed from its largest term outwards. */
export class Binomial {
  private readonly logFactorial: Float64Array;
  constructor(readonly n: number) {
    this.logFactorial = new Float64Array(n + 1);
    for (let k = 2; k <= n; k++) this.logFactorial[k] = this.logFactorial[k - 1]! + Math.log(k);
  }

  /** log C(n, j) + j log a + (n − j) log b: the log probability of one split into j and n − j (a = p, b = 1 − p for the pmf). */
  logSplit(j: number, a: number, b: number): number {
    const f = this.logFactorial;
    const n = this.n;
    if ((j > 0 && a === 0) || (j < n && b === 0)) return -Infinity;
    return f[n]! - f[j]! - f[n - j]! + (j === 0 ? 0 : j * Math.log(a)) + (j === n ? 0 : (n - j) * Math.log(b));
  }

  pmf(j: number, p: number): number {
    return j < 0 || j > this.n ? 0 : Math.exp(this.logSplit(j, p, 1 - p));
  }

  /** P(X ≥ r). */
  atLeast(r: number, p: number): number {
    const n = this.n;
    if (r <= 0) return 1;
    if (r > n || p <= 0) return 0;
    if (p >= 1) return 1;
    const mode = Math.floor((n + 1) * p);
    return r > mode ? this.sum(r, p, 1) : 1 - this.sum(r - 1, p, -1);
  }

  /** P(X ≤ j). */
  atMost(j: number, p: number): number {
    return 1 - this.atLeast(j + 1, p);
  }

  /** The pmf from j on in direction `step` while its terms still count (they shrink away from the mode). */
  private sum(j: number, p: number, step: 1 | -1): number {
    const n = this.n;
    const odds = p / (1 - p);
    let term = this.pmf(j, p);
    let total = 0;
    for (let k = j; k >= 0 && k <= n && term > 0; k += step) {
      total += term;
      term *= step === 1 ? ((n - k) / (k + 1)) * odds : (k / (n - k + 1)) / odds;
      if (term < total * 1e-17) break;
    }
    return Math.min(1, total);
  }
}

/** The smallest k in [0, count) with reached(k) (reached is monotone and true at count − 1). */
function firstReached(count: number, reached: (k: number) => boolean): number {
  let [lo, hi] = [0, count - 1];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (reached(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The 95% percentile interval of the bootstrap median of `values` (n ≥ 1), exactly. */
export function medianInterval(values: readonly number[]): Interval {
  const d = distinctOf(values);
  if (d.values.length === 1) return [d.values[0]!, d.values[0]!];
  const binomial = new Binomial(d.n);
  if (d.n % 2 === 1) {
    // the median of a resample is its m-th smallest draw: ≤ v_k when at least m draws are
    const m = (d.n + 1) / 2;
    const quantile = (level: number) => d.values[firstReached(d.values.length, (k) => binomial.atLeast(m, d.atMost[k]! / d.n) >= level - REACH)]!;
    return [quantile(ALPHA), quantile(1 - ALPHA)];
  }
  return quantilesOf(evenMedianAtoms(d, binomial));
}

/**
 * The distribution of the mean of the m-th and (m+1)-th smallest draws
 * (m = n/2), as (value, probability) atoms: for each distinct value v_a the
 * m-th smallest can be, and each v_b ≥ v_a the next one can be. With N_k
 * the draws ≤ v_k:
 *   P(both v_a) = P(N_a ≥ m+1) − P(N_{a−1} ≥ m) + P(N_{a−1} = m, none at v_a)
 *   P(v_a, v_b > v_a) = [P(N_a = m) − P(N_{a−1} = m, none at v_a)] × P(the least of the other n − m draws is v_b)
 * where the other n − m draws fall uniformly on the n − C_a values above v_a.
 */
function evenMedianAtoms(d: Distinct, binomial: Binomial): { value: number; p: number }[] {
  const { n, values, atMost } = d;
  const m = n / 2;
  const q = (k: number) => (k < 0 ? 0 : atMost[k]! / n);
  const first = firstReached(values.length, (k) => binomial.atLeast(m, q(k)) > NEGLIGIBLE);
  const last = firstReached(values.length, (k) => binomial.atLeast(m, q(k)) >= 1 - NEGLIGIBLE);
  const atoms: { value: number; p: number }[] = [];
  for (let a = first; a <= last; a++) {
    // P(N_{a−1} = m and no draw at v_a) = C(n, m) q_{a−1}^m (1 − q_a)^(n−m)
    const noneAtA = a === 0 ? 0 : Math.exp(binomial.logSplit(m, q(a - 1), 1 - q(a)));
    const both = binomial.atLeast(m + 1, q(a)) - binomial.atLeast(m, q(a - 1)) + noneAtA;
    if (both > 0) atoms.push({ value: values[a]!, p: both });
    const split = binomial.pmf(m, q(a)) - noneAtA;
    const above = n - atMost[a]!;
    if (split <= 0 || above === 0) continue;
    // P(least of the other n − m draws is v_b) = ((n − C_{b−1})/above)^(n−m) − ((n − C_b)/above)^(n−m)
    let beyond = 1;
    for (let b = a + 1; b < values.length && beyond > NEGLIGIBLE; b++) {
      const next = ((n - atMost[b]!) / above) ** (n - m);
      atoms.push({ value: (values[a]! + values[b]!) / 2, p: split * (beyond - next) });
      beyond = next;
    }
  }
  return atoms;
}

/** The 2.5% and 97.5% quantiles of a discrete distribution: the least values whose cumulative probability reaches each. */
function quantilesOf(atoms: { value: number; p: number }[]): Interval {
  atoms.sort((x, y) => x.value - y.value);
  const total = atoms.reduce((s, a) => s + a.p, 0);
  const at = (level: number) => {
    let seen = 0;
    for (const atom of atoms) {
      seen += atom.p / total;
      if (seen >= level - REACH) return atom.value;
    }
    return atoms[atoms.length - 1]!.value;
  };
  return [at(ALPHA), at(1 - ALPHA)];
}

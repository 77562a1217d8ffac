/**
 * Two experiments (or two generations of one) side by side: per subtest, per
 * tier (pooled over the subtests both have) and overall, what B changed
 * against A in pass rate, median score, cost and tokens, with 95% intervals
 * of the differences (README, "Compare two experiments"). Pure: nothing but
 * its arguments; the seeded bootstrap gives the same intervals every time.
 */
import type { RunResults } from './outcomes.js';
import { bootstrapDifference, mean, median, proportionDifference, rounded, type Interval } from './stats.js';

/** The runs of one subtest of one side; `expected` counts its runs not created yet too. */
export interface SubtestRuns {
  tier: string;
  subtest: string;
  runs: readonly RunResults[];
  expected?: number;
}

/** B against A on one measure: `b_better` / `b_worse` when the interval of B − A excludes 0, `within_noise` when it does not, null when there is no interval. */
export type Verdict = 'b_better' | 'b_worse' | 'within_noise';

/** One measure of both sides and its difference B − A with the 95% interval of that difference. */
export interface Measure {
  a: number | null;
  b: number | null;
  delta: number | null;
  interval: Interval | null;
  verdict: Verdict | null;
}

/** A sum over both sides (cost, tokens): no interval. */
export interface Total {
  a: number | null;
  b: number | null;
  delta: number | null;
}

/** How many runs one side has in a group, and what became of them. */
export interface SideCounts {
  /** Runs expected (created or not). */
  runs: number;
  /** Passed + not passed: the runs pass rate and score are computed over. */
  judged: number;
  passed: number;
  notPassed: number;
  /** Counted apart; their spend is in the cost. */
  errored: number;
  /** Not judged and not errored yet (unfinished, or not created yet). */
  withoutOutcome: number;
  /** Runs whose cost is known: the mean cost per run is over these. */
  costed: number;
}

/** One subtest, tier or the whole comparison. */
export interface GroupComparison {
  a: SideCounts;
  b: SideCounts;
  /** Passed ÷ judged; the interval is Newcombe's (method 10). Higher is better. */
  passRate: Measure;
  /** Of the judged runs' scores; the interval a seeded bootstrap of the difference of medians. Higher is better. */
  medianScore: Measure;
  /** Total spend of every run (errored and unfinished ones included) whose cost is known. */
  costUsd: Total;
  /** Mean spend per run with a known cost; a seeded bootstrap interval. Lower is better. */
  meanCostUsd: Measure;
  tokens: Total;
}

export interface SubtestComparison extends GroupComparison {
  subtest: string;
}

export interface TierComparison extends GroupComparison {
  tier: string;
  subtests: SubtestComparison[];
}

/** What A and B do not have in common: tier ids, and `tier/subtest` of the tiers both have. */
export interface Unmatched {
  tiers: string[];
  subtests: string[];
}

export interface Comparison {
  onlyInA: Unmatched;
  onlyInB: Unmatched;
  /** Pooled over every matched subtest. Null when nothing matched. */
  overall: GroupComparison | null;
  /** Tiers with at least one matched subtest, in A's order. */
  tiers: TierComparison[];
}

/** Bootstrap intervals need this many values on each side; with fewer a delta has no interval and no verdict. */
export const MIN_RUNS_FOR_BOOTSTRAP = 2;

/**
 * B against A: tiers matched by id, subtests by id within a matched tier;
 * deltas are B − A, pooled per tier and overall over the matched subtests.
 */
export function compareExperiments(a: readonly SubtestRuns[], b: readonly SubtestRuns[]): Comparison {
  const tiersOf = (side: readonly SubtestRuns[]) => [...new Set(side.map((s) => s.tier))];
  const [tiersA, tiersB] = [tiersOf(a), tiersOf(b)];
  const find = (side: readonly SubtestRuns[], tier: string, subtest: string) => side.find((s) => s.tier === tier && s.subtest === subtest);
  const onlyInA: Unmatched = { tiers: tiersA.filter((t) => !tiersB.includes(t)), subtests: [] };
  const onlyInB: Unmatched = { tiers: tiersB.filter((t) => !tiersA.includes(t)), subtests: [] };
  const tiers: TierComparison[] = [];
  const pooled: [SubtestRuns[], SubtestRuns[]] = [[], []];
  for (const tier of tiersA.filter((t) => tiersB.includes(t))) {
    const inA = a.filter((s) => s.tier === tier);
    const inB = b.filter((s) => s.tier === tier);
    onlyInA.subtests.push(...inA.filter((s) => !find(b, tier, s.subtest)).map((s) => `${tier}/${s.subtest}`));
    onlyInB.subtests.push(...inB.filter((s) => !find(a, tier, s.subtest)).map((s) => `${tier}/${s.subtest}`));
    const matched = inA.flatMap((sa) => {
      const sb = find(b, tier, sa.subtest);
      return sb ? [[sa, sb] as const] : [];
    });
    if (matched.length === 0) continue;
    const [mA, mB] = [matched.map(([x]) => x), matched.map(([, y]) => y)];
    pooled[0].push(...mA);
    pooled[1].push(...mB);
    tiers.push({ tier, ...compareGroups(mA, mB), subtests: matched.map(([x, y]) => ({ subtest: x.subtest, ...compareGroups([x], [y]) })) });
  }
  return { onlyInA, onlyInB, overall: tiers.length > 0 ? compareGroups(...pooled) : null, tiers };
}

/** The comparison of the runs of some subtests of A with those of some of B, pooled. */
export function compareGroups(a: readonly SubtestRuns[], b: readonly SubtestRuns[]): GroupComparison {
  const [sa, sb] = [sideOf(a), sideOf(b)];
  return {
    a: sa.counts,
    b: sb.counts,
    passRate: passRateMeasure(sa.counts, sb.counts),
    medianScore: bootstrapMeasure(sa.scores, sb.scores, median, 4, 'higher'),
    costUsd: total(sa.costs, sb.costs, 6),
    meanCostUsd: bootstrapMeasure(sa.costs, sb.costs, mean, 6, 'lower'),
    tokens: total(sa.tokens, sb.tokens, 0),
  };
}

interface Side {
  counts: SideCounts;
  /** Scores of the judged runs (a judged run without a score counts 0, as in every other result). */
  scores: number[];
  costs: number[];
  tokens: number[];
}

function sideOf(subtests: readonly SubtestRuns[]): Side {
  const runs = subtests.flatMap((s) => s.runs);
  const expected = subtests.reduce((n, s) => n + Math.max(s.expected ?? 0, s.runs.length), 0);
  const judgedRuns = runs.filter((r) => r.outcome === 'passed' || r.outcome === 'not_passed');
  const passed = runs.filter((r) => r.outcome === 'passed').length;
  const errored = runs.filter((r) => r.outcome === 'errored').length;
  const costs = runs.flatMap((r) => (r.costUsd === null ? [] : [r.costUsd]));
  const counts: SideCounts = {
    runs: expected, judged: judgedRuns.length, passed, notPassed: judgedRuns.length - passed, errored,
    withoutOutcome: expected - judgedRuns.length - errored, costed: costs.length,
  };
  return { counts, scores: judgedRuns.map((r) => r.score ?? 0), costs, tokens: runs.flatMap((r) => (r.tokens === null ? [] : [r.tokens])) };
}

/** Pass rates and the Newcombe interval of their difference; null on a side without judged runs. */
function passRateMeasure(a: SideCounts, b: SideCounts): Measure {
  const rate = (s: SideCounts) => (s.judged === 0 ? null : s.passed / s.judged);
  const [ra, rb] = [rate(a), rate(b)];
  const interval = roundInterval(proportionDifference(a.passed, a.judged, b.passed, b.judged), 4);
  return measure(ra, rb, interval, 4, 'higher');
}

/** A statistic of both sides and the seeded bootstrap interval of its difference (B − A). */
function bootstrapMeasure(a: readonly number[], b: readonly number[], statistic: (values: readonly number[]) => number, digits: number, better: 'higher' | 'lower'): Measure {
  const of = (values: readonly number[]) => (values.length === 0 ? null : statistic(values));
  const enough = a.length >= MIN_RUNS_FOR_BOOTSTRAP && b.length >= MIN_RUNS_FOR_BOOTSTRAP;
  const interval = enough ? roundInterval(bootstrapDifference(a, b, statistic), digits) : null;
  return measure(of(a), of(b), interval, digits, better);
}

/** Rounded values, their difference, and what the (rounded) interval says about it. */
function measure(a: number | null, b: number | null, interval: Interval | null, digits: number, better: 'higher' | 'lower'): Measure {
  const delta = a === null || b === null ? null : rounded(b - a, digits);
  return { a: roundOrNull(a, digits), b: roundOrNull(b, digits), delta, interval, verdict: verdictOf(interval, better) };
}

/** Apart from 0 on the better side, on the worse side, or not apart. */
export function verdictOf(interval: Interval | null, better: 'higher' | 'lower'): Verdict | null {
  if (!interval) return null;
  const [low, high] = interval;
  if (low > 0) return better === 'higher' ? 'b_better' : 'b_worse';
  if (high < 0) return better === 'higher' ? 'b_worse' : 'b_better';
  return 'within_noise';
}

function total(a: readonly number[], b: readonly number[], digits: number): Total {
  const sum = (values: readonly number[]) => (values.length === 0 ? null : rounded(values.reduce((x, y) => x + y, 0), digits));
  const [ta, tb] = [sum(a), sum(b)];
  return { a: ta, b: tb, delta: ta === null || tb === null ? null : rounded(tb - ta, digits) };
}

const roundOrNull = (x: number | null, digits: number) => (x === null ? null : rounded(x, digits));
const roundInterval = (interval: Interval | null, digits: number): Interval | null => (interval ? [rounded(interval[0], digits), rounded(interval[1], digits)] : null);

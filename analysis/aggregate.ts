/**
 * Aggregation of judge verdicts and run results into subtest, tier and
 * experiment results (docs/design.md §6). Pure functions: no I/O, no clock.
 *
 * Unknown values (agent cost, tokens) stay null all the way up; they are
 * never counted as zero.
 */
import type { ExperimentResult, JudgeVerdict, RunResult, SubtestResult, TierResult } from '../schemas/results.js';
import { separationOf } from './outcomes.js';
import { bootstrapMedianMean, mean as meanOf, median as medianOf, RATE_DIGITS, rounded, roundedInterval, wilson } from './stats.js';

type Grade = NonNullable<RunResult['grade']>;
type Best = { subtest: string; reason: string };

/** Iterated from low to high so that a tie keeps the lower grade. */
const GRADES_LOW_TO_HIGH: readonly Grade[] = ['F', 'D', 'C', 'B', 'A', 'S'];

/** How far below the top median a subtest may be and still compete on tokens (docs/design.md §6). */
const WITHIN_TOP = 0.05;
/** Absorbs floating-point noise, e.g. 0.92 − 0.87 = 0.05000000000000004. */
const EPSILON = 1e-9;

/**
 * Combines the verdicts of all judges of one run.
 * score = mean score; passed = strict majority passed; grade = most common
 * grade among judges that gave one (ties → the lower grade), null if none did.
 *
 * @example consensus([{ score: 1, passed: true, grade: 'A' }, { score: 0.5, passed: false, grade: 'B' }])
 * // { score: 0.75, passed: false, grade: 'B' }
 */
export function consensus(verdicts: readonly JudgeVerdict[]): { score: number; passed: boolean; grade: RunResult['grade'] } {
  // Every run has at least one judge (the config requires one), so an empty list is a bug.
  if (verdicts.length === 0) throw new Error('consensus: no judge verdicts to combine');
  const passes = verdicts.filter((v) => v.passed).length;
  return {
    score: clamp01(sum(verdicts.map((v) => v.score)) / verdicts.length),
    passed: passes * 2 > verdicts.length,
    grade: mostCommonGrade(verdicts),
  };
}

function mostCommonGrade(verdicts: readonly JudgeVerdict[]): Grade | null {
  const counts = new Map<Grade, number>();
  for (const { grade } of verdicts) if (grade !== undefined && grade !== null) counts.set(grade, (counts.get(grade) ?? 0) + 1);
  let best: Grade | null = null;
  let bestCount = 0;
  for (const grade of GRADES_LOW_TO_HIGH) {
    const count = counts.get(grade) ?? 0;
    if (count > bestCount) [best, bestCount] = [grade, count];
  }
  return best;
}

/** What a run's agent executions spent in all, retries and failed attempts included; unknown (null) when none reported it. */
export interface RunSpend {
  costUsd: number | null;
  tokens: number | null;
}

export interface SubtestAggregateInput {
  tier: string;
  subtest: string;
  /** Results of the runs that completed (each has a result). */
  runs: readonly RunResult[];
  /** Runs that ended in lifecycle failure and so have no result. */
  failedRuns: number;
  /** The spend of every run that ran, failed ones too (default: the completed runs' agent usage). */
  spend?: readonly RunSpend[];
}

/**
 * Statistics of one subtest over its completed runs. Failed runs only count
 * towards `runs` and `failedRuns`.
 *
 * @example subtestResult({ tier: 'T0', subtest: '01-full', runs: [run1, run2], failedRuns: 1 })
 * // { runs: 3, completedRuns: 2, failedRuns: 1, passRate: 0.5, score: { mean, median, stdev }, ... }
 */
export function subtestResult(input: SubtestAggregateInput): SubtestResult {
  const { tier, subtest, runs, failedRuns } = input;
  const spend = input.spend ?? runs.map((r) => r.spend);
  assertCount('failedRuns', failedRuns);
  const stray = runs.find((r) => r.tier !== tier || r.subtest !== subtest);
  if (stray) throw new Error(`subtestResult: run ${stray.tier}/${stray.subtest}#${stray.run} does not belong to ${tier}/${subtest}`);
  const score = scoreStats(runs.map((r) => r.score));
  const totalMs = sum(runs.map((r) => r.durationMs));
  const passed = runs.filter((r) => r.passed).length;
  return {
    tier,
    subtest,
    runs: runs.length + failedRuns,
    completedRuns: runs.length,
    failedRuns,
    passedRuns: passed,
    passRate: rounded(ratio(passed, runs.length), RATE_DIGITS),
    passRateInterval: roundedInterval(wilson(passed, runs.length), RATE_DIGITS),
    score,
    consistency: rounded(consistency(score)),
    meanCostUsd: usd(meanOfKnown(spend.map((s) => s.costUsd))),
    totalCostUsd: usd(sumOfKnown(spend.map((s) => s.costUsd))),
    totalTokens: sumOfKnown(spend.map((s) => s.tokens)),
    durationMs: { total: totalMs, mean: Math.round(ratio(totalMs, runs.length)) },
  };
}

/**
 * How many runs have a known cost: the weight of a subtest's `meanCostUsd`
 * when a tier averages over runs (see {@link tierResult}). Given run results,
 * their agent cost; given spends, theirs.
 *
 * @example knownCostRuns([runWithCost, runWithoutCost]) // 1
 */
export function knownCostRuns(runs: readonly (RunResult | RunSpend)[]): number {
  return runs.filter((r) => ('spend' in r ? r.spend.costUsd : r.costUsd) !== null).length;
}

function scoreStats(scores: readonly number[]): SubtestResult['score'] {
  if (scores.length === 0) return { mean: 0, median: 0, stdev: 0, meanInterval: null, medianInterval: null };
  const mean = meanOf(scores);
  // Sample standard deviation (n − 1); a single run has no spread to estimate.
  const stdev = scores.length < 2 ? 0 : Math.sqrt(sum(scores.map((s) => (s - mean) ** 2)) / (scores.length - 1));
  const intervals = bootstrapMedianMean(scores);
  return {
    mean: rounded(mean),
    median: rounded(medianOf(scores)),
    stdev: rounded(stdev),
    meanInterval: roundedInterval(intervals?.mean ?? null),
    medianInterval: roundedInterval(intervals?.median ?? null),
  };
}

/** 1 − coefficient of variation, clamped to 0..1. */
function consistency({ mean, stdev }: SubtestResult['score']): number {
  if (mean === 0) return stdev === 0 ? 1 : 0;
  return clamp01(1 - stdev / mean);
}

/**
 * Picks the best subtest of a tier: highest median score; among subtests whose
 * median is within 0.05 of the top (inclusive), the fewest total tokens wins
 * (unknown tokens count as the most), then the higher median, then the id that
 * sorts first. Only subtests with completed runs compete.
 *
 * @example selectBest([lean, full]) // { subtest: '02-lean', reason: '02-lean: median 0.90 within 0.05 of the top (0.92, 01-full) and fewer total tokens (1200 vs 3400)' }
 */
export function selectBest(subtests: readonly SubtestResult[]): Best | null {
  const competing = subtests.filter((s) => s.completedRuns > 0);
  if (competing.length === 0) return null;
  const top = Math.max(...competing.map((s) => s.score.median));
  const candidates = competing.filter((s) => top - s.score.median <= WITHIN_TOP + EPSILON).sort(byPreference);
  const winner = candidates[0]!;
  return { subtest: winner.subtest, reason: bestReason(candidates, top) };
}

/** Fewer tokens (null last), then higher median, then id in code-unit order (locale-independent). */
function byPreference(a: SubtestResult, b: SubtestResult): number {
  return compareTokens(a, b) || b.score.median - a.score.median || (a.subtest < b.subtest ? -1 : a.subtest > b.subtest ? 1 : 0);
}

function compareTokens(a: SubtestResult, b: SubtestResult): number {
  return (a.totalTokens ?? Infinity) - (b.totalTokens ?? Infinity) || 0; // `|| 0` turns Infinity − Infinity (NaN) into a tie
}

/** The winner is candidates[0]; the sentence explains why it beat the top and the runner-up. */
function bestReason(candidates: readonly SubtestResult[], top: number): string {
  const [winner, runnerUp] = candidates as [SubtestResult, SubtestResult | undefined];
  const isTop = winner.score.median === top;
  // Sorted by preference, so the first top-median candidate is the one the winner beat on tokens.
  const topOne = candidates.find((s) => s.score.median === top)!;
  const head = isTop
    ? `${winner.subtest}: highest median score ${score2(top)}`
    : `${winner.subtest}: median ${score2(winner.score.median)} within 0.05 of the top (${score2(top)}, ${topOne.subtest})` +
      ` and fewer total tokens (${tokens(winner)} vs ${tokens(topOne)})`;
  return head + (runnerUp === undefined ? '' : tieBreak(winner, runnerUp, isTop));
}

function tieBreak(winner: SubtestResult, runnerUp: SubtestResult, isTop: boolean): string {
  if (compareTokens(winner, runnerUp) < 0) {
    return isTop ? ` and fewer total tokens than ${runnerUp.subtest} (${tokens(winner)} vs ${tokens(runnerUp)})` : '';
  }
  if (winner.score.median > runnerUp.score.median) {
    return isTop ? '' : `; ${runnerUp.subtest} used as many tokens with a lower median (${score2(runnerUp.score.median)})`;
  }
  return `; tied with ${runnerUp.subtest} on median and total tokens, ${winner.subtest} sorts first`;
}

export interface TierSubtest {
  result: SubtestResult;
  /**
   * Number of completed runs whose agent cost is known — the runs that
   * `result.meanCostUsd` averages over (use {@link knownCostRuns}). It makes
   * the tier's mean cost a run-weighted mean rather than a mean of means.
   */
  knownCostRuns: number;
}

export interface TierAggregateInput {
  tier: string;
  outcome: 'completed' | 'failed';
  subtests: readonly TierSubtest[];
  best: Best | null;
  durationMs: number;
}

/**
 * Aggregates a tier's subtests. Pass rate and mean cost are weighted by runs
 * (completed runs, resp. runs with a known cost), so they equal the values
 * computed over all of the tier's runs at once.
 * costOfPass = what the tier spent per passing run: totalCostUsd ÷ passes
 * (every agent execution counted, failed runs' too; = meanCostUsd ÷ passRate
 * when every run completed and reported its cost); 'Infinity' when nothing
 * passed; null when cost is unknown.
 *
 * @example tierResult({ tier: 'T0', outcome: 'completed', subtests: [{ result: s, knownCostRuns: 2 }], best: selectBest([s]), durationMs: 1200 })
 */
export function tierResult(input: TierAggregateInput): TierResult {
  const { tier, subtests, best } = input;
  for (const s of subtests) assertTierSubtest(tier, s);
  if (best !== null && !subtests.some((s) => s.result.subtest === best.subtest)) {
    throw new Error(`tierResult: best subtest ${best.subtest} is not a subtest of tier ${tier}`);
  }
  const completed = sum(subtests.map((s) => s.result.completedRuns));
  const passed = sum(subtests.map((s) => s.result.passedRuns));
  const passRate = rounded(ratio(passed, completed), RATE_DIGITS);
  const costed = sum(subtests.map((s) => s.knownCostRuns));
  const meanCostUsd = costed === 0 ? null : sum(subtests.map((s) => (s.result.meanCostUsd ?? 0) * s.knownCostRuns)) / costed;
  const totalCostUsd = sumOfKnown(subtests.map((s) => s.result.totalCostUsd));
  return {
    tier,
    outcome: input.outcome,
    subtests: subtests.map((s) => s.result),
    best,
    separation: best === null ? null : separationOf(best.subtest, subtests.filter((s) => s.result.completedRuns > 0).map(({ result: s }) => ({ id: s.subtest, passes: s.passedRuns, judged: s.completedRuns, median: s.score.median, medianInterval: s.score.medianInterval }))),
    passRate,
    meanCostUsd: usd(meanCostUsd),
    totalCostUsd: usd(totalCostUsd),
    totalTokens: sumOfKnown(subtests.map((s) => s.result.totalTokens)),
    costOfPass: totalCostUsd === null ? null : passed === 0 ? 'Infinity' : usd(totalCostUsd / passed),
    durationMs: input.durationMs,
  };
}

function assertTierSubtest(tier: string, { result, knownCostRuns: n }: TierSubtest): void {
  const where = `tierResult: subtest ${result.tier}/${result.subtest}`;
  if (result.tier !== tier) throw new Error(`${where} does not belong to tier ${tier}`);
  assertCount(`${where} knownCostRuns`, n);
  if (n > result.runs) throw new Error(`${where} has knownCostRuns ${n} > runs ${result.runs}`);
  // A known mean needs at least one costed run, and costed runs imply a known mean.
  if ((n > 0) !== (result.meanCostUsd !== null)) {
    throw new Error(`${where} has knownCostRuns ${n} but meanCostUsd ${String(result.meanCostUsd)}`);
  }
}

/**
 * The experiment result; the frontier is the tier with the lowest numeric
 * cost of pass (ties → the first in the given order). Tiers whose cost of
 * pass is 'Infinity' or unknown never win; null when no tier qualifies.
 *
 * @example experimentResult({ experiment: 'demo-001', configHash: 'ab12', tiers: [t0, t1] }).frontier // { tier: 'T1', costOfPass: 0.015 }
 */
export function experimentResult(input: { experiment: string; configHash: string; tiers: readonly TierResult[] }): ExperimentResult {
  let frontier: { tier: string; costOfPass: number } | null = null;
  for (const { tier, costOfPass } of input.tiers) {
    if (typeof costOfPass !== 'number') continue;
    if (frontier === null || costOfPass < frontier.costOfPass) frontier = { tier, costOfPass };
  }
  return {
    experiment: input.experiment,
    configHash: input.configHash,
    tiers: [...input.tiers],
    frontier,
    totalCostUsd: usd(sumOfKnown(input.tiers.map((t) => t.totalCostUsd))),
    totalTokens: sumOfKnown(input.tiers.map((t) => t.totalTokens)),
  };
}

/** USD to a millionth of a dollar: exact enough for any spend, free of float noise. */
function usd<T extends number | null>(x: T): T {
  return (x === null ? null : rounded(x, 6)) as T;
}


// --- small numeric helpers -------------------------------------------------

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** n ÷ d, 0 when there is nothing to divide by (e.g. no completed runs). */
function ratio(n: number, d: number): number {
  return d === 0 ? 0 : n / d;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function meanOfKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : sum(known) / known.length;
}

function sumOfKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : sum(known);
}

function assertCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got ${n}`);
}

function score2(x: number): string {
  return x.toFixed(2);
}

function tokens(s: SubtestResult): string {
  return s.totalTokens === null ? 'unknown' : String(s.totalTokens);
}

/**
 * What a group of runs (a subtest, a tier, an experiment) came to, with the
 * uncertainty of a handful of runs: the numbers `status`, progress, the
 * viewer and `compare` show. Pure: no Node imports (the viewer's page bundles
 * it), nothing but its arguments.
 */
import { bootstrapMedianMean, mean, median, RATE_DIGITS, rounded, roundedInterval, separation, wilson, type Estimate, type Interval } from './stats.js';

/** A run's outcome: its judges said it passed or did not (a result), or it errored (an effect failed for good); null until then. */
export type RunOutcome = 'passed' | 'not_passed' | 'errored';

/** What one run came to, as far as it got. */
export interface RunResults {
  outcome: RunOutcome | null;
  /** The judges' consensus score, once judged. */
  score: number | null;
  /** What every agent execution of the run spent (failed and retried ones too); null when none reported it. */
  costUsd: number | null;
  tokens: number | null;
  durationMs: number;
}

/** The documented results of a group of runs (README, "status --json"). */
export interface GroupResults {
  /** Runs the group has or expects (created or not). */
  runs: number;
  /** Runs with a verdict: passed + notPassed. */
  judged: number;
  passed: number;
  notPassed: number;
  errored: number;
  /** passed ÷ judged, null when no run was judged. */
  passRate: number | null;
  /** The 95% Wilson interval of the pass rate. */
  passRateInterval: Interval | null;
  /** Over judged runs: the median and mean with seeded 95% bootstrap intervals; null when none was judged. */
  score: { median: number; medianInterval: Interval; mean: number; meanInterval: Interval } | null;
  /** Spent by every agent execution of the group's runs so far, retries and errored runs included; null when nothing reported a cost. */
  costUsd: number | null;
  tokens: number | null;
}

/** The results of a group of runs; `expected` counts the runs not created yet too. One pass: a 10^4-run experiment's status groups its runs at three levels. */
export function groupResults(runs: readonly (Omit<RunResults, 'durationMs'> & { durationMs?: number | null })[], expected = runs.length): GroupResults {
  let [passed, notPassed, errored] = [0, 0, 0];
  const scores: number[] = [];
  const cost = { sum: 0, known: false };
  const tokens = { sum: 0, known: false };
  for (const r of runs) {
    if (r.outcome === 'passed') passed += 1;
    else if (r.outcome === 'not_passed') notPassed += 1;
    else if (r.outcome === 'errored') errored += 1;
    if (r.outcome === 'passed' || r.outcome === 'not_passed') scores.push(r.score ?? 0);
    if (r.costUsd !== null) [cost.sum, cost.known] = [cost.sum + r.costUsd, true];
    if (r.tokens !== null) [tokens.sum, tokens.known] = [tokens.sum + r.tokens, true];
  }
  const judged = passed + notPassed;
  return {
    runs: Math.max(expected, runs.length),
    judged,
    passed,
    notPassed,
    errored,
    passRate: judged === 0 ? null : rounded(passed / judged, RATE_DIGITS),
    passRateInterval: roundedInterval(wilson(passed, judged), RATE_DIGITS),
    score: scoreResults(scores),
    costUsd: cost.known ? rounded(cost.sum, 6) : null,
    tokens: tokens.known ? rounded(tokens.sum, 0) : null,
  };
}

/** Median and mean of scores with their bootstrap intervals; null without scores. */
export function scoreResults(scores: readonly number[]): GroupResults['score'] {
  const intervals = bootstrapMedianMean(scores);
  if (!intervals) return null;
  return {
    median: rounded(median(scores)),
    medianInterval: roundedInterval(intervals.median)!,
    mean: rounded(mean(scores)),
    meanInterval: roundedInterval(intervals.mean)!,
  };
}

/** Whether a chosen leader stands out from the runner-up on median score, or is within noise of it. */
export interface Separation {
  leader: string;
  runnerUp: string;
  /** Their 95% intervals overlap on pass rate or on median score: the choice may be noise. */
  withinNoise: boolean;
  /** While within noise: about how many judged runs each would tell them apart at the differences seen; null when they do not differ at all. */
  runsToSeparate: number | null;
}

/** One competitor of a selection: its id, passes of judged runs, median score and its interval. */
export interface Competitor extends Estimate {
  id: string;
}

/**
 * How the leader compares with the best of the others (the highest median);
 * null when it has no competitor with a verdict.
 *
 * @example separationOf('a', [{ id: 'a', passes: 1, judged: 2, median: 0.75, medianInterval: [0.63, 0.88] }, { id: 'b', passes: 0, judged: 2, median: 0.5, medianInterval: [0.5, 0.5] }])
 * // { leader: 'a', runnerUp: 'b', withinNoise: true, runsToSeparate: 15 }
 */
export function separationOf(leader: string, competitors: readonly Competitor[]): Separation | null {
  const lead = competitors.find((c) => c.id === leader);
  const others = competitors.filter((c) => c.id !== leader && c.judged > 0).sort((a, b) => b.median - a.median || (a.id < b.id ? -1 : 1));
  const runnerUp = others[0];
  if (!lead || lead.judged === 0 || !runnerUp) return null;
  const { withinNoise, runsToSeparate } = separation(lead, runnerUp);
  return { leader, runnerUp: runnerUp.id, withinNoise, runsToSeparate };
}

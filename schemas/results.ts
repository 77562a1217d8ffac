import { z } from 'zod';
import { ExperimentKey, Id } from './ids.js';

/** What a judge command prints on stdout (docs/design.md §6). Extra fields are kept; an optional field may be null (as if absent). */
export const JudgeVerdict = z.looseObject({
  score: z.number().min(0).max(1),
  passed: z.boolean(),
  grade: z.enum(['S', 'A', 'B', 'C', 'D', 'F']).nullish(),
  reasoning: z.string().nullish(),
  criteria: z.record(z.string(), z.unknown()).nullish(),
});
export type JudgeVerdict = z.infer<typeof JudgeVerdict>;

/** The optional last JSON line of an agent's stdout. Missing values are unknown, not zero. */
export const AgentUsage = z.looseObject({
  tokens: z.union([z.int().nonnegative(), z.looseObject({ input: z.int().nonnegative().nullish(), output: z.int().nonnegative().nullish(), total: z.int().nonnegative().nullish() })]).nullish(),
  costUsd: z.number().nonnegative().nullish(),
});
export type AgentUsage = z.infer<typeof AgentUsage>;

const Unknown = <T extends z.ZodType>(t: T) => t.nullable();

export const RunResult = z.strictObject({
  experiment: ExperimentKey,
  tier: Id,
  subtest: Id,
  run: z.int().positive(),
  passed: z.boolean(),
  score: z.number().min(0).max(1),
  grade: z.enum(['S', 'A', 'B', 'C', 'D', 'F']).nullable(),
  judges: z.array(JudgeVerdict),
  agent: z.strictObject({
    exitCode: z.int().nullable(),
    timedOut: z.boolean(),
    durationMs: z.number().nonnegative(),
    tokens: Unknown(z.int().nonnegative()),
    costUsd: Unknown(z.number().nonnegative()),
  }),
  diff: z.strictObject({ filesChanged: z.int().nonnegative(), insertions: z.int().nonnegative(), deletions: z.int().nonnegative() }),
  /** What every agent execution of the run spent, retries and rate-limited attempts included (`agent` is the last one). */
  spend: z.strictObject({ costUsd: Unknown(z.number().nonnegative()), tokens: Unknown(z.int().nonnegative()) }),
  durationMs: z.number().nonnegative(),
});
export type RunResult = z.infer<typeof RunResult>;

/** A 95% interval [low, high]; null when there is nothing to estimate from. */
const Interval = z.tuple([z.number(), z.number()]).nullable();

/** Scores of the judged runs; the intervals are seeded 95% bootstrap intervals (the same runs give the same interval). */
const Stats = z.strictObject({ mean: z.number(), median: z.number(), stdev: z.number(), meanInterval: Interval, medianInterval: Interval });

export const SubtestResult = z.strictObject({
  tier: Id,
  subtest: Id,
  runs: z.int().nonnegative(),
  completedRuns: z.int().nonnegative(),
  failedRuns: z.int().nonnegative(),
  /** Completed (judged) runs that passed. */
  passedRuns: z.int().nonnegative(),
  /** passedRuns ÷ completedRuns (0 when none completed). */
  passRate: z.number().min(0).max(1),
  /** The 95% Wilson interval of the pass rate; null when no run completed. */
  passRateInterval: Interval,
  score: Stats,
  /** 1 − coefficient of variation of the scores, clamped to 0..1 (1 = every run scored the same). */
  consistency: z.number().min(0).max(1),
  /** Mean spend per run with a known cost (every agent execution of the run, failed runs too). */
  meanCostUsd: Unknown(z.number().nonnegative()),
  /** What every agent execution of the subtest's runs spent, retries and failed runs included. */
  totalCostUsd: Unknown(z.number().nonnegative()),
  totalTokens: Unknown(z.int().nonnegative()),
  durationMs: z.strictObject({ total: z.number().nonnegative(), mean: z.number().nonnegative() }),
});
export type SubtestResult = z.infer<typeof SubtestResult>;

/** Cost of a pass: a number of USD, "Infinity" when nothing passed, null when cost is unknown. */
export const CostOfPass = z.union([z.number().nonnegative(), z.literal('Infinity')]).nullable();

export const TierResult = z.strictObject({
  tier: Id,
  outcome: z.enum(['completed', 'failed']),
  subtests: z.array(SubtestResult),
  best: z.strictObject({ subtest: Id, reason: z.string() }).nullable(),
  /** Whether the best subtest stands out from the runner-up (the next highest median score), or is within noise of it; null with one competitor. */
  separation: z.strictObject({ leader: Id, runnerUp: Id, withinNoise: z.boolean(), runsToSeparate: z.int().positive().nullable() }).nullable(),
  /** Passed ÷ completed runs over all the tier's subtests (the experiment table shows the best subtest's). */
  passRate: z.number().min(0).max(1),
  meanCostUsd: Unknown(z.number().nonnegative()),
  totalCostUsd: Unknown(z.number().nonnegative()),
  totalTokens: Unknown(z.int().nonnegative()),
  costOfPass: CostOfPass,
  durationMs: z.number().nonnegative(),
});
export type TierResult = z.infer<typeof TierResult>;

export const ExperimentResult = z.strictObject({
  experiment: ExperimentKey,
  configHash: z.string(),
  tiers: z.array(TierResult),
  frontier: z.strictObject({ tier: Id, costOfPass: CostOfPass }).nullable(),
  totalCostUsd: Unknown(z.number().nonnegative()),
  totalTokens: Unknown(z.int().nonnegative()),
});
export type ExperimentResult = z.infer<typeof ExperimentResult>;

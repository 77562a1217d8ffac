/*
 * The tier → subtest → run tree of an experiment, with what every run, subtest
 * and tier came to: the one definition behind `status`, `history --at`,
 * progress and the viewer's page (bundled into it), so it is pure: no Node
 * imports, nothing but its arguments.
 */
import type { LifecycleContexts } from '../machines/context.js';
import { RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED } from '../machines/run-states.js';
import { groupResults, separationOf, type GroupResults, type RunOutcome, type Separation } from '../analysis/outcomes.js';
import { streams } from '../runner/streams.js';

export interface RunCounts {
  /** Every run the experiment expects, created or not. */
  total: number;
  /** Lifecycle: runs that reached run_worktree_cleaned, run_failed, the rate-limit wait. */
  completed: number;
  failed: number;
  rateLimited: number;
  /** Runs being worked on by a live driver (each holds a place of maxConcurrentRuns). */
  running: number;
  /** Runs started but not finished while no driver runs them (interrupted, paused, or the driver died). */
  stopped: number;
  /** Runs not started yet: waiting for a place, or not created yet. */
  pending: number;
  /** Outcome: judged runs that passed and that did not. */
  passed: number;
  notPassed: number;
}

/** One run in the tree: its lifecycle and what it came to. */
export interface RunEntry {
  run: number;
  state: string;
  attempt: number;
  outcome: RunOutcome | null;
  score: number | null;
  costUsd: number | null;
  tokens: number | null;
  /** From its creation to its verdict (or to its failure); null while it has no outcome. */
  durationMs: number | null;
  /** Why it errored. */
  error: string | null;
}

/** The documented `status --json` shape of one experiment (README, "status --json"). */
export interface StatusTree {
  experiment: string;
  state: string;
  runs: RunCounts;
  results: GroupResults;
  tiers: {
    id: string;
    state: string;
    best: string | null;
    /** The best subtest against the runner-up: within noise or not. */
    separation: Separation | null;
    results: GroupResults;
    subtests: { id: string; state: string; results: GroupResults; runs: RunEntry[] }[];
  }[];
}

/** What a run came to, as the tree shows it. */
export type RunFields = Omit<RunEntry, 'run' | 'state' | 'attempt'>;

export const NO_OUTCOME: RunFields = { outcome: null, score: null, costUsd: null, tokens: null, durationMs: null, error: null };

/** What the tree shows of one actor: its state, the ids of its children, its attempt and outcome (runs) and best subtest (tiers). */
export interface TreeNode {
  state: string;
  children: string[];
  attempt: number;
  best: string | null;
  result?: RunFields;
}

export type { RunPlan } from '../runner/outcome.js';
import type { RunPlan } from '../runner/outcome.js';

/** The tree fields of a lifecycle actor, from its machine id, state and context. */
export function treeNodeOf(machine: string, state: string, context: unknown, result?: RunFields): TreeNode {
  const node: TreeNode = { state, children: [], attempt: 0, best: null };
  if (machine === 'experiment') node.children = (context as LifecycleContexts['experiment']).tiers.map((t) => t.id);
  else if (machine === 'tier') {
    const tier = context as LifecycleContexts['tier'];
    node.children = tier.expected;
    node.best = tier.best?.subtest ?? null;
  } else if (machine === 'subtest') node.children = (context as LifecycleContexts['subtest']).expected;
  else if (machine === 'run') {
    node.attempt = (context as LifecycleContexts['run']).attempt;
    node.result = result ?? NO_OUTCOME;
  }
  return node;
}

/** Whether runs in progress are being worked on (a live driver), and what the config expects. */
export interface TreeOptions {
  live?: boolean;
  plan?: RunPlan | null;
}

/**
 * The tree of experiment `key`: tiers from the experiment's context, subtests
 * from each tier's, runs from each subtest's; actors not created yet are
 * `not_started`.
 */
export function statusTree(key: string, nodeOf: (stream: string) => TreeNode | undefined, options: TreeOptions = {}): StatusTree {
  const state = (stream: string) => nodeOf(stream)?.state ?? 'not_started';
  const tiers = (nodeOf(key)?.children ?? []).map((id) => {
    const tier = nodeOf(streams.tier(key, id));
    const subtests = (tier?.children ?? []).map((subtest) => {
      const runs = (nodeOf(streams.subtest(key, id, subtest))?.children ?? []).map((run): RunEntry => {
        const actor = nodeOf(streams.run(key, id, subtest, Number(run)));
        return { run: Number(run), state: actor?.state ?? 'not_started', attempt: actor?.attempt ?? 0, ...(actor?.result ?? NO_OUTCOME) };
      });
      const expected = Math.max(runs.length, options.plan?.runsPerSubtest ?? 0);
      return { id: subtest, state: state(streams.subtest(key, id, subtest)), results: resultsOf(runs, expected), runs };
    });
    const planned = (options.plan?.subtests[id] ?? 0) * (options.plan?.runsPerSubtest ?? 0);
    const expected = Math.max(planned, subtests.reduce((n, s) => n + s.results.runs, 0));
    const best = tier?.best ?? null;
    const competitors = subtests.map((s) => ({ id: s.id, passes: s.results.passed, judged: s.results.judged, median: s.results.score?.median ?? 0, medianInterval: s.results.score?.medianInterval ?? null }));
    return { id, state: state(streams.tier(key, id)), best, separation: best ? separationOf(best, competitors) : null, results: resultsOf(subtests.flatMap((s) => s.runs), expected), subtests };
  });
  const total = tiers.reduce((n, t) => n + t.results.runs, 0);
  const all = tiers.flatMap((t) => t.subtests.flatMap((s) => s.runs));
  return { experiment: key, state: state(key), runs: countRuns(all, total, options.live ?? true), results: resultsOf(all, total), tiers };
}

function resultsOf(runs: readonly RunEntry[], expected: number): GroupResults {
  return groupResults(runs, expected);
}

const IDLE = new Set(['not_started', 'run_pending']);

function countRuns(runs: readonly RunEntry[], total: number, live: boolean): RunCounts {
  const counts: RunCounts = { total, completed: 0, failed: 0, rateLimited: 0, running: 0, stopped: 0, pending: 0, passed: 0, notPassed: 0 };
  for (const run of runs) {
    if (run.outcome === 'passed') counts.passed += 1;
    else if (run.outcome === 'not_passed') counts.notPassed += 1;
    if (run.state === RUN_COMPLETED) counts.completed += 1;
    else if (run.state === RUN_FAILED) counts.failed += 1;
    else if (run.state === RUN_RATE_LIMITED) counts.rateLimited += 1;
    else if (!IDLE.has(run.state)) counts[live ? 'running' : 'stopped'] += 1;
  }
  counts.pending = total - counts.completed - counts.failed - counts.rateLimited - counts.running - counts.stopped;
  return counts;
}

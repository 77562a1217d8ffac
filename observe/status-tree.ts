/*
 * The tier → subtest → run tree of an experiment: the one definition behind
 * `status`, `history --at` and the viewer's page (bundled into it), so it is
 * pure: no Node imports, nothing but its arguments.
 */
import type { LifecycleContexts } from '../machines/context.js';
import { RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED } from '../machines/run-states.js';
import { streams } from '../runner/streams.js';

export interface RunCounts {
  total: number;
  completed: number;
  failed: number;
  rateLimited: number;
  running: number;
  pending: number;
}

/** The documented `status --json` shape of one experiment (README, "status --json"). */
export interface StatusTree {
  experiment: string;
  state: string;
  runs: RunCounts;
  tiers: {
    id: string;
    state: string;
    best: string | null;
    subtests: { id: string; state: string; runs: { run: number; state: string; attempt: number }[] }[];
  }[];
}

/** What the tree shows of one actor: its state, the ids of its children, its attempt (runs) and best subtest (tiers). */
export interface TreeNode {
  state: string;
  children: string[];
  attempt: number;
  best: string | null;
}

/** The tree fields of a lifecycle actor, from its machine id, state and context. */
export function treeNodeOf(machine: string, state: string, context: unknown): TreeNode {
  const node: TreeNode = { state, children: [], attempt: 0, best: null };
  if (machine === 'experiment') node.children = (context as LifecycleContexts['experiment']).tiers.map((t) => t.id);
  else if (machine === 'tier') {
    const tier = context as LifecycleContexts['tier'];
    node.children = tier.expected;
    node.best = tier.best?.subtest ?? null;
  } else if (machine === 'subtest') node.children = (context as LifecycleContexts['subtest']).expected;
  else if (machine === 'run') node.attempt = (context as LifecycleContexts['run']).attempt;
  return node;
}

/**
 * The tree of experiment `key`: tiers from the experiment's context, subtests
 * from each tier's, runs from each subtest's; actors not created yet are
 * `not_started`.
 */
export function statusTree(key: string, nodeOf: (stream: string) => TreeNode | undefined): StatusTree {
  const state = (stream: string) => nodeOf(stream)?.state ?? 'not_started';
  const tiers = (nodeOf(key)?.children ?? []).map((id) => {
    const tier = nodeOf(streams.tier(key, id));
    const subtests = (tier?.children ?? []).map((subtest) => {
      const runs = (nodeOf(streams.subtest(key, id, subtest))?.children ?? []).map((run) => {
        const actor = nodeOf(streams.run(key, id, subtest, Number(run)));
        return { run: Number(run), state: actor?.state ?? 'not_started', attempt: actor?.attempt ?? 0 };
      });
      return { id: subtest, state: state(streams.subtest(key, id, subtest)), runs };
    });
    return { id, state: state(streams.tier(key, id)), best: tier?.best ?? null, subtests };
  });
  return { experiment: key, state: state(key), runs: countRuns(tiers), tiers };
}

function countRuns(tiers: StatusTree['tiers']): RunCounts {
  const counts: RunCounts = { total: 0, completed: 0, failed: 0, rateLimited: 0, running: 0, pending: 0 };
  for (const tier of tiers) {
    for (const subtest of tier.subtests) {
      for (const run of subtest.runs) {
        counts.total += 1;
        if (run.state === RUN_COMPLETED) counts.completed += 1;
        else if (run.state === RUN_FAILED) counts.failed += 1;
        else if (run.state === RUN_RATE_LIMITED) counts.rateLimited += 1;
        else if (run.state === 'not_started') counts.pending += 1;
        else counts.running += 1;
      }
    }
  }
  return counts;
}

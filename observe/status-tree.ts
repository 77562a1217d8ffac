import type { ReplayedActor } from '../engine/index.js';
import type { ExperimentContext, RunContext, SubtestContext, TierContext } from '../machines/index.js';
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

/** The tier → subtest → run tree of an experiment with each actor's state; not-yet-created actors are `not_started`. */
export function statusTree(key: string, actors: ReadonlyMap<string, ReplayedActor>): StatusTree {
  const experiment = actors.get(key);
  const context = experiment?.snapshot.context as ExperimentContext | undefined;
  const state = (stream: string) => String(actors.get(stream)?.snapshot.value ?? 'not_started');
  const tiers = (context?.tiers ?? []).map(({ id }) => {
    const tier = actors.get(streams.tier(key, id))?.snapshot.context as TierContext | undefined;
    const subtests = (tier?.expected ?? []).map((subtest) => {
      const sub = actors.get(streams.subtest(key, id, subtest))?.snapshot.context as SubtestContext | undefined;
      const runs = (sub?.expected ?? []).map((run) => {
        const actor = actors.get(streams.run(key, id, subtest, Number(run)));
        return { run: Number(run), state: String(actor?.snapshot.value ?? 'not_started'), attempt: (actor?.snapshot.context as RunContext | undefined)?.attempt ?? 0 };
      });
      return { id: subtest, state: state(streams.subtest(key, id, subtest)), runs };
    });
    return { id, state: state(streams.tier(key, id)), best: tier?.best?.subtest ?? null, subtests };
  });
  return { experiment: key, state: String(experiment?.snapshot.value ?? 'not_started'), runs: countRuns(tiers), tiers };
}

function countRuns(tiers: StatusTree['tiers']): RunCounts {
  const counts: RunCounts = { total: 0, completed: 0, failed: 0, rateLimited: 0, running: 0, pending: 0 };
  for (const run of tiers.flatMap((t) => t.subtests.flatMap((s) => s.runs))) {
    counts.total += 1;
    if (run.state === 'run_worktree_cleaned') counts.completed += 1;
    else if (run.state === 'run_failed') counts.failed += 1;
    else if (run.state === 'run_rate_limited') counts.rateLimited += 1;
    else if (run.state === 'not_started') counts.pending += 1;
    else counts.running += 1;
  }
  return counts;
}

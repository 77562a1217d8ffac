import { outputOf } from '../engine/effects.js';
import type { RunContext } from '../machines/run.machine.js';
import type { EventStore } from '../store/types.js';
import { OUTCOME_EFFECTS, runViewOf } from './outcome.js';

/**
 * One row per run, for `report --format csv|jsonl` and `compare`: what the
 * run came to and what its recorded steps say (documented in the README,
 * "report --format"). Read from the log alone: latest states and the ends
 * of the effects these fields come from.
 */
export interface RunRecord {
  experiment: string;
  tier: string;
  subtest: string;
  run: number;
  state: string;
  attempt: number;
  outcome: 'passed' | 'not_passed' | 'errored' | null;
  score: number | null;
  grade: string | null;
  costUsd: number | null;
  tokens: number | null;
  durationMs: number;
  agentExitCode: number | null;
  agentTimedOut: boolean | null;
  filesChanged: number | null;
  insertions: number | null;
  deletions: number | null;
  error: string | null;
}

export const RUN_RECORD_FIELDS: readonly (keyof RunRecord)[] = [
  'experiment', 'tier', 'subtest', 'run', 'state', 'attempt', 'outcome', 'score', 'grade', 'costUsd', 'tokens', 'durationMs',
  'agentExitCode', 'agentTimedOut', 'filesChanged', 'insertions', 'deletions', 'error',
];

type Agent = { exitCode?: number | null; timedOut?: boolean } | null;
type Diff = { filesChanged?: number; insertions?: number; deletions?: number } | null;
type Judged = { grade?: string | null } | null;

/** Every run of experiment `key` that exists: tiers and subtests in the order they started, runs by number. */
export function runRecords(store: EventStore, key: string): RunRecord[] {
  const ends = new Map<string, ReturnType<EventStore['readEffectRows']>>();
  for (const row of store.readEffectRows(key, [...OUTCOME_EFFECTS, 'captureDiff'])) ends.set(row.stream, [...(ends.get(row.stream) ?? []), row]);
  const states = store.latestStates(key).streams;
  const runs = states.filter((s) => s.machine.startsWith('run@'));
  const rank = configOrder(key, states);
  const order = (stream: string) => rank.get(stream.slice(0, stream.lastIndexOf('/'))) ?? rank.size;
  const number = (stream: string) => Number(stream.slice(stream.lastIndexOf('/') + 1));
  runs.sort((a, b) => order(a.stream) - order(b.stream) || number(a.stream) - number(b.stream));
  return runs.map((s) => {
    const rows = ends.get(s.stream) ?? [];
    const view = runViewOf({ stream: s.stream, state: String(s.state), context: s.context as RunContext, createdAt: s.createdAt, at: s.at }, rows);
    const agent = outputOf<Agent>(rows, 'runAgent') ?? null;
    const diff = view.outcome && view.outcome !== 'errored' ? outputOf<Diff>(rows, 'captureDiff') ?? null : null;
    const judged = view.outcome && view.outcome !== 'errored' ? outputOf<Judged>(rows, 'runJudges') ?? null : null;
    return {
      experiment: key, tier: view.tier, subtest: view.subtest, run: view.run, state: view.state, attempt: view.attempt,
      outcome: view.outcome, score: view.score, grade: judged?.grade ?? null, costUsd: view.costUsd, tokens: view.tokens, durationMs: view.durationMs,
      agentExitCode: agent?.exitCode ?? null, agentTimedOut: agent ? agent.timedOut ?? false : null,
      filesChanged: diff?.filesChanged ?? null, insertions: diff?.insertions ?? null, deletions: diff?.deletions ?? null, error: view.error,
    };
  });
}

/** Each subtest stream's place in the config's order: tiers as the experiment lists them, subtests as each tier does. */
function configOrder(key: string, states: ReturnType<EventStore['latestStates']>['streams']): Map<string, number> {
  const context = new Map(states.map((s) => [s.stream, s.context as { tiers?: { id: string }[]; expected?: string[] }]));
  const rank = new Map<string, number>();
  for (const tier of context.get(key)?.tiers ?? []) {
    for (const subtest of context.get(`${key}/${tier.id}`)?.expected ?? []) rank.set(`${key}/${tier.id}/${subtest}`, rank.size);
  }
  return rank;
}

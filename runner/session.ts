import type { EffectContext, EffectResult, ReplayedActor } from '../engine/index.js';
import type { ExperimentConfig, SubtestConfig, TierConfig } from '../schemas/config.js';
import type { Operator } from '../schemas/events.js';
import type { ExperimentLog, PreparedRepo } from './log.js';
import { readyRepo } from './setup/repo.js';
import type { ExperimentPaths } from './paths.js';

/**
 * What every collaborator works with: the experiment being driven, its config
 * and directories, the log, and read access to the live actors. Built once
 * per drive; `actors` is the live map the runtime updates.
 */
export interface Session {
  /** The experiment's key in the log: its id, or `id~N` after `run --fresh`. */
  readonly key: string;
  readonly config: ExperimentConfig;
  readonly configDir: string;
  readonly paths: ExperimentPaths;
  readonly store: ExperimentLog;
  readonly clock: () => number;
  readonly actors: ReadonlyMap<string, ReplayedActor>;
  /** Who drives this session: recorded on the operator events it causes. */
  readonly operator: Operator;
  /** The task repository (the recorded output of `prepareRepository`, prepared again if the folder lost it), once per session. */
  repo(): Promise<PreparedRepo>;
}

export function createSession(fields: Omit<Session, 'repo'>): Session {
  let repo: Promise<PreparedRepo> | null = null;
  return {
    ...fields,
    repo: () => {
      repo ??= readyRepo(fields);
      repo.catch(() => (repo = null)); // a failure is tried again by the next effect that needs it
      return repo;
    },
  };
}

/** An effect implementation of a collaborator. */
export type RunnerEffect = (ctx: EffectContext, session: Session) => Promise<EffectResult>;

export function tierConfig(session: Pick<Session, 'config'>, tier: string): TierConfig {
  const found = session.config.tiers.find((t) => t.id === tier);
  if (!found) throw new Error(`tier ${tier} is not in the config`);
  return found;
}

export function subtestConfig(session: Pick<Session, 'config'>, tier: string, subtest: string): SubtestConfig {
  const found = tierConfig(session, tier).subtests.find((s) => s.id === subtest);
  if (!found) throw new Error(`subtest ${tier}/${subtest} is not in the config`);
  return found;
}

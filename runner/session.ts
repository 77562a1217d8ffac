import type { EffectContext, EffectResult, ReplayedActor } from '../engine/index.js';
import type { ExperimentConfig, SubtestConfig, TierConfig } from '../schemas/config.js';
import type { EventStore } from '../store/types.js';
import { outputOf } from '../engine/effects.js';
import type { Metrics } from './metrics.js';
import type { ExperimentPaths } from './paths.js';

/**
 * What every collaborator works with: the experiment being driven, its config
 * and directories, the log, and read access to the live actors.
 */
export interface Session {
  /** The experiment's key in the log: its id, or `id~N` after `run --fresh`. */
  key: string;
  config: ExperimentConfig;
  configDir: string;
  paths: ExperimentPaths;
  store: EventStore;
  clock: () => number;
  metrics: Metrics;
  actors: ReadonlyMap<string, ReplayedActor>;
}

/** An effect implementation of a collaborator. */
export type RunnerEffect = (ctx: EffectContext, session: Session) => Promise<EffectResult>;

export function tierConfig(session: Session, tier: string): TierConfig {
  const found = session.config.tiers.find((t) => t.id === tier);
  if (!found) throw new Error(`tier ${tier} is not in the config`);
  return found;
}

export function subtestConfig(session: Session, tier: string, subtest: string): SubtestConfig {
  const found = tierConfig(session, tier).subtests.find((s) => s.id === subtest);
  if (!found) throw new Error(`subtest ${tier}/${subtest} is not in the config`);
  return found;
}

/** The task repository prepared for this experiment (the output of `prepareRepository`). */
export function preparedRepo(session: Session): { repoDir: string; commit: string } {
  const repo = outputOf<{ repoDir: string; commit: string }>(session.store.readStream(session.key), 'prepareRepository');
  if (!repo) throw new Error(`experiment ${session.key} has no prepared repository yet`);
  return repo;
}

/** Identity of the run an effect belongs to, from the run actor's context. */
export function runIdentity(ctx: EffectContext): { tier: string; subtest: string; run: number } {
  const { tier, subtest, run } = ctx.actor.snapshot.context as { tier: string; subtest: string; run: number };
  return { tier, subtest, run };
}

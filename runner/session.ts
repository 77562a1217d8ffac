import { isFinal, stateMeta, type EffectContext, type EffectResult, type ReplayedActor } from '../engine/index.js';
import type { ExperimentConfig, SubtestConfig, TierConfig } from '../schemas/config.js';
import type { LifecycleEvent, Operator } from '../schemas/events.js';
import type { EventStore } from '../store/types.js';
import { outputOf } from '../engine/effects.js';
import type { Metrics } from '../observe/metrics.js';
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
  /** Who drives this session: recorded on the operator events it causes. */
  operator: Operator;
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
export function preparedRepo(session: Pick<Session, 'key' | 'store'>): { repoDir: string; commit: string } {
  const repo = outputOf<{ repoDir: string; commit: string }>(session.store.readStream(session.key), 'prepareRepository');
  if (!repo) throw new Error(`experiment ${session.key} has no prepared repository yet`);
  return repo;
}


/**
 * Fan-out over children that may already exist (after an operator reset sent
 * their parent back before its fan-out): new ones are spawned, finished or
 * failed ones restart from their initial state, running ones are left alone.
 */
export function fanOut(session: Session, children: { stream: string; machine: string; input: unknown }[]) {
  const spawn = children.filter((c) => !session.actors.has(c.stream));
  const events = children.flatMap(({ stream }) => {
    const actor = session.actors.get(stream);
    if (!actor || !isDone(actor)) return [];
    const event: LifecycleEvent = { type: 'operator.reset', data: { to: String(actor.entry.machine.config.initial), operator: session.operator } };
    return [{ stream, event }];
  });
  return { spawn, events };
}

/** Finished, or failed: nothing will happen to it unless someone acts. */
export function isDone(actor: ReplayedActor): boolean {
  return isFinal(actor.snapshot) || stateMeta(actor.snapshot).outcome === 'failed';
}

/** The state in which a parent waits for its children (`meta.awaits`), or null for a run. */
export function waitingState(actor: ReplayedActor): string | null {
  const states = actor.entry.machine.states as Record<string, { meta?: { awaits?: string } }>;
  return Object.keys(states).find((name) => states[name]?.meta?.awaits) ?? null;
}

/** Whether a parent waits for its children now, or will as soon as it is resumed. */
export function waitsForChildren(actor: ReplayedActor): boolean {
  const waiting = waitingState(actor);
  if (!waiting) return false;
  const { resumeTo } = actor.snapshot.context as { resumeTo: string | null };
  return actor.snapshot.value === waiting || (resumeTo === waiting && !isFinal(actor.snapshot));
}

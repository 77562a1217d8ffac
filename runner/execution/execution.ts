import type { Decision, EffectRequest, ReplayedActor, SpawnSpec } from '../../engine/index.js';
import { contextOf } from '../../machines/index.js';
import { fanOut, isDone } from '../actor-tree.js';
import { tierConfig, type RunnerEffect, type Session } from '../session.js';
import { streams } from '../streams.js';
import { hostedExecutor, type Executor } from '../../workspace/executor.js';
import { commandStages } from './run-commands.js';
import { runStages } from './run-stages.js';
import { createBudget, type Budget, type BudgetLimits } from './budget.js';
import { Semaphore } from './semaphore.js';

/**
 * Execution (docs/design.md §4): tier groups, subtest and run fan-out, the run
 * stages (workspace, agent, judges) and the concurrency limits.
 */
export interface Execution {
  loadTierConfig: RunnerEffect;
  startSubtests: RunnerEffect;
  startRuns: RunnerEffect;
  stages: typeof runStages & ReturnType<typeof commandStages>;
  /** Tiers whose dependencies have finished and that have not started (or must start over): to create or restart now. */
  readyTiers(session: Session): Decision;
  /**
   * Concurrency: a run holds one of maxConcurrentRuns places from its first
   * effect until it ends; the agent step also one of maxConcurrentAgents, and
   * starts only within the budget (null: held, the budget is reached).
   */
  admit(request: EffectRequest, actor: ReplayedActor, signal: AbortSignal): Promise<(() => void) | null>;
  /** The spending limits, fed what every agent execution spent. */
  budget: Budget;
  /** A run ended (or stopped being driven): give its place back. */
  release(stream: string): void;
}

export interface Limits extends BudgetLimits {
  maxConcurrentRuns: number;
  maxConcurrentAgents: number;
}

export function createExecution(limits: Limits, executor: Executor = hostedExecutor): Execution {
  return { ...fanOutEffects, stages: { ...runStages, ...commandStages(executor) }, readyTiers, ...admission(limits) };
}

const maxAttempts = (session: Session) => session.config.retries.maxAttempts;
const children = (session: Session, specs: SpawnSpec[]) => fanOut(session.actors, session.operator, specs);

/** The fan-out effects: a tier's subtests (after `maxSubtests`), then each subtest's runs. */
const fanOutEffects: Pick<Execution, 'loadTierConfig' | 'startSubtests' | 'startRuns'> = {
  async loadTierConfig(ctx, session) {
    const config = tierConfig(session, contextOf(ctx.actor, 'tier').tier);
    return { output: { subtests: config.subtests.slice(0, config.maxSubtests ?? config.subtests.length).map((s) => s.id) } };
  },

  async startSubtests(ctx, session) {
    const { tier, expected } = contextOf(ctx.actor, 'tier');
    const specs = expected.map((subtest) => ({
      stream: streams.subtest(session.key, tier, subtest),
      machine: 'subtest',
      input: { tier, subtest, runs: session.config.runsPerSubtest, maxAttempts: maxAttempts(session) },
    }));
    return { output: { subtests: expected.length }, ...children(session, specs) };
  },

  async startRuns(ctx, session) {
    const { tier, subtest, expected } = contextOf(ctx.actor, 'subtest');
    const specs = expected.map((id) => ({
      stream: streams.run(session.key, tier, subtest, Number(id)),
      machine: 'run',
      input: { tier, subtest, run: Number(id), maxAttempts: maxAttempts(session) },
    }));
    return { output: { runs: expected.length }, ...children(session, specs) };
  },
};

/** Tier groups: a tier starts once every tier it depends on has an outcome. */
function readyTiers(session: Session): Decision {
  const experiment = session.actors.get(session.key);
  if (!experiment || experiment.snapshot.value !== 'exp_tiers_running') return {};
  const context = contextOf(experiment, 'experiment');
  // a finished or failed tier whose outcome the experiment forgot (an operator reset before the tiers) starts over
  const waiting = context.tiers.filter((t) => {
    const actor = session.actors.get(streams.tier(session.key, t.id));
    return context.children[t.id] === undefined && (!actor || isDone(actor)) && t.dependsOn.every((d) => context.children[d] !== undefined);
  });
  const specs = waiting.map((t) => ({ stream: streams.tier(session.key, t.id), machine: 'tier', input: { tier: t.id, maxAttempts: maxAttempts(session) } }));
  const { spawn, events } = children(session, specs);
  return { create: { specs: spawn, parent: session.key }, send: events };
}

/** The concurrency limits: a place per run from its first effect until it ends, and one per running agent within the budget. */
function admission(limits: Limits): Pick<Execution, 'admit' | 'release' | 'budget'> {
  const runs = new Semaphore(limits.maxConcurrentRuns);
  const agents = new Semaphore(limits.maxConcurrentAgents);
  const budget = createBudget(limits);
  const places = new Map<string, Promise<() => void>>();
  const release = (stream: string) => {
    const place = places.get(stream);
    places.delete(stream);
    void place?.then((free) => free(), () => {});
  };
  return {
    budget,
    async admit(request, actor, signal) {
      if (actor.entry.id !== 'run') return () => {};
      if (!places.has(actor.stream)) {
        const place = runs.acquire(signal);
        places.set(actor.stream, place);
        place.catch(() => places.delete(actor.stream));
      }
      await places.get(actor.stream);
      if (request.effect !== 'runAgent') return () => {};
      const free = await agents.acquire(signal);
      if (budget.tryStart(actor.stream)) return free;
      // the budget is reached: this run waits for a later drive, and gives its places back
      free();
      release(actor.stream);
      return null;
    },
    release,
  };
}

import { assertEvent, assign, setup } from 'xstate';
import type { LifecycleEvent } from '../schemas/events.js';
import { lifecycleActions, lifecycleContext, lifecycleGuards, type LifecycleContext } from './lifecycle.js';
import { RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED } from './run-states.js';
import { completed, effectState, resetExits, resumeExits, type StateMeta } from './states.js';

export interface RunInput {
  tier: string;
  subtest: string;
  run: number;
  maxAttempts: number;
}

export interface RunContext extends LifecycleContext {
  tier: string;
  subtest: string;
  run: number;
  /** While rate limited: do not retry the agent before this time (epoch ms, from the event). */
  retryAt: number | null;
  rateLimits: number;
}

/** Action states in lifecycle order, each with the effect its entry starts (docs/design.md §2.4). */
export const RUN_STEPS = [
  ['run_pending', 'createRunDir'],
  ['run_dir_created', 'createWorktree'],
  ['run_worktree_created', 'applyResources'],
  ['run_resources_applied', 'commitResources'],
  ['run_config_committed', 'writePrompt'],
  ['run_prompt_written', 'runAgent'],
  ['run_agent_complete', 'commitChanges'],
  ['run_changes_committed', 'captureDiff'],
  ['run_diff_captured', 'runJudges'],
  ['run_judge_complete', 'buildRunResult'],
  ['run_finalized', 'writeRunReport'],
  ['run_report_written', 'cleanupWorktree'],
] as const;

const FINAL = RUN_COMPLETED;
const actionStates = RUN_STEPS.map(([state]) => state);
const next = (i: number) => RUN_STEPS[i + 1]?.[0] ?? FINAL;

function stepStates() {
  return Object.fromEntries(RUN_STEPS.map(([state, effect], i) => [state, effectState(state, effect, next(i), RUN_FAILED)]));
}

/** The agent step also recognises rate limits: pause until the recorded time, then retry it. */
const agentStep = effectState('run_prompt_written', 'runAgent', 'run_agent_complete', RUN_FAILED);
const rateLimitedAgentStep = {
  ...agentStep,
  on: {
    ...agentStep.on,
    'effect.failed': [
      { guard: { type: 'isRateLimit', params: { effect: 'runAgent' } }, target: RUN_RATE_LIMITED, actions: 'recordRateLimit' },
      ...agentStep.on['effect.failed'],
    ],
  },
} as const;

export const runMachine = setup({
  types: {} as { context: RunContext; events: LifecycleEvent; input: RunInput; meta: StateMeta },
  guards: {
    ...lifecycleGuards,
    isRetryTimer: ({ event }) => event.type === 'timer.elapsed' && event.data.timer === 'retryAfter',
  },
  actions: {
    ...lifecycleActions<RunContext>(),
    recordRateLimit: assign(({ context, event }) => {
      assertEvent(event, 'effect.failed');
      return { retryAt: event.data.rateLimit?.retryAt ?? null, rateLimits: context.rateLimits + 1 };
    }),
    retryAfterRateLimit: assign(({ context }) => ({ attempt: context.attempt + 1, retryAt: null })),
  },
}).createMachine({
  id: 'run',
  version: '1',
  context: ({ input }) => ({
    ...lifecycleContext(input.maxAttempts),
    tier: input.tier,
    subtest: input.subtest,
    run: input.run,
    retryAt: null,
    rateLimits: 0,
  }),
  initial: 'run_pending',
  on: { 'operator.reset': resetExits(actionStates) },
  states: {
    ...stepStates(),
    run_prompt_written: rateLimitedAgentStep,
    [RUN_RATE_LIMITED]: {
      meta: { timer: { name: 'retryAfter', field: 'retryAt' } },
      on: { 'timer.elapsed': { guard: 'isRetryTimer', target: 'run_prompt_written', actions: 'retryAfterRateLimit' } },
    },
    [RUN_FAILED]: {
      meta: { outcome: 'failed' },
      on: { 'operator.resumed': resumeExits(actionStates) },
    },
    [FINAL]: completed,
  },
});

import { assertEvent, assign, setup } from 'xstate';
import type { LifecycleEvent } from '../schemas/events.js';
import { NOTICES, childOutcomeActions, lifecycleActions, lifecycleContext, lifecycleGuards, parentGuards, type LifecycleContext, type ParentContext } from './lifecycle.js';
import { awaitingState, childEvents, completed, effectState, parentResetExits, resumeExits, type StateMeta } from './states.js';

export interface ExperimentInput {
  experiment: string;
  /** Tier ids with their resolved dependencies (docs/design.md §2.5). */
  tiers: { id: string; dependsOn: string[] }[];
  failFast: boolean;
  maxAttempts: number;
}

export interface ExperimentContext extends LifecycleContext, ParentContext {
  experiment: string;
  tiers: ExperimentInput['tiers'];
  failFast: boolean;
}

const STEPS = [
  'exp_initializing',
  'exp_dir_created',
  'exp_repo_cloned',
  'exp_tiers_running',
  'exp_tiers_complete',
  'exp_reports_generated',
] as const;

/** SIGINT/SIGTERM from any working state: remember it, so resume continues there; tiers may be added. */
const interruptible = <S extends (typeof STEPS)[number]>(state: S) => ({
  'operator.interrupted': { target: 'exp_interrupted', actions: { type: 'recordInterrupt', params: { state } } },
  'experiment.tiers_added': { actions: 'addTiers' },
} as const);

/** Past the tiers, an added tier sends the experiment back to running tiers. */
const reopensTiers = { 'experiment.tiers_added': { target: 'exp_tiers_running', actions: ['addTiers', 'stepCompleted'] } } as const;

/** States past the tiers: adding a tier there goes back to running tiers. */
const AFTER_TIERS: readonly string[] = ['exp_tiers_complete', 'exp_reports_generated'];

function withInterrupt<S extends (typeof STEPS)[number], T extends object>(state: S, config: T) {
  return { ...config, on: { ...('on' in config ? (config.on as object) : {}), ...interruptible(state), ...(AFTER_TIERS.includes(state) ? reopensTiers : {}) } };
}

export const experimentMachine = setup({
  types: {} as { context: ExperimentContext; events: LifecycleEvent; input: ExperimentInput; meta: StateMeta },
  guards: {
    ...lifecycleGuards,
    ...parentGuards,
    /** docs/design.md §2.6: the experiment fails on a tier failure only with failFast. */
    shouldFail: (args) => args.context.failFast && parentGuards.anyChildFailed(args),
  },
  actions: {
    ...lifecycleActions<ExperimentContext>(),
    ...childOutcomeActions<ExperimentContext>(),
    addTiers: assign(({ context, event }) => {
      assertEvent(event, 'experiment.tiers_added');
      const added = event.data.tiers.filter((t) => !context.expected.includes(t.id));
      return {
        tiers: [...context.tiers, ...added],
        expected: [...context.expected, ...added.map((t) => t.id)],
        resumeTo: context.resumeTo && AFTER_TIERS.includes(context.resumeTo) ? 'exp_tiers_running' : context.resumeTo,
      };
    }),
  },
}).createMachine({
  id: 'experiment',
  version: '2',
  context: ({ input }) => ({
    ...lifecycleContext(input.maxAttempts),
    experiment: input.experiment,
    tiers: input.tiers,
    failFast: input.failFast,
    expected: input.tiers.map((t) => t.id),
    children: {},
  }),
  initial: 'exp_initializing',
  on: { ...childEvents(NOTICES.tier), 'operator.reset': parentResetExits(STEPS, ['exp_initializing', 'exp_dir_created', 'exp_repo_cloned']) },
  states: {
    exp_initializing: withInterrupt('exp_initializing', effectState('exp_initializing', 'initializeExperiment', 'exp_dir_created', 'exp_failed')),
    exp_dir_created: withInterrupt('exp_dir_created', effectState('exp_dir_created', 'prepareRepository', 'exp_repo_cloned', 'exp_failed')),
    exp_repo_cloned: withInterrupt('exp_repo_cloned', effectState('exp_repo_cloned', 'preflightChecks', 'exp_tiers_running', 'exp_failed')),
    exp_tiers_running: withInterrupt('exp_tiers_running', awaitingState('exp_tiers_running', 'tier', 'exp_tiers_complete', 'exp_failed')),
    exp_tiers_complete: withInterrupt('exp_tiers_complete', effectState('exp_tiers_complete', 'writeExperimentReports', 'exp_reports_generated', 'exp_failed')),
    exp_reports_generated: withInterrupt('exp_reports_generated', effectState('exp_reports_generated', 'completeExperiment', 'exp_complete', 'exp_failed')),
    exp_interrupted: { on: { 'experiment.tiers_added': { actions: 'addTiers' }, 'operator.resumed': resumeExits(STEPS) } },
    exp_failed: { meta: { outcome: 'failed' }, on: { 'experiment.tiers_added': { actions: 'addTiers' }, 'operator.resumed': resumeExits(STEPS) } },
    // a finished experiment takes tiers added later (`run --tiers` a subset first, then the rest)
    exp_complete: { ...completed, on: reopensTiers },
  },
});

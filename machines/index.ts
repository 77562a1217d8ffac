import type { MachineDeclaration } from '../engine/registry.js';
import { experimentMachine } from './experiment.machine.js';
import { NOTICES } from './lifecycle.js';
import { runMachine } from './run.machine.js';
import { subtestMachine } from './subtest.machine.js';
import { tierMachine } from './tier.machine.js';

export { experimentMachine, type ExperimentContext, type ExperimentInput } from './experiment.machine.js';
export { runMachine, RUN_STEPS, type RunContext, type RunInput } from './run.machine.js';
export { subtestMachine, runIds, type SubtestContext, type SubtestInput } from './subtest.machine.js';
export { tierMachine, type TierContext, type TierInput } from './tier.machine.js';
export { NOTICES } from './lifecycle.js';
export { RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED } from './run-states.js';
export { contextOf, identityOf, isLifecycleMachine, lifecycleOf, parentOf, type LifecycleContexts, type LifecycleMachineId } from './context.js';
export type { StateMeta } from './states.js';
export type { LifecycleContext, ParentContext, ChildOutcomes } from './lifecycle.js';

/**
 * The four lifecycle machines (docs/design.md §2), parents first, each with
 * the notices its actors send their parent. runner/registry.ts registers them.
 */
export const lifecycleMachines: readonly MachineDeclaration[] = [
  { machine: experimentMachine },
  { machine: tierMachine, notices: NOTICES.tier },
  { machine: subtestMachine, notices: NOTICES.subtest },
  { machine: runMachine, notices: NOTICES.run },
];

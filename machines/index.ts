import { createRegistry } from '../engine/registry.js';
import { experimentMachine } from './experiment.machine.js';
import { runMachine } from './run.machine.js';
import { subtestMachine } from './subtest.machine.js';
import { tierMachine } from './tier.machine.js';

export { experimentMachine, type ExperimentContext, type ExperimentInput } from './experiment.machine.js';
export { runMachine, RUN_STEPS, type RunContext, type RunInput } from './run.machine.js';
export { subtestMachine, runIds, type SubtestContext, type SubtestInput } from './subtest.machine.js';
export { tierMachine, type TierContext, type TierInput } from './tier.machine.js';
export type { StateMeta } from './states.js';
export type { LifecycleContext, ParentContext, ChildOutcomes } from './lifecycle.js';

/** The four lifecycle machines of SPEC §2, as the engine drives them. */
export const lifecycleRegistry = createRegistry([experimentMachine, tierMachine, subtestMachine, runMachine]);

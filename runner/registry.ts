import { createRegistry } from '../engine/registry.js';
import { lifecycleMachines } from '../machines/index.js';

/** The four lifecycle machines of docs/design.md §2, as the engine drives them. */
export const lifecycleRegistry = createRegistry(lifecycleMachines);

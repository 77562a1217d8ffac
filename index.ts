/**
 * expctl as a library: the lifecycle machines, the event log, the durable
 * runtime that replays and verifies it, and the experiment lifecycle on top.
 *
 * @example
 * import { lifecycleRegistry, openStore, replay, verifyLog } from 'expctl';
 * const store = openStore('results/expctl.db', { readonly: true });
 * const report = verifyLog(store, lifecycleRegistry, 'demo-001');
 */
export * from './machines/index.js';
export * from './engine/index.js';
export * from './store/index.js';
export * from './runner/index.js';
// `openStore` is the experiment log (the lifecycle's events checked on the way in and out); the generic store is `openEventStore`
export { openExperimentLog as openStore } from './runner/index.js';
export { openStore as openEventStore } from './store/index.js';
export { parseExperimentConfig, ExperimentConfig, type ExperimentConfigInput, type TierConfig, type SubtestConfig } from './schemas/config.js';
export { tierGroups } from './schemas/tier-order.js';
export { LifecycleEvent, EVENT_SCHEMA_VERSION, type EventOf, type Operator } from './schemas/events.js';
export * from './schemas/results.js';
export { ExpctlError, UsageError, EXIT_CODES, exitCodeOf, type ErrorCode } from './util/errors.js';

import { createRegistry } from '../engine/registry.js';
import { lifecycleMachines } from '../machines/index.js';

/** The four lifecycle machines of docs/design.md §2, as the engine drives them. */
export const lifecycleRegistry = createRegistry(lifecycleMachines);

/**
 * The lifecycle's effects that are idempotent, work only on this machine (the
 * results folder, the run's workspace) and are cheap to redo: a row that starts
 * only these does not wait for the disk (docs/design.md, I1). Left out, so
 * their rows always reach the disk first: the agent and the judges (they cost
 * money and time), preparing the repository (it may fetch), and any effect not
 * named here.
 */
export const LOCAL_EFFECTS: ReadonlySet<string> = new Set([
  'initializeExperiment', 'preflightChecks', 'loadTierConfig', 'startSubtests', 'startRuns',
  'createRunDir', 'createWorktree', 'applyResources', 'commitResources', 'writePrompt', 'commitChanges', 'captureDiff',
  'buildRunResult', 'writeRunReport', 'cleanupWorktree',
  'aggregateSubtest', 'selectBestSubtest', 'writeTierReport', 'completeTier', 'writeExperimentReports', 'completeExperiment',
]);

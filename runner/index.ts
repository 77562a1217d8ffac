/**
 * runner/: the experiment lifecycle. The orchestrator drives an experiment
 * through the engine with four collaborators (Setup, Execution,
 * Finalization, Resume); this is everything the CLI and library users need
 * of it. See docs/architecture.md.
 */
export { driveExperiment, previewResets, createCollaborators, type Collaborators, type ExperimentRequest, type ExperimentOutcome, type UntilSpec } from './orchestrator.js';
export { loadRunConfig, planStart, type StartPlan } from './start-plan.js';
export { forkExperiment, type ForkRequest, type ForkResult } from './resume/fork.js';
export { checkUntilState, createHolds, stoppableStates, type Holds } from './holds.js';
export { checkStateName, resettableStates, describeResets, planResets, type FromSpec, type ResetLevel, type ResetStep } from './resume/reexecute.js';
export { createResume, type Resume } from './resume/resume.js';
export { createSetup, type Setup } from './setup/setup.js';
export { createExecution, type Execution, type Limits } from './execution/execution.js';
export { createFinalization, type Finalization } from './finalization/finalization.js';
export { actorsFromStates, experimentResultOf, resultsAvailable, runResultOf, runSpendOf, type ResultActor, type ResultScope } from './finalization/recorded.js';
export { writeResultsFromLog } from './finalization/rebuild.js';
export { openExperimentLog, experimentKey, generations, loadVerified, recordedStart, preparedRepo, type ExperimentLog, type RecordedStart, type PreparedRepo } from './log.js';
export { lifecycleRegistry } from './registry.js';
export { lifecycleCodec, UPCASTERS, zodCodec } from './codec.js';
export { experimentPaths, logFile, type ExperimentPaths } from './paths.js';
export { streams } from './streams.js';
export { currentOperator } from './operator.js';
export type { ExperimentWatcher, EndKind, DriveStart } from './watcher.js';
export type { Session, RunnerEffect } from './session.js';
export * from './errors.js';
export { importExperiment, type Imported } from './transfer.js';
export { outcomeSummary, failureOf, outcomeRows, runViewOf, runViews, OUTCOME_EFFECTS, type OutcomeSummary, type RecordedRun, type RunView } from './outcome.js';

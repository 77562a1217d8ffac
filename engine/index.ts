export { createRegistry, definitionHash, registerMachine, lookupMachine, parseMachineRef, UnknownMachineError, type RegisteredMachine, type Registry } from './registry.js';
export { replay, applyRow, type ReplayedActor, type ReplayResult, type ReplayOptions, type MachineChange } from './replay.js';
export { verifyLog, type VerifyReport, type VerifyProblem, type ProblemKind } from './verify.js';
export { createStep, eventStep, pendingEffect, type Step, type StepMeta, type EffectRequest } from './step.js';
export { snapshotHash, stateName, essenceOf } from './snapshot.js';
export { diffJson } from './diff.js';
export { ReplayDivergenceError, MalformedStreamError } from './errors.js';

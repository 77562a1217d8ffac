import { checkLog, outputOf, restore, type LoadedLog, type Registry } from '../engine/index.js';
import { ExperimentConfig } from '../schemas/config.js';
import type { EventStore } from '../store/types.js';
import { ExperimentNotFoundError, LogInvalidError } from './errors.js';
export { experimentKey, generations } from './log-keys.js';
import { lifecycleRegistry } from './registry.js';
import type { Fingerprint } from './setup/fingerprint.js';

const isFingerprint = (value: unknown): value is Fingerprint =>
  typeof value === 'object' && value !== null && typeof (value as Fingerprint).common === 'object' && typeof (value as Fingerprint).tiers === 'object';

export { openExperimentLog, type ExperimentLog } from './log-open.js';
import type { ExperimentLog } from './log-open.js';

/** What the log says about how an experiment was started (or continued, after tiers were added). */
export interface RecordedStart {
  config: ExperimentConfig;
  configDir: string;
  /** The config's fingerprint when it was recorded (file contents and secrets included); absent in logs of expctl 0.1. */
  fingerprint?: Fingerprint;
}

/** The config an experiment was started with, or continues with since tiers were added to it. */
export function recordedStart(store: ExperimentLog, key: string): RecordedStart {
  let start: RecordedStart | null = null;
  for (const { event } of store.readStream(key)) {
    if (event.type === 'actor.created') start = (event.data.input as { start?: RecordedStart }).start ?? start;
    if (event.type === 'experiment.tiers_added') start = event.data.start as RecordedStart;
  }
  if (!start) throw new LogInvalidError(key, 'its first row does not record the config it was started with');
  const fingerprint = isFingerprint(start.fingerprint) ? { fingerprint: start.fingerprint } : {};
  return { config: ExperimentConfig.parse(start.config), configDir: start.configDir, ...fingerprint };
}

/**
 * The actors of an experiment, from a log that checks out (I2, I4, I6): from
 * its newest checkpoint, checking and replaying only what came after it
 * (engine/restore.ts); without one, or when anything about it does not check
 * out, by verifying the chain and replaying every stream. A log that does not
 * verify is refused, naming its first problem.
 */
export function loadVerified(store: EventStore, key: string, registry: Registry = lifecycleRegistry): LoadedLog {
  const head = store.head(key);
  if (!head) throw new ExperimentNotFoundError(key, store.location, store.experiments().map((h) => h.experiment));
  const restored = restore(store, registry, key);
  if (restored) return restored;
  const { report, actors } = checkLog(store, registry, key);
  if (!report.ok) throw new LogInvalidError(key, report.problem!);
  return { experiment: key, actors, rows: report.rows, lastSeq: head.headSeq, machineChanges: report.machineChanges, checked: { seq: head.headSeq, hash: head.headHash }, changed: new Set(actors.keys()) };
}

/** The task repository prepared for an experiment: the recorded output of its `prepareRepository` effect. */
export interface PreparedRepo {
  repoDir: string;
  commit: string;
}

export function preparedRepo(store: EventStore, key: string): PreparedRepo {
  const repo = outputOf<PreparedRepo>(store.readStream(key), 'prepareRepository');
  if (!repo) throw new Error(`experiment ${key} has no prepared repository yet`);
  return repo;
}


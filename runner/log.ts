import { outputOf, replay, verifyLog, type Registry, type ReplayResult } from '../engine/index.js';
import { ExperimentConfig } from '../schemas/config.js';
import type { LifecycleEvent } from '../schemas/events.js';
import { openStore, type SqliteStoreOptions } from '../store/sqlite-store.js';
import type { EventStore } from '../store/types.js';
import { lifecycleCodec } from './codec.js';
import { ExperimentNotFoundError, LogInvalidError } from './errors.js';
export { experimentKey, generations } from './log-keys.js';
import { lifecycleRegistry } from './registry.js';
import type { Fingerprint } from './setup/fingerprint.js';

const isFingerprint = (value: unknown): value is Fingerprint =>
  typeof value === 'object' && value !== null && typeof (value as Fingerprint).common === 'object' && typeof (value as Fingerprint).tiers === 'object';

/** The log of experiments: an event store whose events are the lifecycle's. */
export type ExperimentLog = EventStore<LifecycleEvent>;

/** What the log says about how an experiment was started (or continued, after tiers were added). */
export interface RecordedStart {
  config: ExperimentConfig;
  configDir: string;
  /** The config's fingerprint when it was recorded (file contents and secrets included); absent in logs of expctl 0.1. */
  fingerprint?: Fingerprint;
}

/**
 * Open (or create) the SQLite log of a results directory, checking every
 * event against the lifecycle's schemas on the way in and out.
 *
 * @example const log = openExperimentLog('results/expctl.db', { readonly: true });
 */
export function openExperimentLog(file: string, options: Omit<SqliteStoreOptions<LifecycleEvent>, 'codec'> = {}): ExperimentLog {
  return openStore(file, { ...options, codec: lifecycleCodec });
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

/** Verify the chain and replay every stream (I2, I4, I6); a log that does not verify is refused. */
export function loadVerified(store: EventStore, key: string, registry: Registry = lifecycleRegistry): ReplayResult {
  if (!store.head(key)) throw new ExperimentNotFoundError(key, store.location, store.experiments().map((h) => h.experiment));
  const report = verifyLog(store, registry, key);
  if (!report.ok) throw new LogInvalidError(key, report.problem!);
  return replay(store, registry, key);
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


import type { CommittedRow, Registry, ReplayedActor } from '../engine/index.js';

/** How a drive ended. */
export type EndKind = 'complete' | 'failed' | 'interrupted' | 'paused' | 'error';

/** What a watcher learns when driving starts. */
export interface DriveStart {
  /** Time spent verifying and replaying the log before driving (ms); null for a new experiment. */
  replayMs: number | null;
}

/**
 * Sees an experiment being driven: its actors when driving starts, every
 * append, and how it ended. Watchers only watch (progress, metrics,
 * inspector): they change nothing, and nothing they do changes the run.
 */
export interface ExperimentWatcher {
  started?(key: string, actors: ReadonlyMap<string, ReplayedActor>, registry: Registry, start: DriveStart): void;
  rows?(rows: readonly CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>): void;
  ended?(key: string, actors: ReadonlyMap<string, ReplayedActor>, how: EndKind): void | Promise<void>;
}

import type { AnyEvent, EventStore, StateValue, StoredRow } from '../store/types.js';
import type { CheckpointStart } from './checkpoint.js';
import type { EffectHandler, SpawnSpec } from './effects.js';
import type { Registry } from './registry.js';
import type { ReplayedActor } from './replay.js';
import type { EffectRequest } from './step.js';

/* What a Runtime (./runtime.ts) is given, and what it tells those who watch or drive it. */

/** A committed row and the state its actor was in before it (null for a new actor). */
export interface CommittedRow {
  row: StoredRow;
  before: StateValue | null;
}

/** Watches the runtime: told of every commit, it only reads (progress, metrics, inspector). */
export interface RuntimeObserver {
  /** Rows just committed (one atomic append); `actors` already reflects them. */
  committed?(rows: readonly CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>): void;
}

/** What the driver decides after a commit: actors to create (one append), then events to send (one append each). */
export interface Decision {
  create?: { specs: SpawnSpec[]; parent: string | null };
  send?: { stream: string; event: AnyEvent }[];
}

/** A commit, as the driver's `react` sees it once it is done: its rows and the effects it held. */
export interface Committed {
  rows: readonly CommittedRow[];
  /** Effects this commit (or resumeEffects) did not start because of `hold`. */
  held: readonly EffectRequest[];
}

export interface RuntimeOptions {
  store: EventStore;
  registry: Registry;
  experiment: string;
  /** Finds the handler of an effect; throws for an effect nobody implements (a bug). */
  handler: (request: EffectRequest, actor: ReplayedActor) => EffectHandler;
  /**
   * Waits until the effect may start (concurrency limits); resolves with the
   * function that frees its place, or with null: not in this drive (a limit
   * such as a budget was reached), so it is held like `hold`'s.
   */
  admit?: (request: EffectRequest, actor: ReplayedActor, signal: AbortSignal) => Promise<(() => void) | null>;
  /**
   * An early stop: effects for which this returns true are not started, and
   * timers (`request` null) not scheduled; they stay pending for a later
   * driver. Pure.
   */
  hold?: (request: EffectRequest | null, actor: ReplayedActor) => boolean;
  /**
   * The driver's decisions, made after each commit is complete (its rows
   * appended, observers told, its effects started), never inside it: what to
   * create or send next. Its own commits are reacted to in turn.
   */
  react?: (committed: Committed) => Decision | null;
  /**
   * Effects that are idempotent, touch only this machine and are cheap to redo
   * (a run's workspace steps, reports): a row that starts only such effects
   * does not wait for the disk (I1, group commit; see Runtime.mustReachDisk).
   * Unset: every row waits for the disk.
   */
  localEffects?: ReadonlySet<string>;
  /** Delay before retrying after `failures` failed attempts. */
  backoffMs?: (failures: number) => number;
  clock?: () => number;
  observer?: RuntimeObserver;
  /** Record checkpoints (O(tail) resume), from the position the load checked; none without. */
  checkpoints?: CheckpointStart;
}

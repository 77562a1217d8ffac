import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isFinal, Runtime, stateMeta, type CommittedRow, type EffectHandler, type EffectRequest, type MachineChange, type Registry, type ReplayedActor } from '../engine/index.js';
import { lifecycleRegistry, type ExperimentContext } from '../machines/index.js';
import type { EventStore, Lease, StateValue, StoredRow } from '../store/types.js';
import { ExperimentCompleteError, ExperimentFailedError, InterruptedError, NothingToRedoError } from './errors.js';
import { createExecution, type Execution } from './execution/execution.js';
import { createFinalization, type Finalization } from './finalization/finalization.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';
import { currentOperator } from './operator.js';
import { experimentPaths } from './paths.js';
import { createResume, type RecordedStart, type Resume } from './resume/resume.js';
import type { RunnerEffect, Session } from './session.js';
import { createSetup, type Setup } from './setup/setup.js';
import { planStart, type StartPlan } from './start-plan.js';
import { applyResets, describeResets, planResets, runPassed, type FromSpec } from './resume/reexecute.js';

export { loadRunConfig } from './start-plan.js';

/** The four collaborators of SPEC §4, injected so tests can pass fakes. */
export interface Collaborators {
  setup: Setup;
  execution: Execution;
  finalization: Finalization;
  resume: Resume;
}

export function createCollaborators(limits: { maxConcurrentRuns: number; maxConcurrentAgents: number }, registry: Registry = lifecycleRegistry): Collaborators {
  return { setup: createSetup(), execution: createExecution(limits), finalization: createFinalization(), resume: createResume({ registry }) };
}

export interface ExperimentRequest {
  store: EventStore;
  resultsDir: string;
  /** `run <config>`: start, or continue the experiment with the config's id (see loadRunConfig). */
  config?: RecordedStart & { file: string };
  /** `resume <id>`: continue from the log alone. */
  experiment?: string;
  /** With config: start a new generation (`id~N`) even if the id exists. */
  fresh?: boolean;
  /** Why the operator acts (`--reason`): recorded on the operator events of this session. */
  reason?: string;
  /** Aborting stops the experiment; the reason ("SIGINT" / "SIGTERM") is recorded. */
  signal?: AbortSignal;
  /** Who watches the run as it happens: progress display, inspector, metrics file. */
  watchers?: ExperimentWatcher[];
  /** Where this run's metrics go (default: a fresh registry per experiment). */
  metrics?: Metrics;
  clock?: () => number;
  lease?: { staleAfterMs: number; heartbeatMs: number };
  collaborators?: (limits: { maxConcurrentRuns: number; maxConcurrentAgents: number }, registry: Registry) => Collaborators;
  /** Early stop (`--until-*`): actors stop once they reach these states; nothing is marked failed. */
  until?: UntilSpec;
  /** Re-execution (`--from-*`): the selected actors go back to a state before driving on. */
  from?: FromSpec;
  /** The machines (tests pass changed ones); the lifecycle machines by default. */
  registry?: Registry;
}

/** Sees an experiment being driven: its actors when driving starts, every append, and how it ended. */
export interface ExperimentWatcher {
  started?(key: string, actors: ReadonlyMap<string, ReplayedActor>, registry: Registry): void;
  rows?(rows: CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>): void;
  ended?(key: string, actors: ReadonlyMap<string, ReplayedActor>, how: EndKind): void | Promise<void>;
}

export type EndKind = 'complete' | 'failed' | 'interrupted' | 'paused' | 'error';

export interface UntilSpec {
  experiment?: string;
  tier?: string;
  run?: string;
}

export interface ExperimentOutcome {
  key: string;
  state: string;
  dir: string;
  /** Already complete before this call: nothing was run. */
  alreadyComplete: boolean;
  /** Stopped early by `until`: how many actors wait at their state. */
  held: number;
  /** What `from` sent back, one readable line per step. */
  resets: string[];
}

const DEFAULT_LEASE = { staleAfterMs: 120_000, heartbeatMs: 10_000 };

/**
 * The thin orchestrator: decide what to start or continue, wire the
 * collaborators into the durable runtime, drive until done, interrupted,
 * stopped early or failed. Throws ExperimentFailedError / InterruptedError
 * for those ends.
 */
export async function driveExperiment(request: ExperimentRequest): Promise<ExperimentOutcome> {
  const clock = request.clock ?? Date.now;
  const registry = request.registry ?? lifecycleRegistry;
  const start = planStart(request, createResume({ registry }));
  const collaborators = (request.collaborators ?? createCollaborators)(start.config.limits, registry);
  const session = createSession(request, start, clock);
  const loading = performance.now();
  const replayed = start.isNew ? null : collaborators.resume.load(request.store, start.key);
  if (replayed) session.metrics.replayDuration(performance.now() - loading);
  const outcome = (alreadyComplete: boolean, held = 0, resets: string[] = []): ExperimentOutcome =>
    ({ key: start.key, state: String(session.actors.get(start.key)?.snapshot.value), dir: session.paths.dir, alreadyComplete, held, resets });
  if (request.from && start.isNew) throw new NothingToRedoError(start.key);
  const experiment = replayed?.actors.get(start.key);
  if (replayed && experiment && isFinal(experiment.snapshot) && !request.from) {
    if (start.added.length > 0) throw new ExperimentCompleteError(start.key, start.added.map((t) => t.id));
    session.actors = replayed.actors;
    return outcome(true);
  }
  const lease = request.lease ?? DEFAULT_LEASE;
  const holder = { id: randomUUID(), pid: process.pid, host: hostname() };
  const { takenOver } = request.store.acquireLease(start.key, holder, lease);
  const runtime = createRuntime(request, session, collaborators, registry, replayed?.actors);
  session.actors = runtime.actors;
  let lost: unknown = null;
  const onAbort = () => void runtime.stop(request.signal!.reason);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const heartbeat = setInterval(() => {
    try {
      request.store.heartbeat(start.key, holder.id);
    } catch (error) {
      lost = error;
      void runtime.stop(error);
    }
  }, lease.heartbeatMs);
  for (const watcher of request.watchers ?? []) watcher.started?.(start.key, runtime.actors, registry);
  let how: EndKind = 'error';
  try {
    if (request.signal?.aborted) throw new InterruptedError(start.key, String(request.signal.reason));
    const resets = await begin(runtime, session, collaborators, start, { takenOver, from: request.from, upgraded: replayed?.machineChanges ?? [] });
    await runtime.whenIdle();
    if (lost) throw lost;
    const done = finish(runtime, session, collaborators, request, (held) => outcome(false, held, resets));
    how = done.held > 0 ? 'paused' : 'complete';
    return done;
  } catch (error) {
    how = error instanceof InterruptedError ? 'interrupted' : error instanceof ExperimentFailedError ? 'failed' : 'error';
    throw error;
  } finally {
    for (const watcher of request.watchers ?? []) await watcher.ended?.(start.key, runtime.actors, how);
    clearInterval(heartbeat);
    request.signal?.removeEventListener('abort', onAbort);
    request.store.releaseLease(start.key, holder.id);
  }
}

/**
 * `--from-* --dry-run`: what a re-execution would reset, without changing
 * anything (no lease, nothing recorded).
 */
export function previewResets(request: ExperimentRequest & { from: FromSpec }): { key: string; steps: string[] } {
  const registry = request.registry ?? lifecycleRegistry;
  const resume = createResume({ registry });
  const start = planStart(request, resume);
  if (start.isNew) throw new NothingToRedoError(start.key);
  const session = createSession(request, start, request.clock ?? Date.now);
  session.actors = resume.load(request.store, start.key).actors;
  return { key: start.key, steps: describeResets(planResets(session, request.from, (run) => runPassed(session, run)), start.key) };
}

function createSession(request: ExperimentRequest, start: StartPlan, clock: () => number): Session {
  const paths = experimentPaths(request.resultsDir, start.key);
  request.metrics?.setExperiment(start.key);
  return {
    key: start.key, config: start.config, configDir: start.configDir, paths, store: request.store, clock,
    metrics: request.metrics ?? createMetrics(start.key), actors: new Map(), operator: currentOperator(request.reason),
  };
}

function createRuntime(request: ExperimentRequest, session: Session, c: Collaborators, registry: Registry, actors?: Map<string, ReplayedActor>): Runtime {
  const backoff = session.config.retries.backoffSeconds * 1000;
  return new Runtime(
    {
      store: request.store,
      registry,
      experiment: session.key,
      clock: session.clock,
      hold: request.until ? holdAt(request.until, c.execution) : undefined,
      handler: effectRouter(c, session),
      admit: (req, actor, signal) => c.execution.admit(req, actor, signal),
      backoffMs: (failures) => Math.min(60_000, backoff * 2 ** (failures - 1)),
      observer: {
        committed: (rows, runtime) => {
          session.metrics.eventsAppended(rows.length);
          for (const { row, before } of rows) {
            countRetriesAndPauses(session, row, before);
            const actor = runtime.actors.get(row.stream)!;
            const { outcome } = stateMeta(actor.snapshot);
            if (!outcome || JSON.stringify(before) === JSON.stringify(row.state) || actor.version !== row.version) continue;
            c.finalization.actorFinished(session, actor, outcome, row);
            if (actor.entry.id === 'run') c.execution.runEnded(actor.stream);
          }
          for (const watcher of request.watchers ?? []) watcher.rows?.(rows, runtime.actors);
          spawnReadyTiers(runtime, session, c);
        },
      },
    },
    actors,
  );
}

/** A failed attempt that leaves the actor in its state is retried; entering run_rate_limited is a pause. */
function countRetriesAndPauses(session: Session, row: StoredRow, before: StateValue | null): void {
  if (row.event.type === 'effect.failed' && JSON.stringify(row.state) === JSON.stringify(before)) session.metrics.effectRetry(row.event.data.effect);
  if (row.state === 'run_rate_limited' && before !== 'run_rate_limited') session.metrics.rateLimitPause();
}

/** Routes each effect a state names to the collaborator that implements it. */
function effectRouter(c: Collaborators, session: Session): (request: EffectRequest) => EffectHandler {
  const table: Record<string, RunnerEffect> = {
    initializeExperiment: c.setup.initializeExperiment,
    prepareRepository: c.setup.prepareRepository,
    preflightChecks: c.setup.preflightChecks,
    loadTierConfig: c.execution.loadTierConfig,
    startSubtests: c.execution.startSubtests,
    startRuns: c.execution.startRuns,
    ...c.execution.stages,
    buildRunResult: c.finalization.buildRunResult,
    writeRunReport: c.finalization.writeRunReport,
    cleanupWorktree: c.finalization.cleanupWorktree,
    aggregateSubtest: c.finalization.aggregateSubtest,
    selectBestSubtest: c.finalization.selectBestSubtest,
    writeTierReport: c.finalization.writeTierReport,
    completeTier: c.finalization.completeTier,
    writeExperimentReports: c.finalization.writeExperimentReports,
    completeExperiment: c.finalization.completeExperiment,
  };
  return (request) => {
    const effect = table[request.effect];
    if (!effect) throw new Error(`no collaborator implements the effect "${request.effect}"`);
    return (ctx) => effect(ctx, session);
  };
}

function spawnReadyTiers(runtime: Runtime, session: Session, c: Collaborators): void {
  if (runtime.stopping) return;
  const { spawn, events } = c.execution.readyTiers(session);
  if (spawn.length > 0) runtime.create(spawn, session.key);
  for (const { stream, event } of events) runtime.send(stream, event, 'engine');
}

interface BeginOptions {
  takenOver: Lease | null;
  from?: FromSpec;
  upgraded: MachineChange[];
}

/** Start a new experiment, or prepare an existing one to continue; returns the re-execution steps taken. */
async function begin(runtime: Runtime, session: Session, c: Collaborators, start: StartPlan, options: BeginOptions): Promise<string[]> {
  const { operator } = session;
  if (start.isNew) {
    const input = {
      experiment: session.key,
      tiers: start.config.tiers.map((t) => ({ id: t.id, dependsOn: t.dependsOn })),
      failFast: start.config.failFast,
      maxAttempts: start.config.retries.maxAttempts,
      start: { config: start.config, configDir: start.configDir, operator },
    };
    runtime.create([{ stream: session.key, machine: 'experiment', input }], null, 'operator');
    return [];
  }
  if (options.takenOver) c.resume.tookOver(runtime, session.key, options.takenOver, operator);
  await c.resume.stopStrays(session.store, runtime.actors);
  if (start.added.length > 0) {
    const tiers = start.added.map((t) => ({ id: t.id, dependsOn: t.dependsOn }));
    runtime.send(session.key, { type: 'experiment.tiers_added', data: { tiers, start: { config: start.config, configDir: start.configDir }, operator } }, 'operator');
  }
  const resets = options.from ? await applyResets(runtime, session, planResets(session, options.from, (run) => runPassed(session, run))) : [];
  c.resume.resumeActors(runtime, session.key, operator, options.upgraded);
  runtime.resumeEffects();
  spawnReadyTiers(runtime, session, c);
  return describeResets(resets, session.key);
}

/** `--until-*`: an effect is held when its actor has reached the named state of its level; a held run gives its place back. */
function holdAt(until: UntilSpec, execution: Execution): (request: EffectRequest, actor: ReplayedActor) => boolean {
  return (request, actor) => {
    const held = until[actor.entry.id as keyof UntilSpec] === request.state;
    if (held && actor.entry.id === 'run') execution.runEnded(actor.stream);
    return held;
  };
}

function finish(runtime: Runtime, session: Session, c: Collaborators, request: ExperimentRequest, outcome: (held: number) => ExperimentOutcome): ExperimentOutcome {
  const experiment = runtime.actors.get(session.key)!;
  if (request.signal?.aborted && !isFinal(experiment.snapshot)) {
    c.finalization.actorsInterrupted(session, runtime.actors);
    runtime.send(session.key, { type: 'operator.interrupted', data: { operator: session.operator, signal: String(request.signal.reason) } }, 'operator');
    throw new InterruptedError(session.key, String(request.signal.reason));
  }
  const value = String(experiment.snapshot.value);
  if (value === 'exp_failed') {
    throw new ExperimentFailedError(session.key, (experiment.snapshot.context as ExperimentContext).failure?.message ?? 'unknown reason');
  }
  if (!isFinal(experiment.snapshot) && runtime.held.size > 0 && request.until) {
    runtime.send(session.key, { type: 'operator.paused', data: { until: request.until, held: runtime.held.size, operator: session.operator } }, 'operator');
    return outcome(runtime.held.size);
  }
  if (!isFinal(experiment.snapshot)) {
    throw new Error(`experiment ${session.key} stopped in ${value} with nothing left to run; this is a bug`);
  }
  return outcome(0);
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { GENESIS, isFinal, Runtime, sameState, stateMeta, type CheckpointStart, type Committed, type Decision, type EffectHandler, type EffectRequest, type MachineChange, type Registry, type ReplayedActor } from '../engine/index.js';
import { contextOf } from '../machines/index.js';
import type { Lease } from '../store/types.js';
import { ownIdentity } from '../util/procfs.js';
import { ExperimentFailedError, InterruptedError, NothingToRedoError } from './errors.js';
import { createExecution, type Execution, type Limits } from './execution/execution.js';
import type { Executor } from '../workspace/executor.js';
import { createFinalization, type Finalization } from './finalization/finalization.js';
import { createHolds, type Holds, type UntilSpec } from './holds.js';
import { loadVerified, type ExperimentLog } from './log.js';
import { driveBudget, recordedLimits, recordedSpends, spendOf, type BudgetLimits, type BudgetStop, type DriveBudget } from './execution/budget.js';
import { currentOperator } from './operator.js';
import { outcomeSummary, type OutcomeSummary } from './outcome.js';
import { experimentPaths } from './paths.js';
import { LOCAL_EFFECTS, lifecycleRegistry } from './registry.js';
import { describeResets, planResets, resetEvents, type FromSpec } from './resume/reexecute.js';
import { createResume, type Resume } from './resume/resume.js';
import { createSession, type RunnerEffect, type Session } from './session.js';
import { createSetup, type Setup } from './setup/setup.js';
import { planStart, type RunConfig, type StartPlan } from './start-plan.js';
import type { EndKind, ExperimentWatcher } from './watcher.js';

/** The four collaborators (docs/design.md §4), injected so tests can pass fakes. */
export interface Collaborators {
  setup: Setup;
  execution: Execution;
  finalization: Finalization;
  resume: Resume;
}

export function createCollaborators(limits: Limits, executor?: Executor): Collaborators {
  return { setup: createSetup(), execution: createExecution(limits, executor), finalization: createFinalization(), resume: createResume() };
}

export type { UntilSpec };

export interface ExperimentRequest {
  store: ExperimentLog;
  resultsDir: string;
  /** `run <config>`: start, or continue the experiment with the config's id (see loadRunConfig). */
  config?: RunConfig;
  /** `resume <id>`: continue from the log alone. */
  experiment?: string;
  /** With config: start a new generation (`id~N`) even if the id exists. */
  fresh?: boolean;
  /** Why the operator acts (`--reason`): recorded on the operator events of this session. */
  reason?: string;
  /** Aborting stops the experiment; the reason ("SIGINT" / "SIGTERM") is recorded. */
  signal?: AbortSignal;
  /** Who watches the run as it happens: progress display, inspector, metrics. */
  watchers?: ExperimentWatcher[];
  clock?: () => number;
  lease?: { staleAfterMs: number; heartbeatMs: number };
  collaborators?: (limits: Limits) => Collaborators;
  /** Early stop (`--until-*`): actors stop once they reach these states; nothing is marked failed. */
  until?: UntilSpec;
  /** Re-execution (`--from-*`): the selected actors go back to a state before driving on. */
  from?: FromSpec;
  /** The machines (tests pass changed ones); the lifecycle machines by default. */
  registry?: Registry;
  /** `--max-cost-usd` / `--max-tokens`: spending limits from this drive on (recorded, so later drives keep them). */
  limits?: BudgetLimits;
  /** Who runs agent and judge commands: supervised (outlive the driver, collected on resume; the default) or direct. */
  executor?: Executor;
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
  /** What the runs came to: passed, not passed, errored; failed tiers; spend. */
  summary: OutcomeSummary;
  /** Set when a spending limit stopped new agents: the experiment is paused until it is raised. */
  budget: BudgetStop | null;
}

const DEFAULT_LEASE = { staleAfterMs: 120_000, heartbeatMs: 10_000 };

/** One drive of one experiment: what it works on, and how it is driven. */
interface Drive {
  request: ExperimentRequest;
  holds: Holds | null;
  start: StartPlan;
  session: Session;
  collaborators: Collaborators;
  registry: Registry;
  upgraded: MachineChange[];
  /** The spending limits this drive runs with, and whether they differ from what the log last recorded. */
  budget: DriveBudget;
  /** Where this drive's checkpoints continue from (docs/design.md §3). */
  checkpoints: CheckpointStart;
}

/**
 * The thin orchestrator: decide what to start or continue, wire the
 * collaborators into the durable runtime, drive until done, interrupted,
 * stopped early or failed. Throws ExperimentFailedError / InterruptedError
 * for those ends.
 */
export async function driveExperiment(request: ExperimentRequest): Promise<ExperimentOutcome> {
  const registry = request.registry ?? lifecycleRegistry;
  const start = planStart(request);
  if (request.from && start.isNew) throw new NothingToRedoError(start.key);
  const budget = driveBudget(start.isNew ? null : recordedLimits(request.store, start.key), start.config.limits, Boolean(request.config), request.limits);
  const collaborators = (request.collaborators ?? ((limits: Limits) => createCollaborators(limits, request.executor)))({ ...start.config.limits, ...budget.limits });
  const loading = performance.now();
  const replayed = start.isNew ? null : loadVerified(request.store, start.key, registry);
  const replayMs = replayed ? performance.now() - loading : null;
  if (!start.isNew) collaborators.execution.budget.seed(recordedSpends(request.store, start.key));
  const session = sessionFor(request, start, replayed?.actors ?? new Map());
  const checkpoints = replayed ? { checked: replayed.checked, changed: replayed.changed } : { checked: GENESIS, changed: [] };
  const drive: Drive = { request, start, session, collaborators, registry, upgraded: replayed?.machineChanges ?? [], holds: request.until ? createHolds(request.until) : null, budget, checkpoints };
  const experiment = session.actors.get(start.key);
  if (experiment && isFinal(experiment.snapshot) && !request.from && start.added.length === 0) return outcomeOf(session, { alreadyComplete: true });
  return leased(drive, async (runtime, takenOver, lost) => {
    const watchers = request.watchers ?? [];
    for (const watcher of watchers) watcher.started?.(start.key, runtime.actors, registry, { replayMs });
    let how: EndKind = 'error';
    try {
      if (request.signal?.aborted) throw new InterruptedError(start.key, String(request.signal.reason));
      const resets = await begin(drive, runtime, takenOver);
      await runtime.whenIdle();
      lost();
      const done = finish(drive, runtime, resets);
      how = done.held > 0 ? 'paused' : 'complete';
      return done;
    } catch (error) {
      how = error instanceof InterruptedError ? 'interrupted' : error instanceof ExperimentFailedError ? 'failed' : 'error';
      throw error;
    } finally {
      for (const watcher of watchers) await watcher.ended?.(start.key, runtime.actors, how);
    }
  });
}

/**
 * Hold the experiment's lease (with heartbeats) while `work` drives it. A
 * lost lease stops the runtime; `lost()` then throws why.
 */
async function leased<T>(drive: Drive, work: (runtime: Runtime, takenOver: Lease | null, lost: () => void) => Promise<T>): Promise<T> {
  const { request, session } = drive;
  const lease = request.lease ?? DEFAULT_LEASE;
  const holder = { id: randomUUID(), pid: process.pid, host: hostname(), identity: ownIdentity() };
  const { takenOver } = request.store.acquireLease(session.key, holder, lease);
  const runtime = createRuntime(drive);
  let lostWith: unknown = null;
  const heartbeat = setInterval(() => {
    try {
      request.store.heartbeat(session.key, holder.id);
    } catch (error) {
      lostWith = error;
      void runtime.stop(error);
    }
  }, lease.heartbeatMs);
  const onAbort = () => void runtime.stop(request.signal!.reason);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    runtime.checkpoint(); // what the load checked in full (or after the last checkpoint) is vouched for at once
    const result = await work(runtime, takenOver, () => {
      if (lostWith) throw lostWith;
    });
    if (!lostWith) runtime.checkpoint(); // the next resume starts here
    return result;
  } catch (error) {
    if (!lostWith) tryCheckpoint(runtime);
    throw error;
  } finally {
    clearInterval(heartbeat);
    request.signal?.removeEventListener('abort', onAbort);
    request.store.releaseLease(session.key, holder.id);
  }
}

/** A drive that ends in an error still leaves a checkpoint where it can (a log that refuses one has its own error already). */
function tryCheckpoint(runtime: Runtime): void {
  try {
    runtime.checkpoint();
  } catch {
    // the drive's own error is the one to report
  }
}

/**
 * `--from-* --dry-run`: what a re-execution would reset, without changing
 * anything (no lease, nothing recorded).
 */
export function previewResets(request: ExperimentRequest & { from: FromSpec }): { key: string; steps: string[] } {
  const start = planStart(request);
  if (start.isNew) throw new NothingToRedoError(start.key);
  const { actors } = loadVerified(request.store, start.key, request.registry ?? lifecycleRegistry);
  return { key: start.key, steps: describeResets(planResets({ key: start.key, store: request.store, actors }, request.from), start.key) };
}

function sessionFor(request: ExperimentRequest, start: StartPlan, actors: Map<string, ReplayedActor>): Session {
  return createSession({
    key: start.key, config: start.config, configDir: start.configDir, paths: experimentPaths(request.resultsDir, start.key),
    store: request.store, clock: request.clock ?? Date.now, actors, operator: currentOperator(request.reason),
  });
}

function outcomeOf(session: Session, { alreadyComplete = false, held = 0, resets = [] as string[], budget = null as BudgetStop | null }): ExperimentOutcome {
  const state = String(session.actors.get(session.key)?.snapshot.value);
  return { key: session.key, state, dir: session.paths.dir, alreadyComplete, held, resets, summary: outcomeSummary(session), budget };
}

function createRuntime(drive: Drive): Runtime {
  const { request, session, collaborators: c, registry, holds } = drive;
  const backoff = session.config.retries.backoffSeconds * 1000;
  const watchers = request.watchers ?? [];
  const runtime: Runtime = new Runtime(
    {
      store: request.store,
      registry,
      experiment: session.key,
      clock: session.clock,
      hold: holds ? (req, actor) => holds.holds(req, actor, session.actors) : undefined,
      handler: effectRouter(c, session),
      admit: (req, actor, signal) => c.execution.admit(req, actor, signal),
      backoffMs: (failures) => Math.min(60_000, backoff * 2 ** (failures - 1)),
      observer: { committed: (rows, actors) => watchers.forEach((w) => w.rows?.(rows, actors)) },
      react: (committed) => decide(committed, runtime, session, c.execution, holds),
      checkpoints: drive.checkpoints,
      localEffects: LOCAL_EFFECTS,
    },
    session.actors as Map<string, ReplayedActor>,
  );
  return runtime;
}

/**
 * The orchestrator's decisions after each commit: runs that ended or were
 * held give their place back; tiers whose dependencies are done start.
 */
function decide({ rows, held }: Committed, runtime: Runtime, session: Session, execution: Execution, holds: Holds | null): Decision | null {
  for (const { row, before } of rows) {
    const actor = session.actors.get(row.stream)!;
    if (actor.entry.id === 'run' && actor.version === row.version && stateMeta(actor.snapshot).outcome && !sameState(before, row.state)) execution.release(row.stream);
  }
  for (const request of held) if (session.actors.get(request.stream)?.entry.id === 'run') execution.release(request.stream);
  for (const { row } of rows) {
    const data = row.event.data as { effect?: string };
    if ((row.event.type === 'effect.completed' || row.event.type === 'effect.failed') && data.effect === 'runAgent') execution.budget.ended(row.stream, spendOf(row.event));
  }
  const experiment = session.actors.get(session.key);
  if (runtime.stopping || (experiment && holds?.isHeld(experiment))) return null;
  return execution.readyTiers(session);
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

/** Start a new experiment, or prepare an existing one to continue; returns the re-execution steps taken. */
async function begin(drive: Drive, runtime: Runtime, takenOver: Lease | null): Promise<string[]> {
  const { request, start, session, collaborators: c, upgraded } = drive;
  const { operator, key } = session;
  if (start.isNew) {
    const input = {
      experiment: key,
      tiers: start.config.tiers.map((t) => ({ id: t.id, dependsOn: t.dependsOn })),
      failFast: start.config.failFast,
      maxAttempts: start.config.retries.maxAttempts,
      start: { config: start.config, configDir: start.configDir, fingerprint: start.fingerprint, operator },
    };
    runtime.create([{ stream: key, machine: 'experiment', input }], null, 'operator');
    return [];
  }
  if (takenOver) runtime.sendAll([c.resume.takeover(key, takenOver, operator)]);
  if (drive.budget.changed) runtime.send(key, { type: 'operator.limits_changed', data: { limits: drive.budget.limits, operator } }, 'operator');
  await c.resume.stopStrays(session.store, runtime.actors, session.paths.dir);
  if (start.added.length > 0) {
    const tiers = start.added.map((t) => ({ id: t.id, dependsOn: t.dependsOn }));
    runtime.send(key, { type: 'experiment.tiers_added', data: { tiers, start: { config: start.config, configDir: start.configDir, fingerprint: start.fingerprint }, operator } }, 'operator');
  }
  let resets: string[] = [];
  if (request.from) {
    const scope = { key, store: session.store, actors: runtime.actors, paths: session.paths, operator, repo: session.repo };
    const { applied, events } = await resetEvents(scope, planResets(scope, request.from));
    runtime.sendAll(events);
    resets = describeResets(applied, key);
  }
  runtime.sendAll(c.resume.resumeEvents(runtime.actors, key, operator, upgraded));
  runtime.resumeEffects();
  return resets;
}

function finish({ request, session, holds, collaborators }: Drive, runtime: Runtime, resets: string[]): ExperimentOutcome {
  const experiment = runtime.actors.get(session.key)!;
  if (request.signal?.aborted && !isFinal(experiment.snapshot)) {
    runtime.send(session.key, { type: 'operator.interrupted', data: { operator: session.operator, signal: String(request.signal.reason) } }, 'operator');
    throw new InterruptedError(session.key, String(request.signal.reason));
  }
  const value = String(experiment.snapshot.value);
  if (value === 'exp_failed') throw new ExperimentFailedError(session.key, failureReason(session, contextOf(experiment, 'experiment').failure?.message));
  const budget = collaborators.execution.budget.stopped;
  if (!isFinal(experiment.snapshot) && budget) {
    const waiting = [...runtime.actors.values()].filter((a) => a.entry.id === 'run' && !isFinal(a.snapshot)).length;
    runtime.send(session.key, { type: 'operator.paused', data: { until: request.until ?? {}, held: waiting, budget, operator: session.operator } }, 'operator');
    return outcomeOf(session, { held: waiting, resets, budget });
  }
  const held = holds?.heldActors(runtime.actors).length ?? 0;
  if (!isFinal(experiment.snapshot) && held > 0 && request.until) {
    runtime.send(session.key, { type: 'operator.paused', data: { until: request.until, held, operator: session.operator } }, 'operator');
    return outcomeOf(session, { held, resets });
  }
  if (!isFinal(experiment.snapshot)) throw new Error(`experiment ${session.key} stopped in ${value} with nothing left to run; this is a bug`);
  return outcomeOf(session, { resets });
}

/** Why the experiment failed, in terms of its tiers (failFast) or its own failed step. */
function failureReason(session: Session, own: string | undefined): string {
  const tiers = outcomeSummary(session).failedTiers;
  if (tiers.length > 0) return `${tiers.map((t) => `tier ${t.tier} failed (${t.reason})`).join('; ')}${session.config.failFast ? '; failFast is set, so the experiment fails with it' : ''}`;
  return own ?? 'unknown reason';
}

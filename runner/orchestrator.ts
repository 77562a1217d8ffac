import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Runtime, stateMeta, type CommittedRow, type EffectHandler, type EffectRequest, type ReplayedActor } from '../engine/index.js';
import { lifecycleRegistry, type ExperimentContext } from '../machines/index.js';
import type { TierConfig } from '../schemas/config.js';
import type { EventStore } from '../store/types.js';
import { loadConfigFile } from './config-file.js';
import { ConfigInvalidError, ExperimentCompleteError, ExperimentFailedError, ExperimentNotFoundError, InterruptedError } from './errors.js';
import { createExecution, type Execution } from './execution.js';
import { createFinalization, type Finalization } from './finalization.js';
import { createMetrics } from './metrics.js';
import { currentOperator } from './operator.js';
import { experimentPaths } from './paths.js';
import { createResume, type RecordedStart, type Resume } from './resume.js';
import type { RunnerEffect, Session } from './session.js';
import { createSetup, environmentIssues, type Setup } from './setup.js';

/** The four collaborators of SPEC §4, injected so tests can pass fakes. */
export interface Collaborators {
  setup: Setup;
  execution: Execution;
  finalization: Finalization;
  resume: Resume;
}

export function createCollaborators(limits: { maxConcurrentRuns: number; maxConcurrentAgents: number }): Collaborators {
  return { setup: createSetup(), execution: createExecution(limits), finalization: createFinalization(), resume: createResume() };
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
  /** Aborting stops the experiment; the reason ("SIGINT" / "SIGTERM") is recorded. */
  signal?: AbortSignal;
  onProgress?: (rows: CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>) => void;
  clock?: () => number;
  lease?: { staleAfterMs: number; heartbeatMs: number };
  collaborators?: (limits: { maxConcurrentRuns: number; maxConcurrentAgents: number }) => Collaborators;
}

export interface ExperimentOutcome {
  key: string;
  state: string;
  dir: string;
  /** Already complete before this call: nothing was run. */
  alreadyComplete: boolean;
}

const DEFAULT_LEASE = { staleAfterMs: 120_000, heartbeatMs: 10_000 };

/**
 * The thin orchestrator: decide what to start or continue, wire the
 * collaborators into the durable runtime, drive until done, interrupted or
 * failed. Throws ExperimentFailedError / InterruptedError for those ends.
 */
export async function driveExperiment(request: ExperimentRequest): Promise<ExperimentOutcome> {
  const clock = request.clock ?? Date.now;
  const start = planStart(request, createResume());
  const collaborators = (request.collaborators ?? createCollaborators)(start.config.limits);
  const paths = experimentPaths(request.resultsDir, start.key);
  const session: Session = { key: start.key, config: start.config, configDir: start.configDir, paths, store: request.store, clock, metrics: createMetrics(paths.metrics, clock), actors: new Map() };
  const replayed = start.isNew ? null : collaborators.resume.load(request.store, start.key);
  const outcome = (alreadyComplete: boolean): ExperimentOutcome => ({ key: start.key, state: String(session.actors.get(start.key)?.snapshot.value), dir: paths.dir, alreadyComplete });
  if (replayed && replayed.actors.get(start.key)?.snapshot.status === 'done') {
    if (start.added.length > 0) throw new ExperimentCompleteError(start.key, start.added.map((t) => t.id));
    session.actors = replayed.actors;
    return outcome(true);
  }
  const lease = request.lease ?? DEFAULT_LEASE;
  const holder = { id: randomUUID(), pid: process.pid, host: hostname() };
  const { takenOver } = request.store.acquireLease(start.key, holder, lease);
  const runtime = createRuntime(request, session, collaborators, clock, replayed?.actors);
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
  try {
    if (request.signal?.aborted) throw new InterruptedError(start.key, String(request.signal.reason));
    await begin(runtime, session, collaborators, start, takenOver);
    await runtime.whenIdle();
    if (lost) throw lost;
    return finish(runtime, session, request.signal, outcome);
  } finally {
    clearInterval(heartbeat);
    request.signal?.removeEventListener('abort', onAbort);
    request.store.releaseLease(start.key, holder.id);
  }
}

interface StartPlan extends RecordedStart {
  key: string;
  isNew: boolean;
  added: TierConfig[];
}

/** Which experiment (generation) to drive, with which config: a new one, or one that continues. */
function planStart(request: ExperimentRequest, resume: Resume): StartPlan {
  if (!request.config) {
    const id = request.experiment!;
    const generations = resume.generations(request.store, id);
    const key = id.includes('~') || generations.length === 0 ? id : generations.at(-1)!;
    if (!request.store.head(key)) throw new ExperimentNotFoundError(key, request.store.location, request.store.experiments().map((h) => h.experiment));
    return { key, isNew: false, added: [], ...resume.recordedStart(request.store, key) };
  }
  const { config, configDir } = request.config;
  const current = { config, configDir };
  const generations = resume.generations(request.store, config.id);
  if (generations.length === 0) return { key: config.id, isNew: true, added: [], ...current };
  if (request.fresh) return { key: `${config.id}~${generations.length + 1}`, isNew: true, added: [], ...current };
  const key = generations.at(-1)!;
  const added = resume.checkConfig(key, resume.recordedStart(request.store, key), current);
  return { key, isNew: false, added, ...current };
}

/**
 * Read, validate and check a config for `run` before anything is created: the
 * file, its fields, the files and programs it names (exit 2 on any problem).
 * `tiers` keeps only those tiers (their dependencies must be among them).
 */
export function loadRunConfig(file: string, tiers?: string[]): RecordedStart & { file: string } {
  const loaded = loadConfigFile(file);
  const config = tiers ? selectTiers(loaded.config, tiers, loaded.file) : loaded.config;
  const issues = environmentIssues(config, loaded.dir);
  if (issues.length > 0) throw new ConfigInvalidError(loaded.file, issues);
  return { config, configDir: loaded.dir, file: loaded.file };
}

function selectTiers(config: StartPlan['config'], ids: string[], file: string): StartPlan['config'] {
  const unknown = ids.filter((id) => !config.tiers.some((t) => t.id === id));
  const tiers = config.tiers.filter((t) => ids.includes(t.id));
  const issues = [
    ...unknown.map((id) => ({ path: '--tiers', message: `unknown tier "${id}"; known tiers: ${config.tiers.map((t) => t.id).join(', ')}` })),
    ...tiers.flatMap((t) => t.dependsOn.filter((d) => !ids.includes(d)).map((d) => ({ path: '--tiers', message: `tier ${t.id} depends on ${d}; select it too` }))),
  ];
  if (issues.length > 0) throw new ConfigInvalidError(file, issues);
  return { ...config, tiers };
}

function createRuntime(request: ExperimentRequest, session: Session, c: Collaborators, clock: () => number, actors?: Map<string, ReplayedActor>): Runtime {
  const backoff = session.config.retries.backoffSeconds * 1000;
  return new Runtime(
    {
      store: request.store,
      registry: lifecycleRegistry,
      experiment: session.key,
      clock,
      handler: effectRouter(c, session),
      admit: (req, actor, signal) => c.execution.admit(req, actor, signal),
      backoffMs: (failures) => Math.min(60_000, backoff * 2 ** (failures - 1)),
      observer: {
        committed: (rows, runtime) => {
          for (const { row, before } of rows) {
            const actor = runtime.actors.get(row.stream)!;
            const { outcome } = stateMeta(actor.snapshot);
            if (!outcome || JSON.stringify(before) === JSON.stringify(row.state) || actor.version !== row.version) continue;
            c.finalization.actorFinished(session, actor, outcome, row);
            if (actor.entry.id === 'run') c.execution.runEnded(actor.stream);
          }
          request.onProgress?.(rows, runtime.actors);
          spawnReadyTiers(runtime, session, c);
        },
      },
    },
    actors,
  );
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
  const ready = c.execution.readyTiers(session);
  if (ready.length > 0) runtime.create(ready, session.key);
}

async function begin(runtime: Runtime, session: Session, c: Collaborators, start: StartPlan, takenOver: Parameters<Resume['tookOver']>[2] | null): Promise<void> {
  const operator = currentOperator();
  if (start.isNew) {
    const input = {
      experiment: session.key,
      tiers: start.config.tiers.map((t) => ({ id: t.id, dependsOn: t.dependsOn })),
      failFast: start.config.failFast,
      maxAttempts: start.config.retries.maxAttempts,
      start: { config: start.config, configDir: start.configDir },
    };
    runtime.create([{ stream: session.key, machine: 'experiment', input }], null, 'operator');
    return;
  }
  if (takenOver) c.resume.tookOver(runtime, session.key, takenOver, operator);
  await c.resume.stopStrays(session.store, runtime.actors);
  if (start.added.length > 0) {
    const tiers = start.added.map((t) => ({ id: t.id, dependsOn: t.dependsOn }));
    runtime.send(session.key, { type: 'experiment.tiers_added', data: { tiers, start: { config: start.config, configDir: start.configDir }, operator } }, 'operator');
  }
  c.resume.resumeActors(runtime, session.key, operator);
  runtime.resumeEffects();
  spawnReadyTiers(runtime, session, c);
}

async function finish(runtime: Runtime, session: Session, signal: AbortSignal | undefined, outcome: (done: boolean) => ExperimentOutcome): Promise<ExperimentOutcome> {
  const experiment = runtime.actors.get(session.key)!;
  if (signal?.aborted && experiment.snapshot.status !== 'done') {
    runtime.send(session.key, { type: 'operator.interrupted', data: { operator: currentOperator(), signal: String(signal.reason) } }, 'operator');
    throw new InterruptedError(session.key, String(signal.reason));
  }
  const value = String(experiment.snapshot.value);
  if (value === 'exp_failed') {
    throw new ExperimentFailedError(session.key, (experiment.snapshot.context as ExperimentContext).failure?.message ?? 'unknown reason');
  }
  if (experiment.snapshot.status !== 'done') {
    throw new Error(`experiment ${session.key} stopped in ${value} with nothing left to run; this is a bug`);
  }
  return outcome(false);
}

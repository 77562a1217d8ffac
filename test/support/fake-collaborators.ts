import { EffectFailure, type EffectRequest } from '../../engine/index.js';
import { createCollaborators, createExecution, createFinalization, type Collaborators, type Limits, type RunnerEffect } from '../../runner/index.js';

const done: RunnerEffect = async () => ({ output: null });

/**
 * Fake collaborators: the real fan-out, admission, metrics and resume logic,
 * with every effect that touches git, processes or files replaced.
 */
export function fakes(log: string[], options: { failRuns?: (req: EffectRequest) => boolean; agentDelayMs?: number; retryable?: boolean } = {}) {
  return (limits: Limits): Collaborators => {
    const real = createCollaborators(limits);
    const execution = createExecution(limits);
    const record = (name: string, fn: RunnerEffect = done): RunnerEffect => async (ctx, session) => {
      log.push(`${ctx.request.stream}:${name}`);
      return fn(ctx, session);
    };
    const stages = Object.fromEntries(Object.keys(execution.stages).map((name) => [name, record(name, async (ctx) => {
      if (name === 'runAgent' && options.failRuns?.(ctx.request)) throw new EffectFailure('agent crashed', options.retryable ?? false);
      if (name === 'runAgent' && options.agentDelayMs) await new Promise((r) => setTimeout(r, options.agentDelayMs));
      return { output: null };
    })])) as Collaborators['execution']['stages'];
    const finalization = createFinalization();
    return {
      setup: { initializeExperiment: record('init'), prepareRepository: record('repo'), preflightChecks: record('preflight') },
      execution: { ...execution, stages },
      finalization: {
        ...finalization,
        // the part of a run's result the outcome reads: every fake run passes
        buildRunResult: record('result', async () => ({ output: { passed: true, score: 1 } })), writeRunReport: record('report'), cleanupWorktree: record('cleanup'),
        aggregateSubtest: record('aggregate'), selectBestSubtest: record('best', async () => ({ output: { subtest: 'a', reason: 'fake' } })),
        writeTierReport: record('tierReport'), completeTier: record('completeTier'),
        writeExperimentReports: record('expReports'), completeExperiment: record('expComplete'),
      },
      resume: real.resume,
    };
  };
}


import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics, metricsWatcher } from '../../observe/metrics.js';
import { driveExperiment, loadRunConfig, loadVerified } from '../../runner/index.js';
import { fakes } from '../support/fake-collaborators.js';
import { sample } from '../support/prometheus.js';
import type { RunnerEffect } from '../../runner/session.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';
import { memoryLog } from '../support/stores.js';

const tempDir = useTempDir();
describe('orchestrator (fake collaborators)', () => {
  it('drives setup, tier groups in dependency order, every run stage, then reports', async () => {
    const dir = tempDir();
    const log: string[] = [];
    const store = memoryLog();
    const outcome = await driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(writeExperiment(dir)), collaborators: fakes(log) });
    expect(outcome).toMatchObject({ key: 'exp-1', state: 'exp_complete', alreadyComplete: false });
    expect(log.slice(0, 3)).toEqual(['exp-1:init', 'exp-1:repo', 'exp-1:preflight']);
    const firstT2 = log.findIndex((l) => l.startsWith('exp-1/T2'));
    const lastT0T1 = Math.max(...log.map((l, i) => (/^exp-1\/T[01]\//.test(l) ? i : -1)));
    expect(firstT2).toBeGreaterThan(lastT0T1);
    expect(log.filter((l) => l.endsWith(':runAgent'))).toHaveLength(4 * 2);
    expect(log.filter((l) => l.startsWith('exp-1/T0/b/1:'))).toEqual(
      ['createRunDir', 'createWorktree', 'applyResources', 'commitResources', 'writePrompt', 'runAgent', 'commitChanges', 'captureDiff', 'runJudges', 'result', 'report', 'cleanup'].map((s) => `exp-1/T0/b/1:${s}`),
    );
    expect(log.slice(-2)).toEqual(['exp-1:expReports', 'exp-1:expComplete']);
  });

  it('records a checkpoint at the end of a drive, so loading the log again checks and replays no row (docs/design.md §3)', async () => {
    const dir = tempDir();
    const store = memoryLog();
    await driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(writeExperiment(dir)), collaborators: fakes([]) });
    const head = store.head('exp-1')!;
    expect(store.checkpoints('exp-1').at(-1)).toMatchObject({ seq: head.headSeq, hash: head.headHash, rows: head.rows });
    const loaded = loadVerified(store, 'exp-1');
    expect(loaded.rows).toBe(0);
    expect(loaded.actors.size).toBe(store.streams('exp-1').length);
    expect(String(loaded.actors.get('exp-1')!.snapshot.value)).toBe('exp_complete');
  });

  it('records the tier duration when a tier succeeds and when it fails (docs/design.md §4)', async () => {
    const dir = tempDir();
    const metrics = createMetrics('exp-1');
    await driveExperiment({
      store: memoryLog(), resultsDir: join(dir, 'results'), config: loadRunConfig(writeExperiment(dir)), watchers: [metricsWatcher(metrics)],
      collaborators: fakes([], { failRuns: (req) => req.stream.startsWith('exp-1/T1/') }),
    });
    const text = await metrics.text();
    for (const [tier, outcome] of [['T0', 'completed'], ['T1', 'failed'], ['T2', 'completed']] as const) {
      expect(sample(text, 'expctl_tier_duration_seconds_count', { experiment: 'exp-1', tier, outcome })).toBe(1);
    }
    expect(sample(text, 'expctl_run_duration_seconds_count', { tier: 'T1', subtest: 'a', outcome: 'failed' })).toBe(2);
    expect(sample(text, 'expctl_events_appended_total', { experiment: 'exp-1' })).toBeGreaterThan(100);
  });

  it('records the durations of runs, subtests and tiers cut short by an interrupt, and of the retries', async () => {
    const dir = tempDir();
    const metrics = createMetrics('exp-1');
    const controller = new AbortController();
    const drive = driveExperiment({
      store: memoryLog(), resultsDir: join(dir, 'results'), watchers: [metricsWatcher(metrics)], signal: controller.signal,
      config: loadRunConfig(writeExperiment(dir, { limits: { maxConcurrentRuns: 8, maxConcurrentAgents: 8 } })),
      collaborators: fakes([], { agentDelayMs: 200, failRuns: (req) => req.stream === 'exp-1/T0/a/1' && req.attempt === 1, retryable: true }),
    });
    setTimeout(() => controller.abort('SIGINT'), 100);
    await expect(drive).rejects.toMatchObject({ code: 'EXPCTL_INTERRUPTED' });
    const text = await metrics.text();
    expect(sample(text, 'expctl_run_duration_seconds_count', { tier: 'T0', subtest: 'a', outcome: 'interrupted' })).toBeGreaterThan(0);
    expect(sample(text, 'expctl_tier_duration_seconds_count', { tier: 'T0', outcome: 'interrupted' })).toBe(1);
    expect(sample(text, 'expctl_effect_retries_total', { effect: 'runAgent' })).toBe(1);
  });

  it('keeps at most maxConcurrentAgents agents and maxConcurrentRuns runs going', async () => {
    const dir = tempDir();
    let agents = 0;
    let peak = 0;
    const log: string[] = [];
    const config = writeExperiment(dir, { limits: { maxConcurrentRuns: 3, maxConcurrentAgents: 1 } });
    await driveExperiment({
      store: memoryLog(), resultsDir: join(dir, 'results'), config: loadRunConfig(config),
      collaborators: (limits) => {
        const c = fakes(log)(limits);
        const runAgent: RunnerEffect = async (ctx, s) => {
          peak = Math.max(peak, ++agents);
          await new Promise((r) => setTimeout(r, 5));
          agents--;
          return c.execution.stages.runAgent(ctx, s);
        };
        return { ...c, execution: { ...c.execution, stages: { ...c.execution.stages, runAgent } } };
      },
    });
    expect(peak).toBe(1);
    expect(log.filter((l) => l.endsWith(':runAgent'))).toHaveLength(8);
  });

  it('is interrupted by the signal: running effects stop, exp_interrupted is recorded; resume finishes without redoing work', async () => {
    const dir = tempDir();
    const log: string[] = [];
    const store = memoryLog();
    const controller = new AbortController();
    const config = writeExperiment(dir);
    const first = driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(config), signal: controller.signal, collaborators: fakes(log, { agentDelayMs: 50 }) });
    await new Promise((r) => setTimeout(r, 30));
    controller.abort('SIGINT');
    await expect(first).rejects.toMatchObject({ code: 'EXPCTL_INTERRUPTED', signal: 'SIGINT' });
    const rows = [...store.readExperiment('exp-1')];
    expect(rows.at(-1)).toMatchObject({ stream: 'exp-1', state: 'exp_interrupted', cause: 'operator' });
    const completedBefore = rows.filter((r) => r.event.type === 'effect.completed').map((r) => `${r.stream}:${(r.event.data as { effect: string }).effect}`);

    const again: string[] = [];
    const outcome = await driveExperiment({ store, resultsDir: join(dir, 'results'), experiment: 'exp-1', collaborators: fakes(again) });
    expect(outcome.state).toBe('exp_complete');
    const stageNames: Record<string, string> = { init: 'initializeExperiment', repo: 'prepareRepository', preflight: 'preflightChecks' };
    const redone = again.map((l) => l.replace(/:(\w+)$/, (_, n: string) => `:${stageNames[n] ?? n}`)).filter((l) => completedBefore.includes(l));
    expect(redone).toEqual([]);
    expect(store.readStream('exp-1').some((r) => r.event.type === 'operator.resumed')).toBe(true);
  });

  it('resume retries failed runs top down and completes; an already complete experiment runs nothing', async () => {
    const dir = tempDir();
    const store = memoryLog();
    const config = writeExperiment(dir, { failFast: true });
    await expect(driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(config), collaborators: fakes([], { failRuns: (r) => r.stream.startsWith('exp-1/T1/') }) }))
      .rejects.toMatchObject({ code: 'EXPCTL_EXPERIMENT_FAILED' });
    const log: string[] = [];
    const outcome = await driveExperiment({ store, resultsDir: join(dir, 'results'), experiment: 'exp-1', collaborators: fakes(log) });
    expect(outcome.state).toBe('exp_complete');
    expect(log.filter((l) => l.endsWith(':runAgent')).sort()).toEqual(['exp-1/T1/a/1:runAgent', 'exp-1/T1/a/2:runAgent', 'exp-1/T2/a/1:runAgent', 'exp-1/T2/a/2:runAgent']);
    const retried = [...store.readExperiment('exp-1')].filter((r) => r.event.type.endsWith('.retried')).map((r) => `${r.stream}:${r.event.type}`);
    expect(retried).toEqual(['exp-1/T1/a:run.retried', 'exp-1/T1/a:run.retried', 'exp-1/T1:subtest.retried', 'exp-1:tier.retried']);
    const nothing: string[] = [];
    expect(await driveExperiment({ store, resultsDir: join(dir, 'results'), experiment: 'exp-1', collaborators: fakes(nothing) })).toMatchObject({ alreadyComplete: true });
    expect(nothing).toEqual([]);
  });

  it('refuses a changed config, naming the field', async () => {
    const dir = tempDir();
    const store = memoryLog();
    await driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(writeExperiment(dir)), collaborators: fakes([]) });
    await expect(driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(writeExperiment(dir, { runsPerSubtest: 3 })), collaborators: fakes([]) }))
      .rejects.toMatchObject({ code: 'EXPCTL_CONFIG_CHANGED', message: expect.stringContaining('runsPerSubtest (2 → 3)') });
  });

  it('adds tiers to an unfinished experiment (additive), and to a complete one, which runs them and completes again', async () => {
    const dir = tempDir();
    const store = memoryLog();
    const resultsDir = join(dir, 'results');
    const controller = new AbortController();
    const first = driveExperiment({ store, resultsDir, config: loadRunConfig(writeExperiment(dir), ['T0']), signal: controller.signal, collaborators: fakes([], { agentDelayMs: 40 }) });
    setTimeout(() => controller.abort('SIGTERM'), 20);
    await expect(first).rejects.toMatchObject({ code: 'EXPCTL_INTERRUPTED', signal: 'SIGTERM' });
    const log: string[] = [];
    await expect(driveExperiment({ store, resultsDir, config: loadRunConfig(writeExperiment(dir)), collaborators: fakes(log) })).resolves.toMatchObject({ state: 'exp_complete' });
    expect(new Set(log.filter((l) => l.endsWith(':runAgent')).map((l) => l.split('/')[1]))).toEqual(new Set(['T0', 'T1', 'T2']));
    expect(store.readStream('exp-1').filter((r) => r.event.type === 'experiment.tiers_added').map((r) => (r.event.data as { tiers: { id: string }[] }).tiers.map((t) => t.id))).toEqual([['T1', 'T2']]);

    const more = writeExperiment(dir, { tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b', resources: { files: { 'HINT.md': './hint.md' } } }] }, { id: 'T1', subtests: [{ id: 'a' }] }, { id: 'T2', dependsOn: ['T0', 'T1'], subtests: [{ id: 'a', resources: { inheritBaseline: true } }] }, { id: 'T3', subtests: [{ id: 'a' }] }] });
    const again: string[] = [];
    await expect(driveExperiment({ store, resultsDir, config: loadRunConfig(more), collaborators: fakes(again) })).resolves.toMatchObject({ state: 'exp_complete', alreadyComplete: false });
    // only the new tier runs; the finished ones are not touched
    expect(new Set(again.filter((l) => l.endsWith(':runAgent')).map((l) => l.split('/')[1]))).toEqual(new Set(['T3']));
    expect(store.readStream('exp-1').filter((r) => r.event.type === 'experiment.tiers_added').map((r) => (r.event.data as { tiers: { id: string }[] }).tiers.map((t) => t.id))).toEqual([['T1', 'T2'], ['T3']]);
  });
});

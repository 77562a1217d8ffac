import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coverage, CoverageCollector, type CoverageReport, type MachineCoverage } from '../../engine/coverage.js';
import { parseExport } from '../../store/export.js';
import { machineGraph } from '../../engine/graph.js';
import { RUN_STEPS } from '../../machines/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import type { EventStore } from '../../store/types.js';
import { completed, failed, finished, resumed } from '../support/events.js';
import { LogWriter } from '../support/log.js';
import { memoryLog } from '../support/stores.js';

const runInput = (run: number) => ({ tier: 'T0', subtest: 'a', run, maxAttempts: 3 });
const subtestInput = (runs: number) => ({ tier: 'T0', subtest: 'a', runs, maxAttempts: 3 });
const HAPPY_RUN = RUN_STEPS.map(([state], i) => `${state} --effect.completed--> ${RUN_STEPS[i + 1]?.[0] ?? 'run_worktree_cleaned'}`);

/** Complete a run's steps from `from` (index in RUN_STEPS) with the given attempt for the first one. */
function completeRun(log: LogWriter, stream: string, from = 0, firstAttempt = 1): void {
  RUN_STEPS.slice(from).forEach(([, effect], i) => log.send(stream, completed(effect, i === 0 ? firstAttempt : 1)));
}

/** A subtest with one run that goes straight through: every happy-path step once. */
function happyLog(store: EventStore, experiment = 'happy'): void {
  const log = new LogWriter(store, lifecycleRegistry, experiment)
    .create(`${experiment}/T0/a`, 'subtest', subtestInput(1))
    .send(`${experiment}/T0/a`, completed('startRuns'))
    .create(`${experiment}/T0/a/1`, 'run', runInput(1), `${experiment}/T0/a`);
  completeRun(log, `${experiment}/T0/a/1`);
  log.send(`${experiment}/T0/a`, finished('run', '1'), completed('aggregateSubtest'));
}

/**
 * Subtest a: run 1 retries its first step then completes, run 2 fails for
 * good. Subtest b: its run fails its agent (effect.failed → run_failed), is
 * resumed (operator.resumed → run_prompt_written), ignores the stale
 * completion of attempt 1, then completes.
 */
function failingLog(store: EventStore, experiment = 'failing'): void {
  const sub = `${experiment}/T0/a`;
  const log = new LogWriter(store, lifecycleRegistry, experiment)
    .create(sub, 'subtest', subtestInput(2))
    .send(sub, completed('startRuns'))
    .create(`${sub}/1`, 'run', runInput(1), sub)
    .create(`${sub}/2`, 'run', runInput(2), sub)
    .send(`${sub}/1`, failed('createRunDir', 1, { retryable: true }));
  completeRun(log, `${sub}/1`, 0, 2);
  // subtest b: its run fails at the agent, is resumed, and completes
  const agentAt = RUN_STEPS.findIndex(([s]) => s === 'run_prompt_written');
  const sub2 = `${experiment}/T0/b`;
  log.create(sub2, 'subtest', { ...subtestInput(1), subtest: 'b' }).send(sub2, completed('startRuns')).create(`${sub2}/1`, 'run', { ...runInput(1), subtest: 'b' }, sub2);
  RUN_STEPS.slice(0, agentAt).forEach(([, effect]) => log.send(`${sub2}/1`, completed(effect)));
  log
    .send(`${sub2}/1`, failed('runAgent', 1, { message: 'agent crashed' }))
    .send(`${sub2}/1`, resumed())
    .send(`${sub2}/1`, completed('runAgent', 1)); // stale: attempt 1 after the resume, ignored
  completeRun(log, `${sub2}/1`, agentAt, 2);
  log.send(sub2, finished('run', '1'));
  expect(log.snapshot(`${sub2}/1`).value).toBe('run_worktree_cleaned');
  expect(log.snapshot(sub2).value).toBe('subtest_runs_complete');
  // subtest a: run 1 completed, run 2 fails → the subtest still completes (docs/design.md §2.6)
  log.send(`${sub}/2`, failed('createRunDir', 1)).send(sub, finished('run', '1'), finished('run', '2', 'failed'));
  expect(log.snapshot(sub).value).toBe('subtest_runs_complete');
}

/** Two runs that both fail: the subtest fails through its eventless `shouldFail` guard. */
function allFailedLog(store: EventStore, experiment = 'all-failed'): void {
  const sub = `${experiment}/T0/a`;
  const log = new LogWriter(store, lifecycleRegistry, experiment)
    .create(sub, 'subtest', subtestInput(2))
    .send(sub, completed('startRuns'))
    .send(sub, finished('run', '1', 'failed'), finished('run', '2', 'failed'));
  expect(log.snapshot(sub).value).toBe('subtest_failed');
}

const machine = (report: CoverageReport, id: string): MachineCoverage => report.machines.find((m) => m.machine === id)!;
const takenIds = (m: MachineCoverage) => m.taken.map((t) => t.id);
const notTakenIds = (m: MachineCoverage) => m.notTaken.map((t) => t.id);

describe('transition coverage (engine/coverage)', () => {
  it('counts the happy path: every run step, the root run.finished, and the eventless step it triggers', () => {
    const store = memoryLog();
    happyLog(store);
    const report = coverage(store, lifecycleRegistry, ['happy']);
    expect(report.experiments).toEqual(['happy']);
    expect(report.rows).toBe(3 + RUN_STEPS.length + 2);
    expect(report.machines.map((m) => m.machine)).toEqual(['experiment', 'tier', 'subtest', 'run']);

    const run = machine(report, 'run');
    expect(run.total).toBe(machineGraph(lifecycleRegistry.get('run')!.machine).transitions.length);
    expect(takenIds(run)).toEqual(HAPPY_RUN);
    expect(run.taken.every((t) => t.count === 1)).toBe(true);
    expect(run).toMatchObject({ actors: 1, covered: HAPPY_RUN.length, percent: Math.round((1000 * HAPPY_RUN.length) / run.total) / 10, unattributed: 0 });
    expect(run.covered + run.notTaken.length).toBe(run.total);
    expect(notTakenIds(run)).toContain('run_prompt_written --effect.failed--> run_failed');

    const subtest = machine(report, 'subtest');
    expect(takenIds(subtest)).toEqual([
      'subtest_pending --effect.completed--> subtest_runs_in_progress',
      'subtest_runs_in_progress --always--> subtest_runs_complete',
      'subtest_runs_complete --effect.completed--> subtest_aggregated',
      '* --run.finished--> (internal)',
    ]);
    // the eventless step is attributed to the row of the run.finished that triggered it
    const always = subtest.taken.find((t) => t.event === 'always')!;
    expect(always.first).toEqual(subtest.taken.find((t) => t.event === 'run.finished')!.first);
    expect(always.first).toMatchObject({ experiment: 'happy', stream: 'happy/T0/a' });
    expect(notTakenIds(subtest)).toContain('subtest_runs_in_progress --always--> subtest_failed');
    expect(machine(report, 'experiment')).toMatchObject({ actors: 0, covered: 0, taken: [], percent: 0 });
  });

  it('counts a failure path: retry, effect.failed → run_failed, operator.resumed back; stale events take nothing', () => {
    const store = memoryLog();
    failingLog(store);
    const run = machine(coverage(store, lifecycleRegistry, ['failing']), 'run');
    const count = (id: string) => run.taken.find((t) => t.id === id)?.count;
    expect(count('run_prompt_written --effect.failed--> run_failed')).toBe(1);
    expect(count('run_failed --operator.resumed--> run_prompt_written')).toBe(1);
    expect(count('run_pending --effect.failed--> run_pending')).toBe(1); // a retry re-enters its state: same state, still a transition
    expect(count('run_pending --effect.failed--> run_failed')).toBe(1); // run 2
    // run 1 and the resumed run of subtest b complete the agent once each; the stale completion is not counted
    expect(count('run_prompt_written --effect.completed--> run_agent_complete')).toBe(2);
    expect(count('run_pending --effect.completed--> run_dir_created')).toBe(2);
    expect(run.taken.find((t) => t.id === 'run_prompt_written --effect.failed--> run_failed')!.first).toMatchObject({ stream: 'failing/T0/b/1' });
    expect(notTakenIds(run)).toEqual(expect.arrayContaining([
      'run_prompt_written --effect.failed--> run_rate_limited',
      'run_failed --operator.resumed--> run_pending',
      '* --operator.reset--> run_pending',
    ]));
    expect(takenIds(run)).not.toContain('run_prompt_written --effect.failed--> run_rate_limited');
    expect(run.actors).toBe(3);
    expect(run.unattributed).toBe(0);
  });

  it('attributes an eventless step to the `always` transition whose target was reached (shouldFail before allChildrenFinished)', () => {
    const store = memoryLog();
    allFailedLog(store);
    const subtest = machine(coverage(store, lifecycleRegistry, ['all-failed']), 'subtest');
    expect(takenIds(subtest)).toContain('subtest_runs_in_progress --always--> subtest_failed');
    expect(takenIds(subtest)).not.toContain('subtest_runs_in_progress --always--> subtest_runs_complete');
    expect(subtest.taken.find((t) => t.id === '* --run.finished--> (internal)')!.count).toBe(2);
  });

  it('adds up several experiments', () => {
    const store = memoryLog();
    happyLog(store);
    failingLog(store);
    const one = machine(coverage(store, lifecycleRegistry, ['happy']), 'run');
    const both = coverage(store, lifecycleRegistry, ['happy', 'failing']);
    expect(both.experiments).toEqual(['happy', 'failing']);
    const run = machine(both, 'run');
    expect(run.actors).toBe(4);
    expect(run.taken.find((t) => t.id === HAPPY_RUN[0])!.count).toBe(3);
    expect(run.taken.find((t) => t.id === HAPPY_RUN[0])!.first.experiment).toBe('happy');
    expect(run.covered).toBeGreaterThan(one.covered);
    expect(JSON.parse(JSON.stringify(both))).toEqual(both);
  });

  it('gives, with its shortcuts from the recorded states, the same report as evaluating every step (real logs)', async () => {
    const logs = ['current.jsonl', 'schema-1.jsonl'].map((name) => parseExport(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'logs', name), 'utf8').split('\n'), 2));
    for (const { header, rows } of logs) {
      const store = memoryLog();
      store.importRows(header.experiment, rows);
      const exact = new CoverageCollector(lifecycleRegistry, { exact: true }).addExperiment(store, header.experiment).report();
      expect(coverage(store, lifecycleRegistry, [header.experiment])).toEqual(exact);
      expect(exact.machines.some((m) => m.covered > 10)).toBe(true);
    }
    const store = memoryLog();
    happyLog(store);
    failingLog(store);
    allFailedLog(store);
    const keys = ['happy', 'failing', 'all-failed'];
    const exact = new CoverageCollector(lifecycleRegistry, { exact: true });
    for (const key of keys) exact.addExperiment(store, key);
    expect(coverage(store, lifecycleRegistry, keys)).toEqual(exact.report());
  });
});

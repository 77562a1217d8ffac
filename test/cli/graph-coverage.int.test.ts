import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_STEPS } from '../../machines/index.js';
import { cli } from '../support/cli.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const DOCS = join(import.meta.dirname, '..', '..', 'docs', 'machines');

describe('expctl graph', () => {
  it('prints the Mermaid of a machine, the same as the checked-in docs/machines file', async () => {
    const result = await cli(['graph', 'run', '--format', 'mermaid']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(readFileSync(join(DOCS, 'run.mmd'), 'utf8'));
  });

  it('prints all four machines as one JSON array, and DOT one graph after the other', async () => {
    const json = await cli(['graph', '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const graphs = JSON.parse(json.stdout) as { id: string; states: { id: string }[]; transitions: { source: string; event: string; target: string | null }[] }[];
    expect(graphs.map((g) => g.id)).toEqual(['experiment', 'tier', 'subtest', 'run']);
    const run = graphs[3]!;
    expect(run.states.map((s) => s.id)).toContain('run_rate_limited');
    expect(run.transitions).toContainEqual(expect.objectContaining({ source: 'run_prompt_written', event: 'effect.completed', target: 'run_agent_complete' }));
    const dot = await cli(['graph', '--format', 'dot']);
    expect(dot.code, dot.stderr).toBe(0);
    expect([...dot.stdout.matchAll(/^digraph "(\w+)" \{$/gm)].map((m) => m[1])).toEqual(['experiment', 'tier', 'subtest', 'run']);
  });

  it('refuses an unknown machine with exit 2, naming the valid ones', async () => {
    const result = await cli(['graph', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown machine "nope"');
    expect(result.stderr).toContain('valid machines: experiment, tier, subtest, run');
  });
});

describe('expctl coverage', () => {
  it('reports, per machine, the transitions a real experiment took', async () => {
    const dir = tempDir();
    const config = writeCountingExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const results = join(dir, 'results');
    const env = { COUNTER_FILE: join(dir, 'counter.log'), AGENT_SLEEP_MS: '10' };
    const ran = await cli(['--results-dir', results, 'run', config], { env });
    expect(ran.code, ran.stderr).toBe(0);

    const result = await cli(['--results-dir', results, 'coverage', 'exp-1', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.experiments).toEqual(['exp-1']);
    expect(report.machines.map((m: { machine: string }) => m.machine)).toEqual(['experiment', 'tier', 'subtest', 'run']);
    const run = report.machines.find((m: { machine: string }) => m.machine === 'run');
    const happy = RUN_STEPS.map(([state], i) => `${state} --effect.completed--> ${RUN_STEPS[i + 1]?.[0] ?? 'run_worktree_cleaned'}`);
    expect(run.taken.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining(happy));
    expect(run).toMatchObject({ actors: 1, unattributed: 0 });
    expect(run.covered).toBe(run.taken.length);
    expect(run.covered + run.notTaken.length).toBe(run.total);
    expect(run.notTaken.map((t: { id: string }) => t.id)).toContain('run_prompt_written --effect.failed--> run_rate_limited');
    const experiment = report.machines.find((m: { machine: string }) => m.machine === 'experiment');
    expect(experiment.taken.map((t: { id: string }) => t.id)).toContain('exp_tiers_running --always--> exp_tiers_complete');

    const table = await cli(['--results-dir', results, 'coverage', 'exp-1']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^run\\s+1\\s+${run.covered}\\s+${run.total}\\s+${run.percent.toFixed(1)}%$`, 'm'));
    expect(table.stdout).toContain('run_prompt_written --effect.completed [isCurrentEffect]--> run_agent_complete');

    const missing = await cli(['--results-dir', results, 'coverage', 'nope']);
    expect(missing.code).toBe(2);
  }, 60_000);
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { definitionHash } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';

const dir = join(import.meta.dirname, '../../machines');
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));

describe('machines are pure (I4)', () => {
  it.each(sources)('$file reads no clock, randomness, environment or filesystem', ({ text }) => {
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const forbidden of [/\bDate\b/, /Math\.random/, /\bprocess\./, /from 'node:/, /\brequire\(/, /performance\.now/, /crypto/]) {
      expect(code).not.toMatch(forbidden);
    }
  });

  it('each machine has an id, a version and a definition hash', () => {
    expect([...lifecycleRegistry.values()].map((m) => m.ref)).toEqual([
      expect.stringMatching(/^experiment@2#[0-9a-f]{16}$/),
      expect.stringMatching(/^tier@1#[0-9a-f]{16}$/),
      expect.stringMatching(/^subtest@1#[0-9a-f]{16}$/),
      expect.stringMatching(/^run@1#[0-9a-f]{16}$/),
    ]);
  });

  it('hashes the definition, not the compiled function text, so tsx and the built CLI agree', () => {
    const run = lifecycleRegistry.get('run')!.machine;
    const reimplemented = run.provide({ guards: { canRetry: () => false } });
    expect(definitionHash(reimplemented)).toBe(definitionHash(run));
    const config = run.config as Record<string, unknown>;
    expect(definitionHash(createMachine({ ...config, initial: 'run_dir_created' } as never))).not.toBe(definitionHash(run));
  });

  it('uses exactly the state names of docs/design.md §2', () => {
    const states = Object.fromEntries([...lifecycleRegistry.values()].map((m) => [m.id, Object.keys(m.machine.states)]));
    expect(states).toEqual({
      experiment: ['exp_initializing', 'exp_dir_created', 'exp_repo_cloned', 'exp_tiers_running', 'exp_tiers_complete', 'exp_reports_generated', 'exp_interrupted', 'exp_failed', 'exp_complete'],
      tier: ['tier_pending', 'tier_config_loaded', 'tier_subtests_running', 'tier_subtests_complete', 'tier_best_selected', 'tier_reports_generated', 'tier_failed', 'tier_complete'],
      subtest: ['subtest_pending', 'subtest_runs_in_progress', 'subtest_runs_complete', 'subtest_failed', 'subtest_aggregated'],
      run: ['run_pending', 'run_dir_created', 'run_worktree_created', 'run_resources_applied', 'run_config_committed', 'run_prompt_written', 'run_agent_complete', 'run_changes_committed', 'run_diff_captured', 'run_judge_complete', 'run_finalized', 'run_report_written', 'run_rate_limited', 'run_failed', 'run_worktree_cleaned'],
    });
  });

  it('only the four completion states are final (and an operator may still reset them, so none is an XState final state)', () => {
    const machines = [...lifecycleRegistry.values()];
    expect(machines.flatMap((m) => Object.values(m.machine.states).filter((node) => node.type === 'final'))).toEqual([]);
    const finals = machines.flatMap((m) => Object.entries(m.machine.states).filter(([, node]) => (node.meta as { final?: boolean } | undefined)?.final).map(([name]) => name));
    expect(finals).toEqual(['exp_complete', 'tier_complete', 'subtest_aggregated', 'run_worktree_cleaned']);
  });
});

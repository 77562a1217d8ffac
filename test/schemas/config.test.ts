import { describe, expect, it } from 'vitest';
import { parseExperimentConfig, type ExperimentConfigInput } from '../../schemas/config.js';
import { dependencyCycle, tierGroups } from '../../schemas/tier-order.js';

const valid = (): ExperimentConfigInput => ({
  id: 'demo-001',
  task: { repo: './task-repo', prompt: './prompt.md' },
  agent: { command: ['node', 'agents/echo-agent.mjs', '{prompt}'] },
  judges: [{ command: ['node', 'judges/test-judge.mjs'] }],
  tiers: [
    { id: 'T0', subtests: [{ id: '00-empty' }, { id: '01-full', resources: { files: { 'CLAUDE.md': './resources/full.md' } } }] },
    { id: 'T1', subtests: [{ id: '00-empty' }] },
  ],
});

function issues(config: unknown) {
  const parsed = parseExperimentConfig(config);
  if (parsed.ok) throw new Error('expected the config to be rejected');
  return parsed.issues;
}

describe('experiment config (docs/design.md §5)', () => {
  it('fills in defaults', () => {
    const parsed = parseExperimentConfig(valid());
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config).toMatchObject({
      task: { commit: 'HEAD' },
      agent: { timeoutSeconds: 600, env: {} },
      judges: [{ timeoutSeconds: 300 }],
      runsPerSubtest: 1,
      limits: { maxConcurrentRuns: 4, maxConcurrentAgents: 2 },
      retries: { maxAttempts: 3, backoffSeconds: 2 },
      failFast: false,
      keepFailedWorkspaces: true,
    });
    expect(parsed.config.tiers[0]!.subtests[0]!.resources).toEqual({ files: {}, inheritBaseline: false });
    expect(parsed.config.tiers.map((t) => t.dependsOn)).toEqual([[], []]);
  });

  it('names the path of a bad field', () => {
    const config = valid();
    config.tiers[1]!.subtests[0]!.id = 'bad id!';
    expect(issues(config)).toEqual([{ path: 'tiers[1].subtests[0].id', message: expect.stringContaining('letters, digits') }]);
  });

  it('reports wrong types, missing fields and misspelt fields together, each with its path', () => {
    const config = { ...valid(), runsPerSubtest: 'three', runsPerSubTest: 3, agent: { command: 'node agent.mjs' } } as unknown;
    delete (config as { judges?: unknown }).judges;
    expect(issues(config)).toEqual([
      { path: 'agent.command', message: 'must be an argv array such as ["node", "agent.mjs", "{prompt}"], not a shell string' },
      { path: 'judges', message: expect.stringContaining('expected array') },
      { path: 'runsPerSubtest', message: expect.stringContaining('expected number') },
      { path: 'runsPerSubTest', message: expect.stringContaining('unknown field') },
    ]);
  });

  it('rejects an empty command and a command without a program', () => {
    const config = valid();
    config.agent.command = [];
    config.judges[0]!.command = ['', '-e', ''];
    expect(issues(config).map((i) => i.path)).toEqual(['agent.command', 'judges[0].command[0]']);
  });

  it('rejects an unknown tier in dependsOn, naming it and the known ones', () => {
    const config = valid();
    config.tiers[1]!.dependsOn = ['T0', 'T9'];
    expect(issues(config)).toEqual([{ path: 'tiers[1].dependsOn[1]', message: 'unknown tier "T9"; known tiers: T0, T1' }]);
  });

  it('rejects a dependency cycle before anything runs', () => {
    const config = valid();
    config.tiers[0]!.dependsOn = ['T1'];
    config.tiers[1]!.dependsOn = ['T0'];
    expect(issues(config)).toEqual([{ path: 'tiers[0].dependsOn', message: 'tier dependencies form a cycle: T0 → T1 → T0' }]);
  });

  it('rejects self-dependencies and duplicate ids', () => {
    const config = valid();
    config.tiers[1]!.id = 'T0';
    config.tiers[0]!.subtests[1]!.id = '00-empty';
    config.tiers[0]!.dependsOn = ['T0'];
    expect(issues(config)).toEqual([
      { path: 'tiers[0].subtests[1].id', message: 'duplicate subtest id "00-empty" in tier T0' },
      { path: 'tiers[1].id', message: 'duplicate tier id "T0"' },
      { path: 'tiers[0].dependsOn[0]', message: 'tier T0 depends on itself' },
    ]);
  });

  it('still reports tier reference problems when other fields are broken', () => {
    const config = { ...valid(), runsPerSubtest: -1 };
    config.tiers[1]!.dependsOn = ['nope'];
    expect(issues(config).map((i) => i.path)).toEqual(['runsPerSubtest', 'tiers[1].dependsOn[0]']);
  });

  it('rejects an invalid rate-limit pattern and a rate limit that cannot be recognised', () => {
    const config = valid();
    config.agent.rateLimit = { outputPattern: '(' };
    expect(issues(config)).toEqual([{ path: 'agent.rateLimit.outputPattern', message: 'is not a valid regular expression' }]);
    config.agent.rateLimit = { defaultWaitSeconds: 5 };
    expect(issues(config)[0]!.message).toContain('set exitCode, outputPattern or both');
  });

  it('applies the Scylla default dependencies: T5 after T0–T4, T6 after T5', () => {
    const config = valid();
    config.tiers = ['T0', 'T1', 'T2', 'T5', 'T6'].map((id) => ({ id, subtests: [{ id: 'a' }] }));
    const parsed = parseExperimentConfig(config);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(parsed.config.tiers.map((t) => [t.id, t.dependsOn])).toEqual([
      ['T0', []], ['T1', []], ['T2', []], ['T5', ['T0', 'T1', 'T2']], ['T6', ['T5']],
    ]);
    expect(tierGroups(parsed.config.tiers)).toEqual([['T0', 'T1', 'T2'], ['T5'], ['T6']]);
  });

  it('reports problems of a value that is not an object at all', () => {
    expect(issues('id: demo')).toEqual([{ path: '(root)', message: expect.stringContaining('expected object') }]);
    expect(issues(null)[0]!.path).toBe('(root)');
  });
});

describe('tier order (docs/design.md §2.5)', () => {
  it('groups tiers whose dependencies are done, in order', () => {
    expect(tierGroups([
      { id: 'A', dependsOn: [] }, { id: 'B', dependsOn: ['A'] }, { id: 'C', dependsOn: [] }, { id: 'D', dependsOn: ['B', 'C'] },
    ])).toEqual([['A', 'C'], ['B'], ['D']]);
  });

  it('finds a cycle, and none where there is none', () => {
    expect(dependencyCycle([{ id: 'A', dependsOn: ['C'] }, { id: 'B', dependsOn: ['A'] }, { id: 'C', dependsOn: ['B'] }])).toEqual(['A', 'C', 'B', 'A']);
    expect(dependencyCycle([{ id: 'A', dependsOn: [] }, { id: 'B', dependsOn: ['A'] }])).toBeNull();
  });
});

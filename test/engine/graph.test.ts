import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { toDot, toMermaid } from '../../observe/diagram.js';
import { ANY_STATE, machineGraph, type MachineGraph } from '../../engine/graph.js';
import { RUN_STEPS } from '../../machines/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';

const DOCS = join(import.meta.dirname, '..', '..', 'docs', 'machines');
const machines = [...lifecycleRegistry.values()];

/** The state keys straight from the XState definition (not through the graph code). */
const definedStates = (id: string) => Object.keys(lifecycleRegistry.get(id)!.machine.root.states);

/** docs/design.md §2 happy paths: [source, event, target]. */
const HAPPY: Record<string, [string, string, string][]> = {
  run: RUN_STEPS.map(([state], i) => [state, 'effect.completed', RUN_STEPS[i + 1]?.[0] ?? 'run_worktree_cleaned']),
  subtest: [
    ['subtest_pending', 'effect.completed', 'subtest_runs_in_progress'],
    ['subtest_runs_in_progress', 'always', 'subtest_runs_complete'],
    ['subtest_runs_complete', 'effect.completed', 'subtest_aggregated'],
  ],
  tier: [
    ['tier_pending', 'effect.completed', 'tier_config_loaded'],
    ['tier_config_loaded', 'effect.completed', 'tier_subtests_running'],
    ['tier_subtests_running', 'always', 'tier_subtests_complete'],
    ['tier_subtests_complete', 'effect.completed', 'tier_best_selected'],
    ['tier_best_selected', 'effect.completed', 'tier_reports_generated'],
    ['tier_reports_generated', 'effect.completed', 'tier_complete'],
  ],
  experiment: [
    ['exp_initializing', 'effect.completed', 'exp_dir_created'],
    ['exp_dir_created', 'effect.completed', 'exp_repo_cloned'],
    ['exp_repo_cloned', 'effect.completed', 'exp_tiers_running'],
    ['exp_tiers_running', 'always', 'exp_tiers_complete'],
    ['exp_tiers_complete', 'effect.completed', 'exp_reports_generated'],
    ['exp_reports_generated', 'effect.completed', 'exp_complete'],
  ],
};

const edge = (g: MachineGraph, source: string, event: string, target: string | null) =>
  g.transitions.find((t) => t.source === source && t.event === event && t.target === target);

/** Strip DOT double-quoted strings (with their escapes), so braces and brackets inside labels do not count. */
const unquoted = (dot: string) => dot.replace(/"(?:[^"\\]|\\.)*"/g, '""');

/** The DOT node statements: `"id" [ … ];` lines that are not edges. */
function dotNodes(dot: string): string[] {
  return dot.split('\n').flatMap((line) => {
    const m = /^\s*"((?:[^"\\]|\\.)*)"\s*\[.*\];$/.exec(line);
    return m && !line.includes(' -> ') ? [m[1]!.replace(/\\(.)/g, '$1')] : [];
  });
}

/**
 * Each line of the Mermaid text is one statement of the stateDiagram-v2
 * grammar subset the renderer uses. Mermaid's lexer: an id is
 * `[^:\n\s\-{]+`, a description runs from `:` to the next `:`, `;` or newline.
 */
function mermaidProblems(text: string): string[] {
  const id = String.raw`(?:(?!(?:state|end|note|as|direction|class|classDef)(?:\s|$))[^:\n\s\-{"]+)`;
  const descr = String.raw`[^:;\n]+`;
  const forms = [
    /^%% .*$/,
    /^stateDiagram-v2$/,
    new RegExp(String.raw`^\s*state "[^"\n]*" as ${id}( \{)?$`),
    /^\s*\}$/,
    new RegExp(String.raw`^\s*${id} : ${descr}$`),
    new RegExp(String.raw`^\s*(?:${id}|\[\*\]) --> (?:${id}|\[\*\])(?: : ${descr})?$`),
    /^\s*classDef \w+ [^\n]+$/,
    new RegExp(String.raw`^\s*class ${id} \w+$`),
  ];
  return text
    .trimEnd()
    .split('\n')
    .filter((line) => !forms.some((f) => f.test(line)))
    .map((line) => `not a statement: ${JSON.stringify(line)}`);
}

describe('machine diagrams (docs/machines)', () => {
  it.each(machines.map((m) => m.id))('docs/machines/%s.mmd is the current Mermaid of the machine', (id) => {
    const file = join(DOCS, `${id}.mmd`);
    const hint = `docs/machines/${id}.mmd is out of date: regenerate with \`npx tsx docs/write-diagrams.ts\``;
    expect(existsSync(file), hint).toBe(true);
    expect(readFileSync(file, 'utf8'), hint).toBe(toMermaid(machineGraph(lifecycleRegistry.get(id)!.machine)));
  });

  it.each(machines.map((m) => m.id))('%s: every state of the definition is in the graph, the Mermaid and the DOT (one node each)', (id) => {
    const graph = machineGraph(lifecycleRegistry.get(id)!.machine);
    const states = definedStates(id);
    expect(graph.states.map((s) => s.id)).toEqual(states);
    expect(graph.states.filter((s) => s.initial).map((s) => s.id)).toEqual([lifecycleRegistry.get(id)!.machine.root.initial!.target[0]!.key]);
    const mermaid = toMermaid(graph);
    for (const state of states) expect(mermaid).toMatch(new RegExp(`^  (\\S+ --> )?${state}( |$)`, 'm'));
    const nodes = dotNodes(toDot(graph));
    for (const state of states) expect(nodes.filter((n) => n === state), state).toHaveLength(1);
  });

  it.each(Object.entries(HAPPY))('%s: the happy path of docs/design.md §2 is drawn, edge by edge', (id, path) => {
    const graph = machineGraph(lifecycleRegistry.get(id)!.machine);
    const mermaid = toMermaid(graph);
    for (const [source, event, target] of path) {
      const found = edge(graph, source, event, target);
      expect(found, `${source} --${event}--> ${target}`).toBeDefined();
      expect(mermaid).toContain(`\n  ${source} --> ${target} : ${found!.label}\n`);
    }
    const completion = definedStates(id).filter((s) => lifecycleRegistry.get(id)!.machine.root.states[s]!.meta?.final);
    expect(completion).toHaveLength(1);
    expect(mermaid).toContain(`\n  ${completion[0]} --> [*]\n`);
  });

  it('labels edges with event and guard: run_prompt_written → run_agent_complete on effect.completed [isCurrentEffect]', () => {
    const run = machineGraph(lifecycleRegistry.get('run')!.machine);
    expect(edge(run, 'run_prompt_written', 'effect.completed', 'run_agent_complete')).toMatchObject({
      id: 'run_prompt_written --effect.completed--> run_agent_complete',
      label: 'effect.completed [isCurrentEffect]',
      guard: { type: 'isCurrentEffect', params: { effect: 'runAgent' } },
      actions: [{ type: 'stepCompleted' }],
    });
    // guarded transitions of one event to different targets are separate edges, in guard order
    expect(run.transitions.filter((t) => t.source === 'run_prompt_written' && t.event === 'effect.failed').map((t) => [t.target, t.label])).toEqual([
      ['run_rate_limited', 'effect.failed [isRateLimit]'],
      ['run_prompt_written', 'effect.failed [canRetry]'],
      ['run_failed', 'effect.failed [isCurrentEffect]'],
    ]);
    expect(edge(run, 'run_prompt_written', 'effect.failed', 'run_prompt_written')).toMatchObject({ reenter: true });
    // root-level transitions come from "any state", once each, not from every state
    const resets = run.transitions.filter((t) => t.event === 'operator.reset');
    expect(resets.map((t) => t.source)).toEqual(RUN_STEPS.map(() => ANY_STATE));
    expect(resets.map((t) => t.target)).toEqual(RUN_STEPS.map(([s]) => s));
    expect(toMermaid(run)).toContain('\n  any_state --> run_pending : operator.reset [resetsTo]\n');
    // ids are unique: the edge identity (source, event, target)
    expect(new Set(run.transitions.map((t) => t.id)).size).toBe(run.transitions.length);
  });

  it('shows targetless (internal) transitions inside their state, eventless ones as `always`', () => {
    const subtest = machineGraph(lifecycleRegistry.get('subtest')!.machine);
    expect(edge(subtest, ANY_STATE, 'run.finished', null)).toMatchObject({ label: 'run.finished [isExpectedChild]', actions: [{ type: 'recordChild' }] });
    expect(edge(subtest, 'subtest_runs_in_progress', 'always', 'subtest_failed')).toMatchObject({ eventless: true, label: 'always [shouldFail]' });
    const mermaid = toMermaid(subtest);
    expect(mermaid).toContain('\n  any_state : run.finished [isExpectedChild] / recordChild\n');
    expect(mermaid).not.toMatch(/--> (null|undefined)/);
    const experiment = toMermaid(machineGraph(lifecycleRegistry.get('experiment')!.machine));
    expect(experiment).toContain('\n  exp_tiers_running : experiment.tiers_added / addTiers\n');
    expect(experiment).toContain('\n  exp_tiers_complete --> exp_tiers_running : experiment.tiers_added\n');
  });

  it.each(machines.map((m) => m.id))('%s: the Mermaid is statements of stateDiagram-v2 only; the DOT is balanced and names only declared nodes', (id) => {
    const graph = machineGraph(lifecycleRegistry.get(id)!.machine);
    expect(mermaidProblems(toMermaid(graph))).toEqual([]);
    const dot = toDot(graph);
    expect(dot.startsWith(`digraph "${id}" {\n`)).toBe(true);
    expect(dot.endsWith('}\n')).toBe(true);
    const bare = unquoted(dot);
    expect(bare.split('{').length).toBe(bare.split('}').length);
    expect(bare.split('[').length).toBe(bare.split(']').length);
    const declared = new Set(dotNodes(dot));
    const edges = [...dot.matchAll(/^\s*"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"/gm)];
    expect(edges.length).toBe(graph.transitions.filter((t) => t.target !== null).length + 1);
    for (const [, from, to] of edges) expect([declared.has(from!), declared.has(to!)], `${from} -> ${to}`).toEqual([true, true]);
  });

  it('is deterministic and plain JSON', () => {
    for (const { machine } of machines) {
      const graph = machineGraph(machine);
      expect(JSON.parse(JSON.stringify(graph))).toEqual(graph);
      expect(toMermaid(machineGraph(machine))).toBe(toMermaid(graph));
      expect(toDot(machineGraph(machine))).toBe(toDot(graph));
    }
  });
});

describe('diagrams of any machine', () => {
  const odd = setup({
    guards: { hasScore: (_: unknown, _params: { min: number }) => true, isReady: () => true },
  }).createMachine({
    id: 'odd machine',
    initial: 'end',
    on: { 'go.home': '.a-b' },
    states: {
      end: { meta: { note: 'a: b; c "d" <e>' }, on: { 'next;step': { target: 'a-b', guard: { type: 'hasScore', params: { min: 0.5 } } } } },
      'a-b': {
        initial: 'inner',
        states: { inner: { always: { guard: 'isReady', target: 'done' } }, done: { type: 'final' } },
        on: { back: 'end' },
      },
    },
  });

  it('escapes names and labels that Mermaid or DOT would choke on, and draws nested states', () => {
    const graph = machineGraph(odd);
    expect(graph.states.map((s) => [s.id, s.parent, s.initial, s.final])).toEqual([
      ['end', null, true, false],
      ['a-b', null, false, false],
      ['a-b.inner', 'a-b', true, false],
      ['a-b.done', 'a-b', false, true],
    ]);
    expect(edge(graph, 'end', 'next;step', 'a-b')!.label).toBe('next;step [hasScore(0.5)]');
    expect(edge(graph, 'a-b.inner', 'always', 'a-b.done')!.label).toBe('always [isReady]');

    const mermaid = toMermaid(graph);
    expect(mermaidProblems(mermaid)).toEqual([]);
    expect(mermaid).toContain('state "end" as s1');
    expect(mermaid).toContain('state "a-b" as s2 {');
    expect(mermaid).toContain("s1 : note a\uA789 b\uFF1B c 'd' \u2039e\u203A");
    expect(mermaid).toContain('s1 --> s2 : next\uFF1Bstep [hasScore(0.5)]');
    expect(mermaid).toContain('any_state --> s2 : go.home');

    const dot = toDot(graph);
    const bare = unquoted(dot);
    expect(bare.split('{').length).toBe(bare.split('}').length);
    expect(dot).toContain('subgraph "cluster_a-b" {');
    expect(dot).toContain('"end" [label="end\\nnote a: b; c \\"d\\" <e>"];');
    expect(dot).toContain('"end" -> "a-b.inner" [label="next;step [hasScore(0.5)]", lhead="cluster_a-b"];');
  });
});

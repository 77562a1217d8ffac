import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseExperimentConfig, type ExperimentConfig, type SubtestConfig } from '../../schemas/config.js';
import { AgentUsage, JudgeVerdict } from '../../schemas/results.js';
import { useTempDir } from '../support/temp.js';

const run = promisify(execFile);
const configDir = fileURLToPath(new URL('../../examples/demo/', import.meta.url));
const configPath = join(configDir, 'experiment.yaml');

function loadConfig(): ExperimentConfig {
  const parsed = parseExperimentConfig(YAML.parse(readFileSync(configPath, 'utf8')));
  if (!parsed.ok) throw new Error(`examples/demo/experiment.yaml is invalid:\n${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
  return parsed.config;
}

/** The engine's argv conventions: placeholders, then "./" and "../" against the config's folder. */
function argv(command: readonly string[], vars: Record<string, string>): string[] {
  return command.map((arg) => {
    const text = arg.replace(/\{(prompt|promptFile|workspace|runDir|configDir)\}/g, (_, name: string) => vars[name]!);
    return text.startsWith('./') || text.startsWith('../') ? resolve(configDir, text) : text;
  });
}

async function exec(command: string[], cwd: string, env: Record<string, string>) {
  const [program, ...args] = command;
  const file = program === 'node' ? process.execPath : program!;
  return run(file, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });
}

async function git(cwd: string, ...args: string[]) {
  return (await run('git', ['-c', 'user.name=demo', '-c', 'user.email=demo@example.invalid', ...args], { cwd, encoding: 'utf8' })).stdout;
}

const lastLine = (text: string) => text.trim().split('\n').at(-1)!;

/** A plain copy of the task folder as a git repository: what the engine turns `task.repo` into. */
async function workspaceFrom(config: ExperimentConfig, root: string, name: string): Promise<string> {
  const workspace = join(root, name, 'workspace');
  cpSync(resolve(configDir, config.task.repo), workspace, { recursive: true });
  await git(workspace, 'init', '-q');
  return workspace;
}

/** One run as the engine performs it: resources in, agent, diff, judge. */
async function simulateRun(config: ExperimentConfig, root: string, tier: string, subtest: SubtestConfig, runNumber: number) {
  const workspace = await workspaceFrom(config, root, `${tier}-${subtest.id}-${runNumber}`);
  const runDir = join(dirname(workspace), 'run');
  mkdirSync(runDir);
  // For inheritBaseline only the subtest's own files: the baseline is the engine's business.
  for (const [target, source] of Object.entries(subtest.resources.files)) {
    mkdirSync(dirname(join(workspace, target)), { recursive: true });
    cpSync(resolve(configDir, source), join(workspace, target));
  }
  await git(workspace, 'add', '-A');
  await git(workspace, 'commit', '-qm', 'task + resources');

  const prompt = readFileSync(resolve(configDir, config.task.prompt), 'utf8');
  const promptFile = join(runDir, 'prompt.md');
  writeFileSync(promptFile, prompt);
  const vars = { prompt, promptFile, workspace, runDir, configDir };
  const env = {
    EXPCTL_EXPERIMENT: config.id,
    EXPCTL_TIER: tier,
    EXPCTL_SUBTEST: subtest.id,
    EXPCTL_RUN: String(runNumber),
    EXPCTL_WORKSPACE: workspace,
    EXPCTL_RUN_DIR: runDir,
    EXPCTL_PROMPT_FILE: promptFile,
  };

  const agent = await exec(argv(config.agent.command, vars), workspace, env);
  const agentStdout = join(runDir, 'agent.stdout');
  writeFileSync(agentStdout, agent.stdout);
  const diff = join(runDir, 'agent.patch');
  writeFileSync(diff, await git(workspace, 'diff'));

  const judge = await exec(argv(config.judges[0]!.command, vars), workspace, { ...env, EXPCTL_AGENT_STDOUT: agentStdout, EXPCTL_DIFF: diff });
  return {
    key: `${tier}/${subtest.id}/${runNumber}`,
    usage: AgentUsage.parse(JSON.parse(lastLine(agent.stdout))),
    verdict: JudgeVerdict.parse(JSON.parse(lastLine(judge.stdout))),
  };
}

async function simulateAll(config: ExperimentConfig, root: string) {
  const runs = config.tiers.flatMap((tier) =>
    tier.subtests.flatMap((subtest) =>
      Array.from({ length: config.runsPerSubtest }, (_, i) => simulateRun(config, root, tier.id, subtest, i + 1)),
    ),
  );
  return Promise.all(runs);
}

async function judgeAlone(config: ExperimentConfig, workspace: string) {
  const judge = await exec(argv(config.judges[0]!.command, { prompt: '', promptFile: '', workspace, runDir: workspace, configDir }), workspace, {});
  return JudgeVerdict.parse(JSON.parse(lastLine(judge.stdout)));
}

describe('the bundled demo experiment (examples/demo)', () => {
  const tempDir = useTempDir('expctl-demo-');

  it('has a config that validates, with every file it names present and the task a plain folder', () => {
    const config = loadConfig();
    expect(config).toMatchObject({ id: 'demo-001', runsPerSubtest: 2, limits: { maxConcurrentRuns: 4, maxConcurrentAgents: 2 } });
    expect(config.tiers.map((t) => [t.id, t.dependsOn])).toEqual([['T0', []], ['T1', []], ['T2', ['T0', 'T1']]]);
    expect(config.tiers[2]!.subtests.every((s) => s.resources.inheritBaseline)).toBe(true);

    const named = [config.task.repo, config.task.prompt, ...config.tiers.flatMap((t) => t.subtests.flatMap((s) => Object.values(s.resources.files)))];
    const commands = [config.agent.command, ...config.judges.map((j) => j.command)].flat().filter((a) => a.startsWith('./'));
    for (const path of [...named, ...commands]) {
      expect(isAbsolute(path), path).toBe(false);
      expect(existsSync(resolve(configDir, path)), path).toBe(true);
    }
    expect(existsSync(join(configDir, config.task.repo, '.git'))).toBe(false);
  });

  it('ships real bugs: the untouched task scores below the pass mark, and the judge still exits 0', async () => {
    const config = loadConfig();
    const verdict = await judgeAlone(config, await workspaceFrom(config, tempDir(), 'untouched'));
    expect(verdict.score).toBeLessThan(0.75);
    expect(verdict).toMatchObject({ passed: false, grade: 'D', criteria: { checksPassed: 2, checksTotal: 8 } });
    expect(verdict.reasoning).toContain('slugify strips punctuation');
  });

  it('reports a test runner that cannot run as score 0 with the reason, not as a judge error', async () => {
    const config = loadConfig();
    const workspace = await workspaceFrom(config, tempDir(), 'broken');
    writeFileSync(join(workspace, 'tests', 'run.mjs'), 'process.exit(3);\n');
    expect(await judgeAlone(config, workspace)).toMatchObject({ score: 0, passed: false, grade: 'F', reasoning: expect.stringContaining('exited 3') });
    rmSync(join(workspace, 'tests', 'run.mjs'));
    expect(await judgeAlone(config, workspace)).toMatchObject({ score: 0, passed: false, reasoning: expect.stringContaining('missing') });
  });

  it('lets the agent read the prompt from EXPCTL_PROMPT_FILE, and leaves its own fixes alone on a second pass', async () => {
    const config = loadConfig();
    const root = tempDir();
    const workspace = await workspaceFrom(config, root, 'again');
    cpSync(join(configDir, 'resources', 'hints-full.md'), join(workspace, 'CLAUDE.md'));
    const env = { EXPCTL_TIER: 'T1', EXPCTL_SUBTEST: '02-full-hints', EXPCTL_RUN: '1', EXPCTL_PROMPT_FILE: resolve(configDir, config.task.prompt) };
    const agent = [process.execPath, resolve(configDir, 'agents', 'demo-agent.mjs')];
    await exec(agent, workspace, env);
    const fixed = readFileSync(join(workspace, 'src', 'stats.mjs'), 'utf8') + readFileSync(join(workspace, 'src', 'slugify.mjs'), 'utf8');
    const second = await exec(agent, workspace, env);
    expect(second.stdout).toContain('already fixed');
    expect(readFileSync(join(workspace, 'src', 'stats.mjs'), 'utf8') + readFileSync(join(workspace, 'src', 'slugify.mjs'), 'utf8')).toBe(fixed);
    expect(await judgeAlone(config, workspace)).toMatchObject({ score: 1, passed: true, grade: 'S' });
  });

  it('gives every run a usage line and a verdict, identical when the whole matrix runs again', async () => {
    const config = loadConfig();
    const root = tempDir();
    const first = await simulateAll(config, join(root, 'first'));
    const second = await simulateAll(config, join(root, 'second'));

    expect(first).toHaveLength(12);
    for (const { key, usage, verdict } of first) {
      expect(Number.isInteger(usage.tokens) && (usage.tokens as number) > 0, key).toBe(true);
      expect(usage.costUsd, key).toBeGreaterThan(0);
      expect(verdict.score, key).toBeGreaterThanOrEqual(0);
      expect(verdict.score, key).toBeLessThanOrEqual(1);
      expect(verdict.passed, key).toBe(verdict.score >= 0.75);
      expect(verdict.criteria?.diffLines, key).toBeGreaterThan(0);
    }
    expect(second).toEqual(first);
  });

  it('scores more guidance higher, as the table in examples/demo/README.md says', async () => {
    const results = await simulateAll(loadConfig(), tempDir());
    const score = Object.fromEntries(results.map((r) => [r.key, r.verdict.score]));
    const tokens = Object.fromEntries(results.map((r) => [r.key, r.usage.tokens]));

    expect(score).toEqual({
      'T0/00-empty/1': 0.5,
      'T0/00-empty/2': 0.5,
      'T0/01-hints/1': 0.875,
      'T0/01-hints/2': 0.625,
      'T1/01-style-guide/1': 0.625,
      'T1/01-style-guide/2': 0.625,
      'T1/02-full-hints/1': 1,
      'T1/02-full-hints/2': 0.875,
      'T2/01-edge-cases/1': 0.625,
      'T2/01-edge-cases/2': 0.75,
      'T2/02-review-checklist/1': 0.75,
      'T2/02-review-checklist/2': 0.75,
    });
    expect(new Set(Object.values(score)).size).toBeGreaterThan(1);
    expect(Math.max(score['T0/00-empty/1']!, score['T0/00-empty/2']!)).toBeLessThan(Math.min(score['T1/02-full-hints/1']!, score['T1/02-full-hints/2']!));
    // Reading guidance costs tokens: the full hints cost more than no hints at all.
    expect(tokens['T1/02-full-hints/1']).toBeGreaterThan(tokens['T0/00-empty/1'] as number);
  });
});

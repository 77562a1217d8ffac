// A child process of the bench: drive a whole experiment of `tiers × subtests × runs` with
// no-op effects (the agent, judges, git and workspace steps record realistic outputs at
// once; setup, results, reports and the log are real), then print what it took as JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { createCollaborators, driveExperiment, loadRunConfig, openExperimentLog, type Collaborators, type Limits, type RunnerEffect } from '../runner/index.js';

const [dir, tiers, subtests, runs] = [process.argv[2]!, ...process.argv.slice(3).map(Number)] as [string, number, number, number];

const outputs: Record<string, (n: number) => unknown> = {
  runAgent: (n) => ({ exitCode: 0, timedOut: false, durationMs: 1000 + (n % 97), tokens: 1000 + (n % 13) * 10, costUsd: 0.01 + (n % 7) / 1000 }),
  captureDiff: (n) => ({ filesChanged: 1 + (n % 3), insertions: 10 + (n % 11), deletions: n % 5, patch: 'diff.patch' }),
  runJudges: (n) => {
    const score = (n % 5) / 4;
    return { durationsMs: [50], grade: score >= 0.75 ? 'A' : 'C', passed: score >= 0.5, score, verdicts: [{ grade: score >= 0.75 ? 'A' : 'C', passed: score >= 0.5, reasoning: 'bench', score }] };
  },
};

function collaborators(limits: Limits): Collaborators {
  const real = createCollaborators(limits);
  const noop = (effect: string): RunnerEffect => async (ctx) => ({ output: outputs[effect]?.(Number(ctx.request.stream.split('/').at(-1))) ?? { commit: 'a'.repeat(40) } });
  const stages = Object.fromEntries(Object.keys(real.execution.stages).map((effect) => [effect, noop(effect)])) as Collaborators['execution']['stages'];
  return {
    ...real,
    setup: { ...real.setup, prepareRepository: async (_ctx, session) => ({ output: { repoDir: session.paths.repo, commit: 'a'.repeat(40) } }) },
    execution: { ...real.execution, stages },
    finalization: { ...real.finalization, cleanupWorktree: async () => ({ output: { removed: true } }) },
  };
}

function writeConfig(): string {
  mkdirSync(join(dir, 'task'), { recursive: true });
  writeFileSync(join(dir, 'task', 'README.md'), 'task\n');
  writeFileSync(join(dir, 'prompt.md'), 'nothing to do\n');
  const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}` }));
  const config = {
    id: 'matrix',
    task: { repo: './task', prompt: './prompt.md' },
    agent: { command: ['node', '-e', ''] },
    judges: [{ command: ['node', '-e', ''] }],
    runsPerSubtest: runs,
    tiers: ids(tiers, 'T').map(({ id }) => ({ id, subtests: ids(subtests, 's') })),
    limits: { maxConcurrentRuns: 8, maxConcurrentAgents: 8 },
  };
  writeFileSync(join(dir, 'experiment.yaml'), YAML.stringify(config));
  return join(dir, 'experiment.yaml');
}

const peakMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const store = openExperimentLog(join(dir, 'results', 'expctl.db'));
const config = loadRunConfig(writeConfig());
const started = process.hrtime.bigint();
const outcome = await driveExperiment({ store, resultsDir: join(dir, 'results'), config, collaborators });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const rows = store.head('matrix')!.rows;
store.close();
process.stdout.write(`${JSON.stringify({ state: outcome.state, runs: outcome.summary.runs.total, rows, seconds, peakMb: peakMb() })}\n`);

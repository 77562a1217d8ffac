import { join } from 'node:path';

/** Where everything of an experiment lives under the results directory: the one place that knows the layout. */
export function experimentPaths(resultsDir: string, key: string) {
  const root = join(resultsDir, key);
  const reports = (dir: string) => ({ dir, result: join(dir, 'result.json'), report: join(dir, 'report.md'), summary: join(dir, 'summary.md') });
  return {
    ...reports(root),
    repo: join(root, 'repo'),
    config: join(root, 'config.json'),
    /** How drivers find the experiment's executor hosts (workspace/executor-host.ts): `<pid>.json` each, with its socket and token (mode 0600). */
    executorHosts: join(root, '.executor-hosts'),
    tier: (tier: string) => reports(join(root, tier)),
    subtest: (tier: string, subtest: string) => reports(join(root, tier, subtest)),
    run: (tier: string, subtest: string, run: number) => runPaths(join(root, tier, subtest, `run-${String(run).padStart(2, '0')}`)),
  };
}

export type ExperimentPaths = ReturnType<typeof experimentPaths>;

function runPaths(dir: string) {
  return {
    dir,
    agentDir: join(dir, 'agent'),
    judgeDir: join(dir, 'judge'),
    workspace: join(dir, 'workspace'),
    prompt: join(dir, 'prompt.md'),
    stdout: join(dir, 'agent', 'stdout.log'),
    stderr: join(dir, 'agent', 'stderr.log'),
    diff: join(dir, 'diff.patch'),
    judgeStdout: (i: number) => join(dir, 'judge', `judge-${i + 1}.stdout.log`),
    judgeStderr: (i: number) => join(dir, 'judge', `judge-${i + 1}.stderr.log`),
    judgeVerdict: (i: number) => join(dir, 'judge', `judge-${i + 1}.json`),
    /** Where the executor keeps its record and outcome of the agent command (`.record.json`, `.outcome.json`) and of judge i's. */
    agentCommand: join(dir, 'agent', 'command'),
    judgeCommand: (i: number) => join(dir, 'judge', `judge-${i + 1}.command`),
    result: join(dir, 'result.json'),
    report: join(dir, 'report.md'),
  };
}

export const logFile = (resultsDir: string) => join(resultsDir, 'expctl.db');

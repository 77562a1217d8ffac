import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { result, type BenchResult } from './result.js';
import { CLI } from './startup.bench.js';

const JUDGE = ['sh', '-c', 'echo \'{"score": 1, "passed": true}\''];

/**
 * What a run costs beyond its own work (docs/design.md §4): `expctl run` of
 * `runs` runs one at a time, with a no-op agent (`true`) and a judge that
 * prints its verdict, next to a shell script that does the same git and
 * process work per run (worktree add, the prompt written, a commit before and
 * after the agent, the diff, the two commands, worktree remove), taken in
 * turns in the same process, best of `repeat`. `cli`: another build to measure
 * (an earlier commit's, for a before/after).
 */
export function overheadBench(dir: string, runs = 50, repeat = 2, cli = CLI): BenchResult[] {
  const task = join(dir, 'task');
  mkdirSync(task, { recursive: true });
  writeFileSync(join(task, 'README.md'), 'task\n');
  execFileSync('sh', ['-c', 'git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -q -m init'], { cwd: task });
  writeFileSync(join(dir, 'prompt.md'), 'nothing to do\n');
  const config = join(dir, 'experiment.yaml');
  writeFileSync(config, YAML.stringify({
    id: 'overhead', task: { repo: './task', prompt: './prompt.md' }, agent: { command: ['true'] }, judges: [{ command: JUDGE }],
    runsPerSubtest: runs, tiers: [{ id: 'T0', subtests: [{ id: 's' }] }], limits: { maxConcurrentRuns: 1, maxConcurrentAgents: 1 },
  }));
  const script = join(dir, 'same-work.sh');
  writeFileSync(script, shellScript(task, join(dir, 'shell'), runs));
  let [expctl, shell] = [Infinity, Infinity];
  for (let i = 0; i < repeat; i++) {
    expctl = Math.min(expctl, timed(() => mustRun(process.execPath, [cli, '--results-dir', join(dir, `results-${i}`), 'run', config])));
    shell = Math.min(shell, timed(() => mustRun('sh', [script])));
  }
  return [
    result('run.per_run', `a run, ${runs} one at a time (expctl run)`, (expctl / runs) * 1000, 'ms', (shell / runs) * 1000, 'the same work in sh'),
    result('run.overhead_vs_shell', 'a run: expctl over the same work in sh', expctl / shell, 'ratio'),
  ];
}

function shellScript(task: string, work: string, runs: number): string {
  const judge = JUDGE.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return `set -e
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b
rm -rf '${work}'; mkdir -p '${work}'
base=$(git -C '${task}' rev-parse HEAD)
i=1
while [ $i -le ${runs} ]; do
  ws='${work}'/run-$i
  git -C '${task}' worktree add --quiet --detach --force "$ws" "$base"
  cp '${join(task, '..', 'prompt.md')}' "$ws/../prompt-$i.md"
  git -C "$ws" add -A; git -C "$ws" commit -q --allow-empty -m before; from=$(git -C "$ws" rev-parse HEAD)
  (cd "$ws" && true > "../agent-$i.out" 2> "../agent-$i.err")
  git -C "$ws" add -A; git -C "$ws" commit -q --allow-empty -m after; to=$(git -C "$ws" rev-parse HEAD)
  git -C "$ws" diff --binary --output="../diff-$i.patch" "$from" "$to" --; git -C "$ws" diff --numstat -z "$from" "$to" -- > /dev/null
  (cd "$ws" && ${judge} > "../judge-$i.out")
  git -C '${task}' worktree remove --force --force "$ws"
  i=$((i + 1))
done
`;
}

function mustRun(program: string, args: string[]): void {
  const run = spawnSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (run.status !== 0) throw new Error(`${program} ${args.join(' ')} exited with ${run.status}: ${String(run.stderr).slice(0, 500)}`);
}

function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from './fixtures.js';
import { result, type BenchResult } from './result.js';

const ROOT = join(import.meta.dirname, '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Run `node <argv>` once, for what it writes. */
export function runNode(argv: string[]): void {
  const run = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (run.status !== 0) throw new Error(`node ${argv.join(' ')} exited with ${run.status}: ${String(run.stderr).slice(0, 500)}`);
}

/** Wall time of `node <argv>`, best of `runs` (after one warm-up), in seconds. */
export function commandSeconds(argv: string[], runs: number, options: { cwd?: string } = {}): number {
  const once = () => {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: options.cwd });
    if (run.status !== 0) throw new Error(`node ${argv.join(' ')} exited with ${run.status}: ${String(run.stderr).slice(0, 500)}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  once();
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, once());
  return best;
}

/**
 * Start-up of the built CLI next to a bare `node -e ''` in the same process:
 * `--version`, and `status` of the demo experiment (run once first).
 */
export function startupBench(runs = 7): BenchResult[] {
  if (!existsSync(CLI)) throw new Error('the CLI is not built: run `npm run build` first');
  return withTempDir((dir) => {
    cpSync(join(ROOT, 'examples', 'demo'), join(dir, 'demo'), { recursive: true });
    const results = join(dir, 'results');
    const demo = spawnSync(process.execPath, [CLI, '--results-dir', results, 'run', join(dir, 'demo', 'experiment.yaml')], { stdio: 'ignore' });
    if (demo.status !== 0) throw new Error(`the demo exited with ${demo.status}`);
    const bare = commandSeconds(['-e', ''], runs);
    return [
      result('startup.version', 'start-up: expctl --version', commandSeconds([CLI, '--version'], runs), 's', bare, "node -e ''"),
      result('startup.status', 'start-up: expctl status demo-001', commandSeconds([CLI, '--results-dir', results, 'status', 'demo-001'], runs), 's', bare, "node -e ''"),
    ];
  });
}

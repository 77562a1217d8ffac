import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Mean wall time of a command over `runs` runs (after one warm-up), in ms. */
function meanMs(argv: string[], runs: number): number {
  spawnSync(process.execPath, argv, { stdio: 'ignore' });
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, argv, { stdio: 'ignore' });
    total += Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`node ${argv.join(' ')} exited with ${result.status}`);
  }
  return total / runs;
}

/**
 * Start-up of the built CLI next to a bare `node -e ''` in the same process:
 * `--version`, and `status` of the demo experiment (run once first).
 */
export function startupBench(runs = 15): string[] {
  if (!existsSync(CLI)) return ['startup: skipped, the CLI is not built (npm run build)'];
  return withTempDir((dir) => {
    cpSync(join(ROOT, 'examples', 'demo'), join(dir, 'demo'), { recursive: true });
    const results = join(dir, 'results');
    const demo = spawnSync(process.execPath, [CLI, '--results-dir', results, 'run', join(dir, 'demo', 'experiment.yaml')], { stdio: 'ignore' });
    if (demo.status !== 0) throw new Error(`the demo exited with ${demo.status}`);
    const bare = meanMs(['-e', ''], runs);
    const line = (label: string, ms: number) => `${label.padEnd(34)} expctl ${ms.toFixed(1).padStart(7)} ms     node -e '' ${bare.toFixed(1).padStart(7)} ms     ratio ${(ms / bare).toFixed(2)}`;
    return [
      line('start-up: expctl --version', meanMs([CLI, '--version'], runs)),
      line('start-up: expctl status demo-001', meanMs([CLI, '--results-dir', results, 'status', 'demo-001'], runs)),
    ];
  });
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { directExecutor, supervisedExecutor, supervisorScript, type CommandRequest, type Executor } from '../workspace/executor.js';
import { withTempDirAsync } from './fixtures.js';
import { result, type BenchResult } from './result.js';

/** Mean wall time (ms) of `runs` commands run one after the other through `executor` (after one warm-up). */
async function perCommandMs(executor: Executor, dir: string, argv: string[], runs: number): Promise<number> {
  const request = (i: number): CommandRequest => ({
    key: `bench/${executor.kind}/${i}`, argv, cwd: dir, env: {}, timeoutMs: 60_000,
    stdoutFile: join(dir, `${executor.kind}-${i}.out`), stderrFile: join(dir, `${executor.kind}-${i}.err`), stateFile: join(dir, `${executor.kind}-${i}.command`),
    resumed: false, notBefore: 0,
  });
  await executor.run(request(-1));
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) {
    const outcome = await executor.run(request(i));
    if (outcome.exitCode !== 0) throw new Error(`${argv.join(' ')} exited with ${outcome.exitCode}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e6 / runs;
}

/** The resident memory (MB) of a supervisor while its command runs. */
async function supervisorRssMb(dir: string): Promise<number> {
  let rss = 0;
  await supervisedExecutor.run({
    key: 'bench/rss', argv: ['sleep', '0.4'], cwd: dir, env: {}, timeoutMs: 60_000,
    stdoutFile: join(dir, 'rss.out'), stderrFile: join(dir, 'rss.err'), stateFile: join(dir, 'rss.command'), resumed: false, notBefore: 0,
    onStart: ({ supervisor }) => {
      setTimeout(() => {
        const status = readFileSync(`/proc/${supervisor!.pid}/status`, 'utf8');
        rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
      }, 200);
    },
  });
  return rss;
}

/**
 * What running a command under a supervisor that outlives the driver costs,
 * next to spawning it directly from the driver, in the same process: the
 * per-command time of `true` both ways, and the supervisor's memory.
 */
export async function executorBench(runs = 30): Promise<BenchResult[]> {
  if (!existsSync(supervisorScript())) throw new Error('the supervisor is not built: run `npm run build` first');
  return withTempDirAsync(async (dir) => {
    const direct = await perCommandMs(directExecutor, dir, ['true'], runs);
    const supervised = await perCommandMs(supervisedExecutor, dir, ['true'], runs);
    const rss = await supervisorRssMb(dir);
    return [
      result('executor.supervised', 'executor: one command (true), supervised', supervised, 'ms', direct, 'spawned directly'),
      result('executor.supervisor_rss', 'executor: supervisor memory per command', rss, 'MB'),
    ];
  });
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { directExecutor, hostedExecutor, supervisedExecutor, supervisorScript, type CommandRequest, type Executor } from '../workspace/executor.js';
import { withTempDirAsync } from './fixtures.js';
import { result, type BenchResult } from './result.js';

/** Mean wall time (ms) of `runs` commands run one after the other through `executor` (after one warm-up). */
async function perCommandMs(executor: Executor, dir: string, argv: string[], runs: number): Promise<number> {
  const request = (i: number): CommandRequest => ({
    key: `bench/${executor.kind}/${i}`, argv, cwd: dir, env: {}, timeoutMs: 60_000,
    stdoutFile: join(dir, `${executor.kind}-${i}.out`), stderrFile: join(dir, `${executor.kind}-${i}.err`), stateFile: join(dir, `${executor.kind}-${i}.command`),
    resumed: false, notBefore: 0, hostDir: join(dir, 'hosts'),
  });
  await executor.run(request(-1));
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) {
    const outcome = await executor.run(request(i));
    if (outcome.exitCode !== 0) throw new Error(`${argv.join(' ')} exited with ${outcome.exitCode}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e6 / runs;
}

/** The resident memory (MB) of the process that supervises a command (its supervisor, or the host) while it runs. */
async function supervisingRssMb(executor: Executor, dir: string): Promise<number> {
  let rss = 0;
  await executor.run({
    key: `bench/rss-${executor.kind}`, argv: ['sleep', '0.4'], cwd: dir, env: {}, timeoutMs: 60_000, hostDir: join(dir, 'hosts'),
    stdoutFile: join(dir, `rss-${executor.kind}.out`), stderrFile: join(dir, `rss-${executor.kind}.err`), stateFile: join(dir, `rss-${executor.kind}.command`), resumed: false, notBefore: 0,
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
 * What running a command so that it outlives the driver costs, next to
 * spawning it directly from the driver, in the same process: the
 * per-command time of `true` on the experiment's executor host (the
 * default), under a supervisor of its own, and directly; and the memory of
 * each.
 */
export async function executorBench(runs = 30): Promise<BenchResult[]> {
  if (!existsSync(supervisorScript())) throw new Error('the supervisor is not built: run `npm run build` first');
  return withTempDirAsync(async (dir) => {
    const direct = await perCommandMs(directExecutor, dir, ['true'], runs);
    const hosted = await perCommandMs(hostedExecutor, dir, ['true'], runs);
    const supervised = await perCommandMs(supervisedExecutor, dir, ['true'], runs);
    const hostRss = await supervisingRssMb(hostedExecutor, dir);
    const rss = await supervisingRssMb(supervisedExecutor, dir);
    return [
      result('executor.hosted', 'executor: one command (true), on the host', hosted, 'ms', direct, 'spawned directly'),
      result('executor.supervised', 'executor: one command (true), supervised', supervised, 'ms', direct, 'spawned directly'),
      result('executor.host_rss', 'executor: the host, for all commands', hostRss, 'MB'),
      result('executor.supervisor_rss', 'executor: a supervisor, per command', rss, 'MB'),
    ];
  });
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { outputOf } from '../engine/index.js';
import { driveExperiment, loadRunConfig } from '../runner/index.js';
import { withTempDirAsync } from './fixtures.js';
import { openExperimentLog as openLog } from '../runner/log.js';

/**
 * Engine overhead on a 3 tiers × 10 subtests × 10 runs matrix whose agent and
 * judge do nothing (`node -e ""`): wall time of the whole experiment next to
 * the summed run times of the commands themselves, measured in this process.
 */
export async function matrixBench(): Promise<string[]> {
  const lines: string[] = [];
  for (const limits of [{ maxConcurrentRuns: 1, maxConcurrentAgents: 1 }, { maxConcurrentRuns: 4, maxConcurrentAgents: 4 }]) {
    lines.push(await withTempDirAsync((dir) => measure(dir, limits)));
  }
  return lines;
}

async function measure(dir: string, limits: { maxConcurrentRuns: number; maxConcurrentAgents: number }): Promise<string> {
  const config = writeMatrix(dir, limits);
  const store = openLog(join(dir, 'results', 'expctl.db'));
  const started = process.hrtime.bigint();
  await driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(config) });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let commandsMs = 0;
  let runs = 0;
  let rows = 0;
  for (const { stream } of store.streams('matrix')) {
    const history = store.readStream(stream);
    rows += history.length;
    if (stream.split('/').length !== 4) continue;
    runs += 1;
    commandsMs += outputOf<{ durationMs: number }>(history, 'runAgent')!.durationMs;
    commandsMs += outputOf<{ durationsMs: number[] }>(history, 'runJudges')!.durationsMs.reduce((a, b) => a + b, 0);
  }
  store.close();
  const engineMs = wallMs * limits.maxConcurrentRuns - commandsMs;
  return [
    `matrix 3×10×10, no-op agent, ${limits.maxConcurrentRuns} run(s) at a time:`.padEnd(54),
    `wall ${(wallMs / 1000).toFixed(1)} s`,
    `commands Σ ${(commandsMs / 1000).toFixed(1)} s`,
    `engine ≈ ${(engineMs / runs).toFixed(0)} ms/run`,
    `(${rows} rows)`,
    `ratio wall×slots/commands ${((wallMs * limits.maxConcurrentRuns) / commandsMs).toFixed(2)}`,
  ].join('   ');
}

function writeMatrix(dir: string, limits: object): string {
  mkdirSync(join(dir, 'task'), { recursive: true });
  writeFileSync(join(dir, 'task', 'README.md'), 'task\n');
  writeFileSync(join(dir, 'prompt.md'), 'nothing to do\n');
  const subtests = Array.from({ length: 10 }, (_, i) => ({ id: `s${i}` }));
  const config = {
    id: 'matrix',
    task: { repo: './task', prompt: './prompt.md' },
    agent: { command: ['node', '-e', ''] },
    judges: [{ command: ['node', '-e', 'console.log(JSON.stringify({ score: 1, passed: true }))'] }],
    runsPerSubtest: 10,
    tiers: ['T0', 'T1', 'T2'].map((id) => ({ id, subtests })),
    limits,
  };
  const file = join(dir, 'experiment.yaml');
  writeFileSync(file, YAML.stringify(config));
  return file;
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { ExperimentConfigInput } from '../../schemas/config.js';

/** A minimal experiment folder (task repo folder, prompt, resource) with a config written from `overrides`. */
export function writeExperiment(dir: string, overrides: Partial<ExperimentConfigInput> = {}): string {
  mkdirSync(join(dir, 'task'), { recursive: true });
  writeFileSync(join(dir, 'task', 'README.md'), '# task\n');
  writeFileSync(join(dir, 'prompt.md'), 'Do the task.\n');
  writeFileSync(join(dir, 'hint.md'), 'A hint.\n');
  const config: ExperimentConfigInput = {
    id: 'exp-1',
    task: { repo: './task', prompt: './prompt.md' },
    agent: { command: ['node', '-e', ''] },
    judges: [{ command: ['node', '-e', 'console.log(JSON.stringify({ score: 1, passed: true }))'] }],
    runsPerSubtest: 2,
    tiers: [
      { id: 'T0', subtests: [{ id: 'a' }, { id: 'b', resources: { files: { 'HINT.md': './hint.md' } } }] },
      { id: 'T1', subtests: [{ id: 'a' }] },
      { id: 'T2', dependsOn: ['T0', 'T1'], subtests: [{ id: 'a', resources: { inheritBaseline: true } }] },
    ],
    retries: { maxAttempts: 2, backoffSeconds: 0 },
    ...overrides,
  };
  const file = join(dir, 'experiment.yaml');
  writeFileSync(file, YAML.stringify(config));
  return file;
}

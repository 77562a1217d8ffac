import { join } from 'node:path';
import type { ExperimentConfigInput } from '../../schemas/config.js';
import { writeExperiment } from './experiment.js';

const fixtures = join(import.meta.dirname, '..', 'cli', 'fixtures');

/** An experiment whose agent and judge log every start to a counter file (env COUNTER_FILE). */
export function writeCountingExperiment(dir: string, overrides: Partial<ExperimentConfigInput> = {}): string {
  return writeExperiment(dir, {
    agent: { command: ['node', join(fixtures, 'counting-agent.mjs'), '{prompt}'], timeoutSeconds: 60 },
    judges: [{ command: ['node', join(fixtures, 'counting-judge.mjs')] }],
    limits: { maxConcurrentRuns: 3, maxConcurrentAgents: 2 },
    ...overrides,
  });
}

export interface CounterLine {
  run: string;
  who: 'agent' | 'judge';
  what: string;
  at: number;
  pid: number;
}

export function parseCounter(text: string): CounterLine[] {
  return text.trim().split('\n').filter(Boolean).map((line) => {
    const [run, who, what, at, pid] = line.split(' ');
    return { run: run!, who: who as CounterLine['who'], what: what!, at: Number(at), pid: Number(pid) };
  });
}

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

describe('bad configs through the CLI: exit 2 with the field, nothing created', () => {
  it.each([
    ['a wrong type', { runsPerSubtest: 'three' }, 'runsPerSubtest: Invalid input: expected number'],
    ['an unknown tier in dependsOn', { tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }, { id: 'T1', dependsOn: ['T9'], subtests: [{ id: 'a' }] }] }, 'tiers[1].dependsOn[0]: unknown tier "T9"; known tiers: T0, T1'],
    ['a missing command', { agent: { timeoutSeconds: 10 } }, 'agent.command: is required'],
    ['a program that does not exist', { agent: { command: ['no-such-agent-program', '{prompt}'] } }, 'agent.command[0]: program "no-such-agent-program" not found on PATH'],
  ])('refuses %s', async (_, overrides, message) => {
    const dir = tempDir();
    const config = writeExperiment(dir, overrides as never);
    const result = await cli(['--results-dir', join(dir, 'results'), 'run', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: config ${config} is invalid:`);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('refuses a file that is not YAML, and a missing file', async () => {
    const dir = tempDir();
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'id: [unclosed\n');
    const broken = await cli(['--results-dir', join(dir, 'results'), 'run', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`error: cannot read config ${file}:`);
    const missing = await cli(['--results-dir', join(dir, 'results'), 'run', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });

  it('refuses to resume with a changed runsPerSubtest (exit 1), naming the field and the way out', async () => {
    const dir = tempDir();
    const resultsDir = join(dir, 'results');
    const env = { COUNTER_FILE: join(dir, 'counter.log'), AGENT_SLEEP_MS: '10' };
    const first = await cli(['--results-dir', resultsDir, 'run', writeCountingExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] })], { env });
    expect(first.code, first.stderr).toBe(0);
    const changed = await cli(['--results-dir', resultsDir, 'run', writeCountingExperiment(dir, { runsPerSubtest: 3, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] })], { env });
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('error: the config of experiment exp-1 changed since it started; changed: runsPerSubtest (1 → 3)');
    expect(changed.stderr).toContain('--fresh');
    const fresh = await cli(['--results-dir', resultsDir, 'run', '--fresh', writeCountingExperiment(dir, { runsPerSubtest: 3, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] })], { env });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain('experiment exp-1~2 complete');
  }, 60_000);

  it('exits 2 on unknown options and unknown experiments, 0 on --help', async () => {
    const dir = tempDir();
    expect((await cli(['run', '--no-such-flag', 'x.yaml'])).code).toBe(2);
    expect((await cli(['--results-dir', dir, 'status', 'nope'])).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('resume [options] <id>');
  });
});

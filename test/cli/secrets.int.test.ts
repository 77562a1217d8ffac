/**
 * Secrets (issue 8): a value named in `secretEnv` reaches the commands from
 * the driver's environment and never a file expctl writes; a change of it is
 * still detected.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();
const SECRET = 'sk-test-5up3r-s3cr3t-v4lu3';
const NAME = 'EXPCTL_TEST_API_KEY';

/** Every file below `dir`, recursively (git objects included). */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }).map((f) => join(dir, String(f))).filter((f) => statSync(f).isFile());
}

function setup() {
  const dir = tempDir();
  // the agent needs the key; the judge fails once, printing the key to stderr, then passes
  const digest = createHash('sha256').update(SECRET).digest('hex');
  const agent = `const key = process.env.${NAME} ?? ''; if (require('crypto').createHash('sha256').update(key).digest('hex') !== '${digest}') process.exit(9); console.log('using key ' + key)`;
  const judge = `const fs = require('fs'); const mark = process.env.EXPCTL_RUN_DIR + '/judged-once';
    if (!fs.existsSync(mark)) { fs.writeFileSync(mark, ''); console.error('auth failed for key ' + process.env.${NAME}); process.exit(1); }
    console.log(JSON.stringify({ score: 1, passed: true, reasoning: 'used key ' + process.env.${NAME} }))`;
  const config = writeExperiment(dir, {
    runsPerSubtest: 1,
    agent: { command: ['node', '-e', agent], secretEnv: [NAME] },
    judges: [{ command: ['node', '-e', judge], secretEnv: [NAME] }],
    tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }],
  });
  const results = join(dir, 'results');
  const run = (env: Record<string, string>, ...args: string[]) => cli(['--results-dir', results, ...args], { env, cwd: dir });
  return { dir, config, results, run };
}

describe('secretEnv', () => {
  it('gives the commands the value and writes it nowhere: not the log, the results, an export, nor a recorded message', async () => {
    const { run, results, dir } = setup();
    const missing = await run({}, 'run', 'experiment.yaml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`agent.secretEnv[0]: $${NAME} is not set in this environment; export it before running (expctl never records its value)`);
    expect(missing.stderr).toContain(`judges[0].secretEnv[0]: $${NAME} is not set`);

    const result = await run({ [NAME]: SECRET }, 'run', 'experiment.yaml');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('1 passed');
    const exported = await run({}, 'export', 'exp-1');
    const history = (await run({}, 'history', 'exp-1', '--json')).stdout;
    const leaks = [...filesBelow(results).filter((f) => readFileSync(f).includes(SECRET)), ...(exported.stdout.includes(SECRET) ? ['export'] : [])];
    expect(leaks).toEqual([]);
    // the judge's failure was recorded with the value replaced by the variable's name, its verdict too, and the commands' output files
    expect(history).toContain(`auth failed for key $${NAME}`);
    expect(readFileSync(join(results, 'exp-1', 'T0', 'a', 'run-01', 'agent', 'stdout.log'), 'utf8')).toBe(`using key $${NAME}\n`);
    expect(readFileSync(join(results, 'exp-1', 'T0', 'a', 'run-01', 'judge', 'judge-1.json'), 'utf8')).toContain(`used key $${NAME}`);
    expect(readFileSync(join(results, 'exp-1', 'T0', 'a', 'run-01', 'result.json'), 'utf8')).not.toContain(SECRET);
    // what the log keeps instead: a salted scrypt digest
    expect(history).toMatch(new RegExp(`"${NAME}": "scrypt:[0-9a-f]{32}"`));
    expect(readFileSync(join(dir, 'experiment.yaml'), 'utf8')).not.toContain(SECRET);
  }, 60_000);

  it('detects a changed or missing value on resume without knowing it', async () => {
    const { run } = setup();
    expect((await run({ [NAME]: SECRET }, 'run', 'experiment.yaml', '--until-run', 'run_prompt_written')).code).toBe(0);
    const changed = await run({ [NAME]: `${SECRET}-rotated` }, 'resume', 'exp-1');
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain(`agent.secretEnv.${NAME} (the value of $${NAME} changed)`);
    expect(changed.stderr).not.toContain(SECRET);
    const unset = await run({}, 'resume', 'exp-1');
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(`agent.secretEnv.${NAME} ($${NAME} is not set)`);
    const same = await run({ [NAME]: SECRET }, 'resume', 'exp-1');
    expect(same.code, same.stderr).toBe(0);
  }, 60_000);

  it('warns about a secret-looking name in agent.env, whose value would be recorded', async () => {
    const dir = tempDir();
    const config = writeExperiment(dir, { agent: { command: ['node', '-e', ''], env: { OPENAI_API_KEY: 'x' } }, runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
    const result = await cli(['--results-dir', join(dir, 'results'), 'run', config]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: agent.env.OPENAI_API_KEY looks like a secret, and agent.env values are recorded in the log, config.json and exports; list it in agent.secretEnv');
  }, 60_000);
});

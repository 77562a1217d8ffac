/**
 * `expctl init [dir]` through the built CLI: it writes a runnable experiment
 * (the config validates, its schema line finds the installed schema, the
 * printed next command runs it to passed runs), never overwrites a file, and
 * refuses bad targets with a clear error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../schemas/config.js';
import { EXPERIMENT_SCHEMA_ID } from '../../schemas/json-schema.js';
import { cli, expctlOnPath } from '../support/cli.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-init-');
const ROOT = resolve(import.meta.dirname, '..', '..');
const STARTER = ['experiment.yaml', 'agents/agent.mjs', 'judges/judge.mjs', 'prompt.md', 'resources/hints.md', 'task/README.md', 'task/src/greet.mjs', 'task/tests/run.mjs'];

/** The schema file the config's first line points editors at, resolved as yaml-language-server does: relative to the config. */
function schemaOf(config: string): string {
  const first = readFileSync(config, 'utf8').split('\n')[0]!;
  const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  expect(match, first).not.toBeNull();
  return resolve(dirname(config), match![1]!);
}

function sh(command: string, cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync('sh', ['-c', command], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('expctl init', () => {
  it('writes a config, task, prompt, agent and judge; the config validates; the printed next command runs it to passed runs', async () => {
    const cwd = tempDir();
    const init = await cli(['init', 'my-eval'], { cwd });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toBe([
      'wrote experiment my-eval into my-eval/:',
      ...STARTER.map((f) => `  my-eval/${f}`),
      "its agent (agents/agent.mjs) is a stand-in that fixes the task's bug; put your agent's command in experiment.yaml (agent.command)",
      'next: expctl run my-eval/experiment.yaml',
      '',
    ].join('\n'));
    for (const file of STARTER) expect(existsSync(join(cwd, 'my-eval', file)), file).toBe(true);

    const config = join(cwd, 'my-eval', 'experiment.yaml');
    const parsed = parseExperimentConfig(YAML.parse(readFileSync(config, 'utf8')));
    expect(parsed.ok && parsed.config.id).toBe('my-eval');
    // the schema line points at this expctl's schema, relative to the config
    expect(schemaOf(config)).toBe(join(ROOT, 'schemas', 'experiment.schema.json'));
    expect(JSON.parse(readFileSync(schemaOf(config), 'utf8')).$id).toBe(EXPERIMENT_SCHEMA_ID);

    // the task fails its tests until the agent fixes it, and the judge says so in the verdict format
    const task = join(cwd, 'my-eval', 'task');
    expect(sh('node tests/run.mjs', task)).toMatchObject({ code: 1, stdout: expect.stringContaining('"passed":1,"total":2') });
    const verdict = sh(`node ${JSON.stringify(join(cwd, 'my-eval', 'judges', 'judge.mjs'))}`, task);
    expect(verdict.code).toBe(0);
    expect(JSON.parse(verdict.stdout.trim().split('\n').at(-1)!)).toMatchObject({ score: 0.5, passed: false, reasoning: 'failed: greets the world without a name' });

    const next = /^next: (expctl .*)$/m.exec(init.stdout)![1]!;
    const run = sh(next, cwd, { PATH: expctlOnPath(cwd) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('experiment my-eval complete: 4 runs: 4 passed, 0 not passed, 0 errored (pass rate 100.0%)');
    const judged = JSON.parse(readFileSync(join(cwd, 'results', 'my-eval', 'T0', '01-hint', 'run-01', 'judge', 'judge-1.json'), 'utf8'));
    expect(judged).toMatchObject({ score: 1, passed: true });
    expect(readFileSync(join(cwd, 'results', 'my-eval', 'T0', '00-baseline', 'run-01', 'diff.patch'), 'utf8')).toContain("+  return `Hello, ${name || 'world'}!`;");
  }, 60_000);

  it('defaults to the current folder, and takes the experiment id from the folder name when it can be one', async () => {
    const cwd = tempDir();
    const init = await cli(['init'], { cwd });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(new RegExp(`^wrote experiment ${basename(cwd)} into \\./:\n {2}experiment\\.yaml\n`));
    expect(init.stdout).toMatch(/^next: expctl run experiment\.yaml$/m);

    const odd = tempDir();
    for (const [name, id] of [['2024', '2024'], ['my eval', 'my-eval'], ['repo', 'my-experiment'], ['.hidden', 'hidden']] as const) {
      const r = await cli(['init', name], { cwd: odd });
      expect(r.code, r.stderr).toBe(0);
      const parsed = parseExperimentConfig(YAML.parse(readFileSync(join(odd, name, 'experiment.yaml'), 'utf8')));
      expect(parsed.ok && parsed.config.id, name).toBe(id);
    }
    // a folder name that needs quoting is quoted in the printed command
    expect((await cli(['init', 'a b'], { cwd: odd })).stdout).toMatch(/^next: expctl run 'a b\/experiment\.yaml'$/m);
  });

  it('names the results directory in the printed command when it is not ./results', async () => {
    const cwd = tempDir();
    const init = await cli(['--results-dir', 'out', 'init', 'x'], { cwd });
    expect(init.stdout).toMatch(new RegExp(`^next: expctl --results-dir ${join(cwd, 'out')} run x/experiment\\.yaml$`, 'm'));
  });

  it('never overwrites a file: refuses naming every file that exists, writes nothing, exit 1', async () => {
    const cwd = tempDir();
    expect((await cli(['init', 'x'], { cwd })).code).toBe(0);
    writeFileSync(join(cwd, 'x', 'prompt.md'), 'my own prompt\n');
    const again = await cli(['init', 'x'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe(
      `error: ${STARTER.map((f) => `x/${f}`).join(', ')} already exist; init never overwrites a file (nothing was written)\n`
      + 'hint: give another folder, e.g. `expctl init my-experiment`, or remove those files first\n',
    );
    expect(readFileSync(join(cwd, 'x', 'prompt.md'), 'utf8')).toBe('my own prompt\n');

    mkdirSync(join(cwd, 'y'));
    writeFileSync(join(cwd, 'y', 'prompt.md'), 'mine\n');
    const one = await cli(['init', 'y'], { cwd });
    expect(one.code).toBe(1);
    expect(one.stderr).toBe('error: y/prompt.md already exists; init never overwrites a file (nothing was written)\nhint: give another folder, e.g. `expctl init my-experiment`, or remove that file first\n');
    expect(existsSync(join(cwd, 'y', 'experiment.yaml'))).toBe(false);
  });

  it('refuses a target that is a file, exit 2', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'notes.txt'), 'x\n');
    const r = await cli(['init', 'notes.txt'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: notes.txt is a file, not a folder\nhint: give the folder to write the experiment into: `expctl init my-experiment` (it is created when missing)\n');
  });

  it('from an installed package: the schema line points into node_modules/expctl, which ships the schema and the starter', async () => {
    // the files `npm pack` puts in the package, laid out as `npm install` does
    const project = tempDir();
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['schemas/experiment.schema.json', ...STARTER.map((f) => `examples/starter/${f}`), 'dist/cli/init.js']));
    const installed = join(project, 'node_modules', 'expctl');
    for (const file of files) cpSync(join(ROOT, file), join(installed, file));
    symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
    const init = spawnSync(process.execPath, [join(installed, 'dist', 'cli', 'main.js'), 'init', 'evals/first'], { cwd: project, encoding: 'utf8' });
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    const config = join(project, 'evals', 'first', 'experiment.yaml');
    expect(readFileSync(config, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../../node_modules/expctl/schemas/experiment.schema.json');
    expect(existsSync(schemaOf(config))).toBe(true);
  });
});

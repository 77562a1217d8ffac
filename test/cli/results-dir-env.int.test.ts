/**
 * EXPCTL_RESULTS_DIR: the default of --results-dir when set and not empty
 * (the flag still wins), shown in --help; and the commands expctl prints
 * under it work when pasted into the same shell.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expctlOnPath } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-results-env-');

function setup() {
  const dir = tempDir();
  writeExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
  return { dir, config: 'experiment.yaml', path: expctlOnPath(dir) };
}

/** The `status:` command `run` printed last. */
const statusHint = (stdout: string) => /^status: +(expctl .*)$/m.exec(stdout)?.[1];

/** A printed command pasted into a shell with this environment, in `cwd`. */
function paste(command: string, cwd: string, env: Record<string, string>) {
  const r = spawnSync('sh', ['-c', command], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('EXPCTL_RESULTS_DIR', () => {
  it('is the default results directory; the printed commands name it, so they work pasted into the same shell', async () => {
    const { dir, config, path } = setup();
    const env = { EXPCTL_RESULTS_DIR: 'from-env' };
    const run = await cli(['run', config], { cwd: dir, env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, 'from-env', 'expctl.db'))).toBe(true);
    expect(existsSync(join(dir, 'results'))).toBe(false);
    const hint = statusHint(run.stdout);
    expect(hint).toBe(`expctl --results-dir ${join(dir, 'from-env')} status exp-1`);
    const pasted = paste(hint!, dir, { ...env, PATH: path });
    expect(pasted.stderr).toBe('');
    expect(pasted.stdout).toMatch(/^exp-1 {2}1\/1 passed 100\.0% .*\n {2}exp_complete · runs 1\/1 done/);
    // and where the variable is not set (another shell, a CI log)
    expect(paste(hint!, dir, { EXPCTL_RESULTS_DIR: '', PATH: path }).stdout).toMatch(/^exp-1 {2}1\/1 passed/);
    // every command reads the same default
    expect((await cli(['status'], { cwd: dir, env })).stdout).toMatch(/^exp-1 +1\/1 passed/);
  });

  it('loses to --results-dir; a command printed for ./results names it, so the variable does not send it elsewhere', async () => {
    const { dir, config, path } = setup();
    const env = { EXPCTL_RESULTS_DIR: join(dir, 'elsewhere') };
    const run = await cli(['--results-dir', './results', 'run', config], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'results', 'expctl.db'))).toBe(true);
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
    const hint = statusHint(run.stdout);
    expect(hint).toBe(`expctl --results-dir ${join(dir, 'results')} status exp-1`);
    expect(paste(hint!, dir, { ...env, PATH: path }).stdout).toMatch(/^exp-1 {2}1\/1 passed/);
    // the commands in error hints too
    const unknown = await cli(['--results-dir', './results', 'status', 'nope'], { cwd: dir, env });
    expect(unknown.stderr).toContain(`hint: known experiments: exp-1 (see \`expctl --results-dir ${join(dir, 'results')} status\`)`);
    // without the flag, the variable decides: nothing there yet
    const elsewhere = await cli(['status', 'exp-1'], { cwd: dir, env });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`error: no event log in ${join(dir, 'elsewhere')}`);
  });

  it('set but empty is as unset: ./results, and the printed commands need no --results-dir', async () => {
    const { dir, config } = setup();
    const run = await cli(['run', config], { cwd: dir, env: { EXPCTL_RESULTS_DIR: '' } });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'results', 'expctl.db'))).toBe(true);
    expect(statusHint(run.stdout)).toBe('expctl status exp-1');
  });

  it('is shown in --help', async () => {
    const help = await cli(['--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('--results-dir <dir> results directory; the event log is <dir>/expctl.db (default: "./results", env: EXPCTL_RESULTS_DIR)');
  });
});

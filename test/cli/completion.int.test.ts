/**
 * Shell completion, for real: bash sources the script `expctl completion
 * bash` prints, the completion function runs with COMP_WORDS/COMP_CWORD set
 * as bash sets them, and it calls the built CLI as `expctl` on PATH. The
 * experiment ids come from a log written by running an experiment through
 * the built CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stoppableStates } from '../../runner/holds.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { resettableStates } from '../../runner/resume/reexecute.js';
import { cli, expctlOnPath } from '../support/cli.js';

let dir: string;
let path: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expctl-completion-'));
  path = expctlOnPath(dir);
  expect((await cli(['init', 'exp'], { cwd: dir })).code).toBe(0);
  writeFileSync(join(dir, 'notes.txt'), 'x\n');
  for (const args of [['run', 'exp/experiment.yaml'], ['run', 'exp/experiment.yaml', '--fresh']]) {
    const run = await cli(args, { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash offers for the last word of `words` (COMPREPLY, in order), with the script loaded as the README says. */
function bash(words: string[], options: { cwd?: string; env?: Record<string, string> } = {}): string[] {
  const script = 'source <(expctl completion bash) || exit 9; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _expctl; printf "%s\\n" "${COMPREPLY[@]}"';
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script, 'bash', ...words], { cwd: options.cwd ?? dir, env: { ...process.env, BASH_ENV: '', PATH: path, ...options.env }, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

const COMMANDS = ['init', 'run', 'resume', 'status', 'watch', 'show', 'logs', 'history', 'diff', 'fork', 'verify', 'report', 'compare', 'export', 'import', 'graph', 'coverage', 'view', 'inspect', 'serve', 'completion', 'help'];

describe('bash completion', () => {
  it('registers for expctl and completes command names (not the hidden __complete)', () => {
    const r = spawnSync('bash', ['--norc', '-c', 'source <(expctl completion bash); complete -p expctl'], { env: { ...process.env, PATH: path }, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('complete -F _expctl expctl');
    expect(bash(['expctl', ''])).toEqual(COMMANDS);
    expect(bash(['expctl', 'st'])).toEqual(['status']);
    expect(bash(['expctl', 're'])).toEqual(['resume', 'report']);
    expect(bash(['expctl', '--results-dir', 'results', 'v'])).toEqual(['verify', 'view']);
    expect(bash(['expctl', 'help', 'co'])).toEqual(['compare', 'coverage', 'completion']);
    expect(bash(['expctl', 'se'])).toEqual(['serve']);
    expect(bash(['expctl', '__'])).toEqual([]);
  });

  it('completes the options of the current command, without those already given', () => {
    expect(bash(['expctl', 'history', 'exp', '--j'])).toEqual(['--json', '--jsonl']);
    expect(bash(['expctl', 'history', 'exp', '--json', '--j'])).toEqual(['--jsonl']);
    expect(bash(['expctl', 'run', 'exp/experiment.yaml', '--until-'])).toEqual(['--until-experiment', '--until-tier', '--until-run']);
    expect(bash(['expctl', 'status', '--'])).toEqual(['--json', '--failed', '--help', '--results-dir']);
    expect(bash(['expctl', '--'])).toEqual(['--version', '--results-dir', '--help']);
    expect(bash(['expctl', 'serve', '--'])).toEqual(['--port', '--host', '--allow-remote', '--help', '--results-dir']);
  });

  it('completes experiment ids from the log of the results directory in use', () => {
    expect(bash(['expctl', 'status', ''])).toEqual(['exp', 'exp~2']);
    expect(bash(['expctl', 'resume', 'exp~'])).toEqual(['exp~2']);
    expect(bash(['expctl', 'coverage', 'exp', ''])).toEqual(['exp', 'exp~2']);
    // a results directory without a log has none; the one on the command line or in EXPCTL_RESULTS_DIR is used
    expect(bash(['expctl', '--results-dir', 'elsewhere', 'status', ''])).toEqual([]);
    const other = join(dir, 'exp');
    expect(bash(['expctl', '--results-dir', join(dir, 'results'), 'verify', ''], { cwd: other })).toEqual(['exp', 'exp~2']);
    expect(bash(['expctl', 'report', 'e'], { cwd: other, env: { EXPCTL_RESULTS_DIR: join(dir, 'results') } })).toEqual(['exp', 'exp~2']);
    expect(bash(['expctl', 'view', ''], { cwd: other })).toEqual([]);
    // only where an id goes
    expect(bash(['expctl', 'diff', 'exp', ''])).toEqual([]);
  });

  it('completes state names where a flag takes one: --until-* the states it can stop at, --from-* every state', () => {
    expect(bash(['expctl', 'run', 'exp/experiment.yaml', '--until-run', ''])).toEqual(stoppableStates('run'));
    expect(bash(['expctl', 'resume', 'exp', '--until-tier', 'tier_s'])).toEqual(stoppableStates('tier').filter((s) => s.startsWith('tier_s')));
    expect(bash(['expctl', 'resume', 'exp', '--until-experiment', ''])).toEqual(stoppableStates('experiment'));
    expect(bash(['expctl', 'resume', 'exp', '--from-experiment', ''])).toEqual(resettableStates('experiment'));
    expect(bash(['expctl', 'resume', 'exp', '--from-run', 'run_f'])).toEqual(['run_finalized', 'run_failed']);
    expect(stoppableStates('run')).not.toContain('run_failed');
  });

  it('completes choices, machine names and paths; nothing for free text', () => {
    expect(bash(['expctl', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(bash(['expctl', 'export', 'exp', '--format', ''])).toEqual(['jsonl']);
    expect(bash(['expctl', 'resume', 'exp', '--from-run', 'run_pending', '--filter-status', ''])).toEqual(['passed', 'failed']);
    expect(bash(['expctl', 'graph', ''])).toEqual([...lifecycleRegistry.keys()]);
    expect(bash(['expctl', 'run', 'exp/exp'])).toEqual(['exp/experiment.yaml']);
    expect(bash(['expctl', 'run', '']).sort()).toEqual(['bin', 'exp', 'notes.txt', 'results']);
    expect(bash(['expctl', '--results-dir', '']).sort()).toEqual(['bin', 'exp', 'results']);
    expect(bash(['expctl', 'init', 'e'])).toEqual(['exp']);
    expect(bash(['expctl', 'resume', 'exp', '--reason', ''])).toEqual([]);
    expect(bash(['expctl', 'history', 'exp', '--at', ''])).toEqual([]);
  });
});

describe('expctl completion', () => {
  it('prints the zsh and fish scripts, which hand the command line to the same completer', async () => {
    const zsh = await cli(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout.split('\n')[0]).toBe('#compdef expctl');
    expect(zsh.stdout).toContain('__complete -- "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}"');
    const fish = await cli(['completion', 'fish']);
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("complete -c expctl -f -a '(__expctl_complete)'");
  });

  it('refuses another shell, naming the ones it knows (exit 2)', async () => {
    const r = await cli(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish.");
  });
});

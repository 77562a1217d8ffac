import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CommandStartError,
  lastJsonLine,
  resolveCommand,
  runCommand,
  type CommandSpec,
  type StartedProcess,
} from '../../workspace/process.js';
import { stopStrayProcesses } from '../../workspace/strays.js';
import { processStartTicks } from '../../util/procfs.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-process-');
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/process/${name}`, import.meta.url));
const node = process.execPath;

// Every process a test starts (or learns about) is killed afterwards, even when the test failed.
const startedGroups: number[] = [];
const startedPids: number[] = [];
afterEach(() => {
  for (const pgid of startedGroups.splice(0)) ignoreErrors(() => process.kill(-pgid, 'SIGKILL'));
  for (const pid of startedPids.splice(0)) ignoreErrors(() => process.kill(pid, 'SIGKILL'));
});

function ignoreErrors(action: () => void): void {
  try {
    action();
  } catch {
    // already gone
  }
}

/** Running means present in /proc and not a zombie (a zombie whose parent died may never be reaped here). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads a pid the fixture wrote, once it is there, and registers it for cleanup. */
async function pidFrom(file: string): Promise<number> {
  await waitFor(() => existsSync(file), `pid file ${file}`);
  const pid = Number(readFileSync(file, 'utf8'));
  startedPids.push(pid);
  return pid;
}

function spec(dir: string, argv: string[], extra: Partial<CommandSpec> = {}): CommandSpec {
  return {
    argv,
    cwd: dir,
    env: {},
    timeoutMs: 10_000,
    stdoutFile: join(dir, 'out', 'stdout.txt'),
    stderrFile: join(dir, 'out', 'stderr.txt'),
    onStart: (info) => startedGroups.push(info.pgid),
    ...extra,
  };
}

/** A detached process that runs until killed, started the way a dead driver would have left it. */
async function startStray(env: Record<string, string>, args = ['-e', 'setInterval(() => {}, 1000)']): Promise<number> {
  const child = spawn(node, args, { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  child.unref();
  const pid = child.pid!;
  startedGroups.push(pid);
  // Until exec, /proc/<pid>/environ still shows the parent's environment.
  const key = env.EXPCTL_EFFECT_KEY;
  if (key) await waitFor(() => environOf(pid).includes(`EXPCTL_EFFECT_KEY=${key}`), 'the stray to exec');
  return pid;
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  } catch {
    return [];
  }
}

describe('runCommand', () => {
  it('writes stdout and stderr to their files (creating the directories) and reports exit code and duration', async () => {
    const dir = tempDir();
    const result = await runCommand(spec(dir, [node, fixture('report.mjs')], { env: { EXIT_CODE: '3', SLEEP_MS: '200' } }));
    expect(readFileSync(join(dir, 'out', 'stdout.txt'), 'utf8')).toBe('to stdout\n');
    expect(readFileSync(join(dir, 'out', 'stderr.txt'), 'utf8')).toBe('to stderr\n');
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('runs the program in cwd with the driver environment plus the extra variables', async () => {
    const dir = tempDir();
    const report = join(dir, 'report.json');
    const extra = { REPORT_FILE: report, EXPCTL_TEST_EXTRA: 'a value with spaces', HOME: '/overridden/home' };
    await runCommand(spec(dir, [node, fixture('report.mjs')], { env: extra }));
    const seen = JSON.parse(readFileSync(report, 'utf8'));
    expect(seen.cwd).toBe(realpathSync(dir));
    expect(seen.env).toMatchObject({ EXPCTL_TEST_EXTRA: 'a value with spaces', HOME: '/overridden/home', PATH: process.env.PATH });
  });

  it('reports pid, pgid and start ticks through onStart while the command leads its own process group', async () => {
    const dir = tempDir();
    const report = join(dir, 'report.json');
    let started: StartedProcess | undefined;
    let ticksWhileRunning: number | null = null;
    await runCommand(spec(dir, [node, fixture('report.mjs')], {
      env: { REPORT_FILE: report },
      onStart: (info) => {
        started = info;
        startedGroups.push(info.pgid);
        ticksWhileRunning = processStartTicks(info.pid);
      },
    }));
    const seen = JSON.parse(readFileSync(report, 'utf8'));
    expect(started).toEqual({ pid: seen.pid, pgid: seen.pid, startTicks: expect.any(Number) });
    expect(seen.pgrp).toBe(seen.pid);
    expect(started!.startTicks).toBe(ticksWhileRunning);
  });

  it('passes placeholder values with shell metacharacters to the program byte for byte', async () => {
    const dir = tempDir();
    const report = join(dir, 'report.json');
    const prompt = `$(rm -rf /) \`id\` 'single' "double"; echo pwned && exit 1 | cat > /tmp/x\nsecond line * ? ~ $HOME $& $1 {other} é`;
    const argv = resolveCommand(['node', './report.mjs', '{prompt}', '--prompt={prompt}!', '{"keep": {json}}'], {
      configDir: fixture(''),
      vars: { prompt, other: 'must not be substituted inside a value' },
    });
    expect(argv[1]).toBe(fixture('report.mjs'));
    await runCommand(spec(dir, [node, ...argv.slice(1)], { env: { REPORT_FILE: report } }));
    const seen = JSON.parse(readFileSync(report, 'utf8'));
    expect(seen.argv).toEqual([prompt, `--prompt=${prompt}!`, '{"keep": {json}}']);
  });

  it("kills the agent's grandchildren when the timeout fires", async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    let leader = 0;
    const result = await runCommand(spec(dir, [node, fixture('tree.mjs'), pidFile, 'stay'], {
      timeoutMs: 1000,
      onStart: (info) => {
        leader = info.pid;
        startedGroups.push(info.pgid);
      },
    }));
    const grandchild = await pidFrom(pidFile);
    expect(result).toMatchObject({ timedOut: true, aborted: false, exitCode: null, signal: 'SIGTERM' });
    expect(result.durationMs).toBeGreaterThanOrEqual(990);
    expect(isRunning(grandchild)).toBe(false);
    expect(isRunning(leader)).toBe(false);
  });

  it('kills what the command left running in its group when it exits on its own', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const result = await runCommand(spec(dir, [node, fixture('tree.mjs'), pidFile, 'exit']));
    const grandchild = await pidFrom(pidFile);
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, aborted: false });
    expect(isRunning(grandchild)).toBe(false);
  });

  it('stops the whole group when aborted mid-run', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const controller = new AbortController();
    const running = runCommand(spec(dir, [node, fixture('tree.mjs'), pidFile, 'stay'], { signal: controller.signal }));
    const grandchild = await pidFrom(pidFile);
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null, signal: 'SIGTERM' });
    expect(isRunning(grandchild)).toBe(false);
  });

  it('sends SIGKILL after the grace period to a command that ignores SIGTERM', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const controller = new AbortController();
    const argv = [node, fixture('tree.mjs'), pidFile, 'ignore-term'];
    const running = runCommand(spec(dir, argv, { signal: controller.signal, graceMs: 300 }));
    const grandchild = await pidFrom(pidFile);
    const abortedAt = performance.now();
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ aborted: true, exitCode: null, signal: 'SIGKILL' });
    expect(performance.now() - abortedAt).toBeGreaterThanOrEqual(290);
    expect(isRunning(grandchild)).toBe(false);
  });

  it('stops the command and rethrows when onStart fails to record it', async () => {
    const dir = tempDir();
    let leader = 0;
    const failure = new Error('could not record the pgid');
    const running = runCommand(spec(dir, [node, fixture('tree.mjs'), join(dir, 'grandchild.pid'), 'stay'], {
      onStart: (info) => {
        leader = info.pid;
        startedGroups.push(info.pgid);
        throw failure;
      },
    }));
    await expect(running).rejects.toBe(failure);
    expect(isRunning(leader)).toBe(false);
  });

  it('does not start the command when the signal is already aborted', async () => {
    const dir = tempDir();
    const report = join(dir, 'report.json');
    const onStart = vi.fn();
    const aborted = { env: { REPORT_FILE: report }, signal: AbortSignal.abort(), onStart };
    const result = await runCommand(spec(dir, [node, fixture('report.mjs')], aborted));
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null, signal: null });
    expect(onStart).not.toHaveBeenCalled();
    expect(existsSync(report)).toBe(false);
    expect(existsSync(join(dir, 'out', 'stdout.txt'))).toBe(false);
  });

  it('rejects with CommandStartError naming a program that does not exist', async () => {
    const dir = tempDir();
    const missing = join(dir, 'no-such-agent');
    const onStart = vi.fn();
    const error = await runCommand(spec(dir, [missing, '--flag'], { onStart })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandStartError);
    expect(error).toMatchObject({ code: 'EXPCTL_COMMAND_START', program: missing, hint: expect.stringContaining('PATH') });
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toContain('ENOENT');
    expect(onStart).not.toHaveBeenCalled();
  });

  it('rejects with CommandStartError when the program is not executable', async () => {
    const dir = tempDir();
    const script = join(dir, 'agent.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const error = await runCommand(spec(dir, [script])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandStartError);
    expect((error as Error).message).toContain(script);
    expect((error as Error).message).toContain('EACCES');
  });

  it('says so when the working directory is missing rather than blaming the program', async () => {
    const dir = tempDir();
    const cwd = join(dir, 'gone');
    const error = await runCommand({ ...spec(dir, [node, '-e', '']), cwd }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandStartError);
    expect((error as Error).message).toContain(`working directory ${cwd} does not exist`);
  });
});

describe('resolveCommand', () => {
  const configDir = '/exp/configs';

  it('replaces every occurrence of a placeholder, also with text around it', () => {
    const argv = resolveCommand(['agent', '--task={task}', '{task}-{task}', '{model}'], { configDir, vars: { task: 'T0', model: 'm-1' } });
    expect(argv).toEqual(['agent', '--task=T0', 'T0-T0', 'm-1']);
  });

  it('leaves unknown placeholders and JSON text as written', () => {
    const argv = resolveCommand(['agent', '{foo}', '{"a": {"b": [1, {}]}}', '{ task }', '{task'], { configDir, vars: { task: 'T0' } });
    expect(argv).toEqual(['agent', '{foo}', '{"a": {"b": [1, {}]}}', '{ task }', '{task']);
  });

  it('resolves ./ and ../ elements against configDir and leaves other elements alone', () => {
    const argv = resolveCommand(['./agent.mjs', '../bin/{tool}', 'node', 'relative/x', '--file=./x', '/abs/y'], { configDir, vars: { tool: 'judge' } });
    expect(argv).toEqual(['/exp/configs/agent.mjs', '/exp/bin/judge', 'node', 'relative/x', '--file=./x', '/abs/y']);
  });

  it('offers configDir as {configDir}', () => {
    expect(resolveCommand(['{configDir}/run.sh'], { configDir, vars: {} })).toEqual(['/exp/configs/run.sh']);
  });

  it('never rewrites a value that merely looks like a relative path', () => {
    const argv = resolveCommand(['agent', '{prompt}'], { configDir, vars: { prompt: '../notes are here' } });
    expect(argv).toEqual(['agent', '../notes are here']);
  });

  it('inserts values literally: no $-patterns, no second round of placeholders', () => {
    const argv = resolveCommand(['{a}', '{b}'], { configDir, vars: { a: "$& $1 $' $`", b: '{a} {configDir}' } });
    expect(argv).toEqual(["$& $1 $' $`", '{a} {configDir}']);
  });
});

describe('lastJsonLine', () => {
  it('picks the last JSON object line, skipping trailing lines that are not objects', () => {
    const text = [
      'starting agent',
      '{"tokens": 1}',
      '  {"tokens": 123, "costUsd": 0.01}  ',
      '[{"tokens": 999}]',
      '42',
      '"a string"',
      'null',
      '{not json',
      'done.',
      '',
    ].join('\r\n');
    expect(lastJsonLine(text)).toEqual({ tokens: 123, costUsd: 0.01 });
  });

  it('returns null when no line is a JSON object', () => {
    expect(lastJsonLine('')).toBeNull();
    expect(lastJsonLine('plain output\n[1, 2]\ntrue\n{"unterminated": \n')).toBeNull();
  });
});

describe('processStartTicks', () => {
  it('reads the start time of a running process and gives null for one that is gone', () => {
    const own = processStartTicks(process.pid);
    expect(Number.isInteger(own)).toBe(true);
    const finished = spawnSync('true');
    expect(finished.pid).toBeGreaterThan(0);
    expect(processStartTicks(finished.pid)).toBeNull();
    expect(processStartTicks(0)).toBeNull();
    expect(processStartTicks(-1)).toBeNull();
  });

  it('counts fields after the last parenthesis when the process name contains spaces and parentheses', async () => {
    const dir = tempDir();
    const oddName = join(dir, 'x) (y z');
    copyFileSync('/bin/sleep', oddName);
    chmodSync(oddName, 0o755);
    const child = spawn(oddName, ['30'], { stdio: 'ignore' });
    startedPids.push(child.pid!);
    await waitFor(() => readFileSync(`/proc/${child.pid}/stat`, 'latin1').includes('(x) (y z)'), 'the odd name to show in /proc');
    const ticks = processStartTicks(child.pid!)!;
    const nowTicks = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100;
    // Started after this test process and before now (in 1/100 s clock ticks).
    expect(ticks).toBeGreaterThanOrEqual(processStartTicks(process.pid)!);
    expect(ticks).toBeLessThanOrEqual(nowTicks + 1);
    child.kill('SIGKILL');
  });
});

describe('stopStrayProcesses', () => {
  it('stops the group of a process carrying the effect key, and only that key', async () => {
    const key = `k1-${randomUUID()}`;
    const stray = await startStray({ EXPCTL_EFFECT_KEY: key });
    const bystander = await startStray({ EXPCTL_EFFECT_KEY: `${key}-other` });
    expect(await stopStrayProcesses({ pgids: [], envKeys: [key] })).toEqual([stray]);
    expect(isRunning(stray)).toBe(false);
    expect(isRunning(bystander)).toBe(true);
  });

  it('leaves a process with the same key alone when its run lies in another results folder (an experiment of the same id)', async () => {
    const key = `exp-1/T0/a/1/run_prompt_written/1-${randomUUID()}`;
    const here = await startStray({ EXPCTL_EFFECT_KEY: key, EXPCTL_RUN_DIR: '/data/results-a/exp-1/T0/a/run-01' });
    const elsewhere = await startStray({ EXPCTL_EFFECT_KEY: key, EXPCTL_RUN_DIR: '/data/results-b/exp-1/T0/a/run-01' });
    expect(await stopStrayProcesses({ pgids: [], envKeys: [key], scope: '/data/results-a/exp-1' })).toEqual([here]);
    expect(isRunning(here)).toBe(false);
    expect(isRunning(elsewhere), 'the other folder\'s command carries on').toBe(true);
  });

  it('stops a recorded process group whose leader has the recorded start ticks', async () => {
    const stray = await startStray({});
    const killed = await stopStrayProcesses({ pgids: [{ pgid: stray, startTicks: processStartTicks(stray) }], envKeys: [] });
    expect(killed).toEqual([stray]);
    expect(isRunning(stray)).toBe(false);
  });

  it('leaves a recorded pgid alone when its start ticks show the pid now belongs to another process', async () => {
    const other = await startStray({});
    const killed = await stopStrayProcesses({ pgids: [{ pgid: other, startTicks: processStartTicks(other)! - 1 }], envKeys: [] });
    expect(killed).toEqual([]);
    expect(isRunning(other)).toBe(true);
  });

  it('stops what is left of a recorded group whose leader already exited', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const leader = await startStray({}, [fixture('tree.mjs'), pidFile, 'exit']);
    const grandchild = await pidFrom(pidFile);
    // Reaped, not just a zombie: with no leader left, the recorded start ticks cannot be compared.
    await waitFor(() => !existsSync(`/proc/${leader}`), 'the leader to be reaped');
    const killed = await stopStrayProcesses({ pgids: [{ pgid: leader, startTicks: 12345 }], envKeys: [] });
    expect(killed).toEqual([leader]);
    expect(isRunning(grandchild)).toBe(false);
  });

  it('escalates to SIGKILL when a stray ignores SIGTERM', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const key = `k2-${randomUUID()}`;
    const leader = await startStray({ EXPCTL_EFFECT_KEY: key }, [fixture('tree.mjs'), pidFile, 'ignore-term']);
    await pidFrom(pidFile); // SIGTERM is ignored from here on
    expect(await stopStrayProcesses({ pgids: [], envKeys: [key] })).toEqual([leader]);
    expect(isRunning(leader)).toBe(false);
  });

  it('never stops its own process or its own process group', async () => {
    // Run inside a detached sandbox so that a regression kills the sandbox, not the test runner.
    const dir = tempDir();
    const key = `k3-${randomUUID()}`;
    const sandbox = spec(dir, [node, '--import', 'tsx', fixture('own-group.ts')], { cwd: repoRoot, env: { EXPCTL_EFFECT_KEY: key } });
    const result = await runCommand(sandbox);
    expect(result).toMatchObject({ exitCode: 0, signal: null });
    expect(lastJsonLine(readFileSync(sandbox.stdoutFile, 'utf8'))).toEqual({ killed: [], siblingAlive: true });
  });
});

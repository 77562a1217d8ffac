import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Short commands (git's) run by small long-lived `sh` processes instead of
 * being spawned by Node one by one. A Node process pays ~5 ms per spawn (its
 * large address space is copied at fork, and every child gets three pipes);
 * a shell forks a command in ~1 ms. A run's workspace steps are ~10 git
 * commands, so this is most of what a run costs beyond its own work
 * (bench: run.overhead_vs_shell).
 *
 * Each request is a list of argv vectors run one after the other in `cwd`,
 * stopping at the first that fails; stdin is /dev/null, stdout and stderr go
 * to files of a private folder and are read back. A shell serves one request
 * at a time; the pool starts another for a concurrent request and keeps idle
 * ones. The shells hold no reference on the event loop while idle, and exit
 * when the driver does (their stdin closes). The environment a command sees is
 * the driver's at the time of the request: when it changes, new shells are
 * started.
 */

export interface Sequence {
  /** The folder the commands run in; a missing one fails the first command. */
  cwd: string;
  /** Argv vectors, run in turn while each succeeds. */
  commands: readonly (readonly string[])[];
  /** Variables set for every command of this request. */
  env?: Readonly<Record<string, string>>;
  /** Variables of the driver's environment the commands must not see. */
  unset?: readonly string[];
}

export interface SequenceResult {
  /** 0 when every command succeeded, else the exit status of the one that failed (127: not found). */
  code: number;
  /** The index of the command that failed (-1: entering cwd failed; commands.length when none did). */
  failed: number;
  /** What the commands printed, in turn (the failing one's included). */
  stdout: string;
  stderr: string;
}

/** Single-quotes a word for sh: safe for any bytes but NUL. */
export function quote(word: string): string {
  if (word.includes('\0')) throw new Error('a shell word cannot hold a NUL byte');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

interface Pending {
  id: number;
  resolve: (result: SequenceResult) => void;
  reject: (error: Error) => void;
  commands: number;
}

class Shell {
  readonly child: ChildProcessWithoutNullStreams;
  private pending: Pending | null = null;
  private buffer = '';
  dead = false;

  constructor(env: NodeJS.ProcessEnv, private readonly dir: string, private readonly onIdle: (shell: Shell) => void) {
    this.child = spawn('/bin/sh', ['-s'], { env, stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.read(chunk));
    this.child.stderr.resume();
    this.child.stdin.on('error', () => this.die(new Error('the command shell closed its input')));
    this.child.on('error', (error) => this.die(error));
    this.child.on('exit', (code, signal) => this.die(new Error(`the command shell exited (${signal ?? code})`)));
    this.hold(false);
  }

  run(id: number, sequence: Sequence): Promise<SequenceResult> {
    // built first: a word the shell cannot hold (a NUL byte) rejects here, leaving the shell idle
    const text = script(id, sequence, this.dir);
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject, commands: sequence.commands.length };
      this.hold(true);
      this.child.stdin.write(text);
    });
  }

  /** While a request is out, the shell keeps the process alive; idle, it does not. */
  private hold(busy: boolean): void {
    const streams = [this.child.stdout, this.child.stderr, this.child.stdin] as unknown as { ref(): void; unref(): void }[];
    if (busy) {
      this.child.ref();
      for (const s of streams) s.ref?.();
    } else {
      this.child.unref();
      for (const s of streams) s.unref?.();
    }
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      const [id, code, step] = line.split(' ').map(Number);
      const pending = this.pending;
      if (!pending || id !== pending.id) continue;
      this.pending = null;
      this.hold(false);
      const files = [join(this.dir, `${id}.out`), join(this.dir, `${id}.err`)];
      const [stdout, stderr] = files.map((file) => readFileSync(file, 'utf8'));
      for (const file of files) unlinkSync(file);
      pending.resolve({ code: code!, failed: code === 0 ? pending.commands : step! - 1, stdout: stdout!, stderr: stderr! });
      this.onIdle(this);
    }
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }

  close(): void {
    this.dead = true;
    this.child.stdin.end();
  }
}

/**
 * The text a shell runs for one request: enter cwd, run each command with
 * stdin from /dev/null while the last succeeded, counting them in `s`, then
 * print `<id> <status> <s>` on the protocol's stdout.
 */
function script(id: number, { cwd, commands, env = {}, unset = [] }: Sequence, dir: string): string {
  const unsets = unset.length === 0 ? '' : `unset ${unset.join(' ')}; `;
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${quote(value)} `).join('');
  const steps = commands.map((argv, i) => `s=${i + 1} && ${assignments}${argv.map(quote).join(' ')}`);
  const body = [`cd -- ${quote(cwd)}`, ...steps].join(' && ');
  return `${unsets}s=0; { ${body}; } </dev/null >${quote(join(dir, `${id}.out`))} 2>${quote(join(dir, `${id}.err`))}; printf '${id} %d %d\\n' "$?" "$s"; cd /\n`;
}

/** The pool of shells of this process. */
class ShellPool {
  private idle: Shell[] = [];
  private all = new Set<Shell>();
  private next = 1;
  private envKey = '';
  private dir: string | null = null;

  async run(sequence: Sequence): Promise<SequenceResult> {
    const shell = this.take();
    try {
      return await shell.run(this.next++, sequence);
    } catch (error) {
      if (!shell.dead) this.idle.push(shell);
      throw error;
    }
  }

  private take(): Shell {
    const envKey = JSON.stringify(process.env);
    if (envKey !== this.envKey) {
      // the driver's environment changed: the commands must see the new one
      for (const shell of this.idle) this.retire(shell);
      this.envKey = envKey;
    }
    let shell = this.idle.pop();
    while (shell?.dead) {
      this.all.delete(shell);
      shell = this.idle.pop();
    }
    if (shell) return shell;
    this.dir ??= mkdtempSync(join(tmpdir(), 'expctl-sh-'));
    // back to the idle ones when done; the next take() retires it if the environment changed meanwhile
    const created: Shell = new Shell({ ...process.env }, this.dir, (s) => {
      if (!s.dead) this.idle.push(s);
    });
    this.all.add(created);
    created.child.on('exit', () => {
      this.all.delete(created);
      this.idle = this.idle.filter((s) => s !== created);
    });
    return created;
  }

  private retire(shell: Shell): void {
    this.all.delete(shell);
    this.idle = this.idle.filter((s) => s !== shell);
    shell.close();
  }

  /** Ends every shell and removes the private folder (at exit; a later request starts afresh). */
  close(): void {
    for (const shell of this.all) shell.close();
    this.all.clear();
    this.idle = [];
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

const pool = new ShellPool();
process.once('exit', () => pool.close());

/** Runs the commands of `sequence` in turn in one of this process's shells. */
export function runSequence(sequence: Sequence): Promise<SequenceResult> {
  return pool.run(sequence);
}

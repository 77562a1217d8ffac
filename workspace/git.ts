import { readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ExpctlError } from '../util/errors.js';
import { numericProcEntries } from '../util/procfs.js';
import { runSequence } from './shell.js';

/** A git command that exited non-zero (or could not start: `exitCode` is then null). */
export class GitError extends ExpctlError {
  constructor(
    readonly args: readonly string[],
    readonly cwd: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(
      'EXPCTL_GIT',
      `git ${args.join(' ')} failed in ${cwd}: ${firstLine(stderr)}`,
      exitCode === null
        ? `check that git is installed and on PATH and that ${cwd} exists`
        : `run \`git ${args.join(' ')}\` in ${cwd} to see the full output`,
      options,
    );
  }
}

/** A workspace path that would take the task repository down with it. */
export class WorkspacePathError extends ExpctlError {
  constructor(readonly repoDir: string, readonly workspace: string) {
    super(
      'EXPCTL_WORKSPACE_PATH',
      `workspace ${workspace} is the task repository ${repoDir} or contains it`,
      'this is a bug in the caller; please report it',
    );
  }
}

// User config must neither slow nor change what we do (hooks, signing, global
// ignores, CRLF conversion, background gc, fsmonitor daemons).
const CONFIG = [
  '-c', 'commit.gpgsign=false',
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'core.excludesFile=/dev/null',
  '-c', 'core.autocrlf=false',
  '-c', 'core.fsmonitor=false',
  '-c', 'gc.auto=0',
  '-c', 'maintenance.auto=false',
];

// Fixed identity and dates make commit SHAs reproducible across reruns.
const IDENTITY = {
  GIT_AUTHOR_NAME: 'expctl',
  GIT_COMMITTER_NAME: 'expctl',
  GIT_AUTHOR_EMAIL: 'expctl@localhost',
  GIT_COMMITTER_EMAIL: 'expctl@localhost',
  GIT_AUTHOR_DATE: '2000-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2000-01-01T00:00:00Z',
};

// Inherited from e.g. a git hook, these would point every command at another repository.
const REDIRECTING = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_NAMESPACE', 'GIT_PREFIX'];

// Lost races: a lock file held by another git, or another worktree's metadata read half-written.
const RACE = /\.lock'?: File exists|Unable to create '[^']*\.lock'|cannot lock ref|could not lock|unable to lock|worktrees\//i;

/** What every git command of expctl sees besides the driver's environment. */
function gitVariables(cwd: string): Record<string, string> {
  // The ceiling stops git from walking up into an enclosing repository (say, the
  // user's project) when cwd has lost its .git: it must fail, not commit there.
  return { ...IDENTITY, GIT_TERMINAL_PROMPT: '0', GIT_CEILING_DIRECTORIES: dirname(cwd), LC_ALL: 'C' };
}

/** Runs git in cwd and returns its stdout; rejects with GitError. */
export async function git(cwd: string, args: string[]): Promise<string> {
  return gitSequence(cwd, [args]);
}

/**
 * Runs git commands one after the other in cwd (one request to a command
 * shell, not a spawn per command) while each succeeds, and returns what they
 * printed; rejects with a GitError that names the one that failed.
 *
 * @example const head = await gitSequence(workspace, [['add', '-A'], ['commit', '-q', '-m', 'x'], ['rev-parse', 'HEAD']]);
 */
export async function gitSequence(cwd: string, commands: string[][]): Promise<string> {
  // a machine that went down in the middle of a git command leaves its locks behind (index, HEAD):
  // git refuses from then on; each one removed, the commands run again
  for (let removed = 0; ; removed++) {
    try {
      return await sequenceOnce(cwd, commands);
    } catch (error) {
      if (removed < 4 && error instanceof GitError && removeStaleWorktreeLock(error.stderr, cwd)) continue;
      throw error;
    }
  }
}

/**
 * A lock in a worktree's own git folder (`.git/worktrees/<name>/index.lock`,
 * `HEAD.lock`) that git reports as existing, while no git process works in
 * that worktree: only this run's commands use it, one after the other, so it
 * is left from a git that was killed. Removes it; true if it did.
 */
function removeStaleWorktreeLock(stderr: string, cwd: string): boolean {
  const lock = /Unable to create '([^']+\.lock)': File exists/.exec(stderr)?.[1];
  if (!lock || !lock.includes('/.git/worktrees/')) return false;
  for (const pid of numericProcEntries()) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'git' && readlinkSync(`/proc/${pid}/cwd`) === resolve(cwd)) return false;
    } catch {
      // gone, or not ours to read
    }
  }
  try {
    unlinkSync(lock);
    return true;
  } catch {
    return false;
  }
}

async function sequenceOnce(cwd: string, commands: string[][]): Promise<string> {
  const argv = commands.map((args) => ['git', ...CONFIG, ...args]);
  let result;
  try {
    result = await runSequence({ cwd, commands: argv, env: gitVariables(cwd), unset: REDIRECTING });
  } catch (error) {
    throw new GitError(commands[0]!.map(redact), cwd, null, redact((error as Error).message), { cause: error });
  }
  if (result.code === 0) return result.stdout;
  const failed = commands[Math.max(0, result.failed)]!;
  // -1: cwd could not be entered; 127: no git on PATH
  const exitCode = result.failed < 0 || result.code === 127 ? null : result.code;
  const stderr = result.stderr.trim() !== '' ? result.stderr : `exited with ${result.code}`;
  throw new GitError(failed.map(redact), cwd, exitCode, redact(stderr));
}

/** Retries work whose git commands lost a race with a concurrent git (see RACE). */
async function retryingRaces<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof GitError) || !RACE.test(error.stderr)) throw error;
      await delay(25 * attempt + Math.random() * 50);
    }
  }
}

function ignoreGitError(error: unknown): void {
  if (!(error instanceof GitError)) throw error;
}

/** The line that says what went wrong: git's first fatal/error line, else its first line. */
function firstLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => /^(fatal|error):/.test(line)) ?? lines[0] ?? '(no output)';
}

/** Hides the password of `scheme://user:password@host` so it never reaches a log. */
export function redact(text: string): string {
  return text.replace(/(:\/\/[^/@\s:]*):[^/@\s]*@/g, '$1:***@');
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Full SHA of rev as a commit in repo, or rejects with GitError. A full SHA
 * (what expctl records) is taken as it is: the command that uses it fails,
 * naming it, if the repository has no such commit.
 */
async function revParse(repo: string, rev: string): Promise<string> {
  if (FULL_SHA.test(rev)) return rev;
  return (await git(repo, ['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`])).trim();
}

/** Full SHA of rev as a commit in repo, or null when it does not name one. */
export async function tryRevParse(repo: string, rev: string): Promise<string | null> {
  const args = ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`];
  return git(repo, args).then((out) => out.trim() || null, () => null);
}

function assertSeparate(repoDir: string, workspace: string): void {
  const repo = resolve(repoDir);
  if (repo === workspace || repo.startsWith(workspace + '/')) throw new WorkspacePathError(repo, workspace);
}

/**
 * Checks `commit` out, detached, as a fresh worktree of repoDir at `workspace`,
 * replacing whatever an earlier attempt left there. Safe to run concurrently
 * for different workspaces of one repository.
 *
 * @example await addWorktree(repoDir, 'results/exp/T0/a/1/workspace', commit);
 */
export async function addWorktree(repoDir: string, workspace: string, commit: string): Promise<void> {
  const target = resolve(workspace);
  assertSeparate(repoDir, target);
  const sha = await revParse(repoDir, commit);
  await mkdir(dirname(target), { recursive: true });
  await retryingRaces(async () => {
    if (await exists(target)) await removeWorktree(repoDir, target);
    // Double force also takes over a registration left locked by an interrupted add.
    await git(repoDir, ['worktree', 'add', '--quiet', '--detach', '--force', '--force', target, sha]);
  });
}

/**
 * Removes the worktree at `workspace` and its registration in repoDir. No error
 * when it is already gone.
 *
 * @example await removeWorktree(repoDir, 'results/exp/T0/a/1/workspace');
 */
export async function removeWorktree(repoDir: string, workspace: string): Promise<void> {
  const target = resolve(workspace);
  assertSeparate(repoDir, target);
  if (!(await exists(repoDir))) return rm(target, { recursive: true, force: true });
  // Double force also removes a worktree left locked by an interrupted add.
  const removed = await retryingRaces(() => git(repoDir, ['worktree', 'remove', '--force', '--force', target]))
    .then(() => true, (error: unknown) => (ignoreGitError(error), false));
  await rm(target, { recursive: true, force: true });
  // Not a worktree (any more), or one git would not remove (submodules): drop any registration left.
  if (!removed) await retryingRaces(() => git(repoDir, ['worktree', 'prune']));
}

/**
 * Stages everything (untracked files too) and commits it, even when nothing
 * changed, with expctl's fixed identity and date.
 *
 * @example const sha = await commitAll(workspace, 'expctl: agent output');
 */
export async function commitAll(workspace: string, message: string): Promise<string> {
  const head = await gitSequence(workspace, [
    ['add', '-A'],
    ['commit', '--allow-empty', '--allow-empty-message', '--no-verify', '-q', '-m', message],
    ['rev-parse', '--verify', 'HEAD'],
  ]);
  return head.trim();
}

/**
 * Puts the workspace back at exactly `commit`: detached HEAD, no local changes,
 * no untracked or ignored files (nested repositories included).
 *
 * @example await resetWorkspace(workspace, baseCommit);
 */
export async function resetWorkspace(workspace: string, commit: string): Promise<void> {
  const sha = await revParse(workspace, commit);
  // Only called when no agent runs here, so a leftover index.lock is from a killed process.
  await unlink(join(await gitDirOf(workspace), 'index.lock')).catch(() => undefined);
  // Detach first so the reset cannot move a branch the agent checked out.
  await gitSequence(workspace, [['update-ref', '--no-deref', 'HEAD', sha], ['reset', '--hard', '-q', sha], ['clean', '-ffdxq']]);
}

/** The git folder of a worktree (its `.git` file names it) or of a repository, without asking git when it can. */
async function gitDirOf(workspace: string): Promise<string> {
  const dotGit = join(workspace, '.git');
  const pointer = await readFile(dotGit, 'utf8').catch(() => null);
  const named = pointer === null ? null : /^gitdir: (.+)$/m.exec(pointer)?.[1];
  if (named) return resolve(workspace, named.trim());
  return resolve(workspace, (await git(workspace, ['rev-parse', '--git-dir'])).trim());
}

export interface DiffStats {
  filesChanged: number;
  insertions: number;
  deletions: number;
}

// Pinned so user config (colour, prefixes, external drivers, rename detection) cannot change the patch.
const DIFF_OPTIONS = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--src-prefix=a/', '--dst-prefix=b/'];

/**
 * Writes the binary-safe patch from `from` to `to` into patchFile and returns
 * its stats (a binary file counts as changed with 0 lines).
 *
 * @example const stats = await captureDiff(workspace, baseCommit, finalCommit, 'results/exp/T0/a/1/diff.patch');
 */
export async function captureDiff(workspace: string, from: string, to: string, patchFile: string): Promise<DiffStats> {
  const [fromSha, toSha] = [await revParse(workspace, from), await revParse(workspace, to)];
  const output = resolve(patchFile);
  await mkdir(dirname(output), { recursive: true });
  // --output streams the patch to the file; binary patches can be large.
  return parseNumstat(await gitSequence(workspace, [
    ['diff', '--binary', ...DIFF_OPTIONS, `--output=${output}`, fromSha, toSha, '--'],
    ['diff', '--numstat', '-z', ...DIFF_OPTIONS, fromSha, toSha, '--'],
  ]));
}

function parseNumstat(output: string): DiffStats {
  const stats: DiffStats = { filesChanged: 0, insertions: 0, deletions: 0 };
  for (const record of output.split('\0')) {
    const match = /^(\d+|-)\t(\d+|-)\t/.exec(record);
    if (!match) continue;
    stats.filesChanged += 1;
    stats.insertions += match[1] === '-' ? 0 : Number(match[1]);
    stats.deletions += match[2] === '-' ? 0 : Number(match[2]);
  }
  return stats;
}

/**
 * The full SHA the workspace's HEAD points at.
 *
 * @example const sha = await headCommit(workspace);
 */
export async function headCommit(workspace: string): Promise<string> {
  return (await git(workspace, ['rev-parse', '--verify', 'HEAD'])).trim();
}

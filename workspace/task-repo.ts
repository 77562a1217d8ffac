import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExpctlError } from '../util/errors.js';
import { exists, git, redact, tryRevParse } from './git.js';

/** The task repository named by task.repo / task.commit cannot be prepared. */
export class TaskRepoError extends ExpctlError {
  constructor(readonly source: string, message: string, hint: string, options?: { cause?: unknown }) {
    super('EXPCTL_TASK_REPO', message, hint, options);
  }

  static missing(source: string): TaskRepoError {
    return new TaskRepoError(
      source,
      `task repository ${shownPath(source)} does not exist`,
      'fix task.repo in the experiment file: a git URL, a git repository or a folder',
    );
  }

  static notADirectory(source: string): TaskRepoError {
    return new TaskRepoError(
      source,
      `task repository ${shownPath(source)} is not a directory`,
      'fix task.repo in the experiment file: a git URL, a git repository or a folder',
    );
  }

  static unknownCommit(source: string, commit: string, repoDir: string): TaskRepoError {
    return new TaskRepoError(
      source,
      `commit ${commit} is not in task repository ${source} (cloned into ${repoDir})`,
      'fix task.commit in the experiment file: a branch, tag or SHA that exists in task.repo',
    );
  }

  static copyFailed(source: string, into: string, cause: unknown): TaskRepoError {
    return new TaskRepoError(
      source,
      `cannot copy task folder ${source} into ${into}: ${(cause as Error).message}`,
      'task.repo must be readable and must not contain the results directory',
      { cause },
    );
  }
}

/** A path as given, with where it resolves to when it is relative. */
function shownPath(path: string): string {
  return resolve(path) === path ? path : `${path} (${resolve(path)})`;
}


/** A git URL (cloned), as opposed to a local path (relative to the config file). */
export function isRepoUrl(repo: string): boolean {
  return URL_LIKE.test(repo) || SCP_LIKE.test(repo);
}

type SourceKind = 'url' | 'repository' | 'folder';

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
const SCP_LIKE = /^[^\s/@:]+@[^\s/:]+:/;

async function sourceKind(source: string): Promise<SourceKind> {
  if (isRepoUrl(source)) return 'url';
  const info = await stat(source).catch(() => null);
  if (!info) throw TaskRepoError.missing(source);
  if (!info.isDirectory()) throw TaskRepoError.notADirectory(source);
  if (await exists(join(source, '.git'))) return 'repository';
  // A bare repository, checked by its layout (as git does) rather than by asking git.
  const bare = await Promise.all(['HEAD', 'objects', 'refs'].map((name) => exists(join(source, name))));
  return bare.every(Boolean) ? 'repository' : 'folder';
}

/** Resolves commit in a prepared repo: local names, then origin's branches, then (if allowed) a fetch. */
async function resolveTaskCommit(repoDir: string, commit: string, fetch: boolean): Promise<string | null> {
  if (commit.startsWith('-')) return null;
  const found = (await tryRevParse(repoDir, commit)) ?? (await tryRevParse(repoDir, `refs/remotes/origin/${commit}`));
  if (found || !fetch) return found;
  // A SHA on no branch or tag of the source is not cloned; ask for it by name.
  const fetched = await git(repoDir, ['fetch', '--quiet', 'origin', commit]).then(() => true, () => false);
  return fetched ? tryRevParse(repoDir, 'FETCH_HEAD') : null;
}

async function snapshotFolder(source: string, into: string): Promise<void> {
  try {
    await cp(source, into, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
  } catch (error) {
    throw TaskRepoError.copyFailed(source, into, error);
  }
  await git(into, ['init', '-q', '-b', 'main']);
  await git(into, ['add', '-A']);
  await git(into, ['commit', '--allow-empty', '--no-verify', '-q', '-m', 'expctl: task snapshot']);
}

/**
 * Prepares the task repository once per experiment: clones a git URL or local
 * repository into `into`, or snapshots a plain folder as a one-commit repo, and
 * resolves `commit` in it to a full SHA. Reuses a previous prepare of `into`
 * when the commit resolves there; redoes an interrupted one.
 *
 * @example const { repoDir, commit } = await prepareTaskRepo({ source: './tasks/t1', commit: 'HEAD', into: 'results/exp/repo' });
 */
export async function prepareTaskRepo(options: {
  source: string;
  commit: string;
  into: string;
}): Promise<{ repoDir: string; commit: string }> {
  const into = resolve(options.into);
  if (await exists(join(into, '.git'))) {
    const reused = await resolveTaskCommit(into, options.commit, false);
    if (reused) return { repoDir: into, commit: reused };
  }
  const kind = await sourceKind(options.source);
  const source = kind === 'url' ? options.source : resolve(options.source);
  await rm(into, { recursive: true, force: true });
  await mkdir(dirname(into), { recursive: true });
  if (kind === 'folder') await snapshotFolder(source, into);
  // --no-local: a full copy of the objects, no hardlinks or alternates into the source.
  else await git(dirname(into), ['clone', '--quiet', '--no-local', '--', source, into]);
  const commit = await resolveTaskCommit(into, options.commit, kind !== 'folder');
  if (!commit) throw TaskRepoError.unknownCommit(redact(options.source), options.commit, into);
  // Keeps a fetched, otherwise unreferenced commit alive.
  await git(into, ['update-ref', 'refs/expctl/task', commit]);
  return { repoDir: into, commit };
}


import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addWorktree,
  captureDiff,
  commitAll,
  GitError,
  headCommit,
  removeWorktree,
  resetWorkspace,
} from '../../workspace/git.js';
import { prepareTaskRepo, TaskRepoError } from '../../workspace/task-repo.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-git-');
const SHA = /^[0-9a-f]{40}$/;

/** Plain git for building fixtures and checking results, isolated from user config. */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'fixture', GIT_AUTHOR_EMAIL: 'fixture@test', GIT_COMMITTER_NAME: 'fixture',
      GIT_COMMITTER_EMAIL: 'fixture@test', GIT_CEILING_DIRECTORIES: dirname(cwd),
    },
  }).trim();
}

function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

/** A git repository with one commit per entry of `commits`; returns the dir and the SHAs in order. */
function sourceRepo(commits: Record<string, string>[]): { dir: string; shas: string[] } {
  const dir = join(tempDir(), 'source');
  mkdirSync(dir);
  git(dir, 'init', '-q', '-b', 'main');
  const shas = commits.map((files, i) => {
    writeFiles(dir, files);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `commit ${i}`);
    return git(dir, 'rev-parse', 'HEAD');
  });
  return { dir, shas };
}

/** A prepared task repo with a single commit holding `files`. */
async function taskRepo(files: Record<string, string | Buffer>): Promise<{ repoDir: string; commit: string }> {
  const folder = join(tempDir(), 'task');
  writeFiles(folder, files);
  return prepareTaskRepo({ source: folder, commit: 'HEAD', into: join(tempDir(), 'repo') });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => { throw new Error('expected a rejection'); },
    (error: Error) => error,
  );
}

function worktreePaths(repoDir: string): string[] {
  return git(repoDir, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length));
}

describe('prepareTaskRepo', () => {
  it('turns a plain task folder into a repository with a reproducible commit', async () => {
    const folder = join(tempDir(), 'task');
    writeFiles(folder, { 'README.md': '# task\n', 'src/main.py': 'print(1)\n', '.env.example': 'A=1\n' });
    chmodSync(join(folder, 'src/main.py'), 0o755);

    const first = await prepareTaskRepo({ source: folder, commit: 'HEAD', into: join(tempDir(), 'a', 'repo') });
    const second = await prepareTaskRepo({ source: folder, commit: 'main', into: join(tempDir(), 'b', 'repo') });

    expect(first.commit).toMatch(SHA);
    expect(second.commit).toBe(first.commit);
    expect(git(first.repoDir, 'rev-parse', 'main')).toBe(first.commit);
    expect(git(first.repoDir, 'log', '-1', '--format=%an <%ae> %aI|%cn <%ce> %cI|%s')).toBe(
      'expctl <expctl@localhost> 2000-01-01T00:00:00+00:00|expctl <expctl@localhost> 2000-01-01T00:00:00+00:00|expctl: task snapshot',
    );
    expect(git(first.repoDir, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n').sort())
      .toEqual(['.env.example', 'README.md', 'src/main.py']);
    expect(git(first.repoDir, 'ls-tree', 'HEAD', 'src/main.py')).toMatch(/^100755 /);
    expect(existsSync(join(folder, '.git'))).toBe(false);
  });

  it('snapshots a plain folder that sits inside another repository on its own', async () => {
    const outer = sourceRepo([{ 'outer.txt': 'outer\n' }]);
    writeFiles(outer.dir, { 'tasks/t1/task.txt': 'inner\n' });

    const prepared = await prepareTaskRepo({ source: join(outer.dir, 'tasks/t1'), commit: 'HEAD', into: join(tempDir(), 'repo') });

    expect(prepared.commit).not.toBe(outer.shas[0]);
    expect(git(prepared.repoDir, 'ls-tree', '-r', '--name-only', 'HEAD')).toBe('task.txt');
  });

  it('clones a local git repository at a commit that is not the tip, without depending on the source', async () => {
    const source = sourceRepo([{ 'f.txt': 'one\n' }, { 'f.txt': 'two\n' }, { 'f.txt': 'three\n' }]);

    const prepared = await prepareTaskRepo({ source: source.dir, commit: source.shas[0]!.slice(0, 10), into: join(tempDir(), 'repo') });

    expect(prepared.commit).toBe(source.shas[0]);
    expect(git(prepared.repoDir, 'show', `${prepared.commit}:f.txt`)).toBe('one');
    expect(existsSync(join(prepared.repoDir, '.git/objects/info/alternates'))).toBe(false);
    const objectFiles = readdirSync(join(prepared.repoDir, '.git/objects'), { recursive: true, encoding: 'utf8' })
      .map((name) => statSync(join(prepared.repoDir, '.git/objects', name)))
      .filter((info) => info.isFile());
    expect(objectFiles.filter((info) => info.nlink > 1)).toEqual([]); // no hardlinks into the source
    rmSync(source.dir, { recursive: true, force: true });
    expect(git(prepared.repoDir, 'cat-file', '-t', source.shas[2]!)).toBe('commit');
  });

  it('resolves a non-default branch and a commit that is on no branch of the source', async () => {
    const source = sourceRepo([{ 'f.txt': 'base\n' }]);
    git(source.dir, 'checkout', '-q', '-b', 'feature');
    writeFiles(source.dir, { 'f.txt': 'feature\n' });
    git(source.dir, 'commit', '-q', '-am', 'feature');
    const feature = git(source.dir, 'rev-parse', 'HEAD');
    git(source.dir, 'checkout', '-q', '--detach');
    writeFiles(source.dir, { 'f.txt': 'loose\n' });
    git(source.dir, 'commit', '-q', '-am', 'loose');
    const loose = git(source.dir, 'rev-parse', 'HEAD');
    git(source.dir, 'checkout', '-q', 'main');

    const byBranch = await prepareTaskRepo({ source: source.dir, commit: 'feature', into: join(tempDir(), 'repo') });
    writeFiles(byBranch.repoDir, { 'marker.txt': 'kept when reused\n' });
    expect(await prepareTaskRepo({ source: source.dir, commit: 'feature', into: byBranch.repoDir })).toEqual(byBranch);
    expect(existsSync(join(byBranch.repoDir, 'marker.txt'))).toBe(true);
    const byLooseSha = await prepareTaskRepo({ source: source.dir, commit: loose, into: join(tempDir(), 'repo') });

    expect(byBranch.commit).toBe(feature);
    expect(byLooseSha.commit).toBe(loose);
    expect(git(byLooseSha.repoDir, 'rev-parse', 'refs/expctl/task')).toBe(loose);
  });

  it('clones a file:// URL of a bare repository', async () => {
    const source = sourceRepo([{ 'f.txt': 'one\n' }, { 'f.txt': 'two\n' }]);
    const bare = join(tempDir(), 'bare.git');
    git(tempDir(), 'clone', '-q', '--bare', source.dir, bare);

    const byUrl = await prepareTaskRepo({ source: `file://${bare}`, commit: 'HEAD', into: join(tempDir(), 'repo') });
    const byPath = await prepareTaskRepo({ source: bare, commit: 'HEAD~1', into: join(tempDir(), 'repo') });

    expect(byUrl.commit).toBe(source.shas[1]);
    expect(readFileSync(join(byUrl.repoDir, 'f.txt'), 'utf8')).toBe('two\n');
    expect(byPath.commit).toBe(source.shas[0]);
  });

  it('names the commit and the repository when the commit is unknown', async () => {
    const source = sourceRepo([{ 'f.txt': 'one\n' }]);

    const error = await rejection(prepareTaskRepo({ source: source.dir, commit: 'no-such-tag', into: join(tempDir(), 'repo') }));

    expect(error).toBeInstanceOf(TaskRepoError);
    expect(error).toMatchObject({ code: 'EXPCTL_TASK_REPO' });
    expect(error.message).toContain('no-such-tag');
    expect(error.message).toContain(source.dir);
    expect((error as TaskRepoError).hint).toContain('task.commit');
  });

  it('names the path when the task folder does not exist, and creates nothing', async () => {
    const missing = join(tempDir(), 'nowhere', 'task');
    const into = join(tempDir(), 'repo');

    const error = await rejection(prepareTaskRepo({ source: missing, commit: 'HEAD', into }));

    expect(error).toBeInstanceOf(TaskRepoError);
    expect(error.message).toBe(`task repository ${missing} does not exist`);
    expect((error as TaskRepoError).hint).toContain('task.repo');
    expect(existsSync(into)).toBe(false);
  });

  it('reuses an earlier prepare and redoes an interrupted one', async () => {
    const folder = join(tempDir(), 'task');
    writeFiles(folder, { 'f.txt': 'task\n' });
    const into = join(tempDir(), 'repo');
    const first = await prepareTaskRepo({ source: folder, commit: 'HEAD', into });
    writeFiles(into, { 'marker.txt': 'kept when reused\n' });

    const again = await prepareTaskRepo({ source: folder, commit: 'HEAD', into });
    expect(again).toEqual(first);
    expect(existsSync(join(into, 'marker.txt'))).toBe(true);

    rmSync(into, { recursive: true });
    writeFiles(into, { 'f.txt': 'half cop' }); // copy cut short: no .git yet
    expect(await prepareTaskRepo({ source: folder, commit: 'HEAD', into })).toEqual(first);
    expect(readFileSync(join(into, 'f.txt'), 'utf8')).toBe('task\n');

    rmSync(into, { recursive: true });
    writeFiles(into, { 'f.txt': 'task\n' });
    git(into, 'init', '-q'); // stopped before the snapshot commit
    expect(await prepareTaskRepo({ source: folder, commit: 'HEAD', into })).toEqual(first);
  });
});

describe('worktrees', () => {
  it('adds a detached worktree at the commit and removes it without a trace, twice', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const workspace = join(tempDir(), 'T0', 'workspace');

    await addWorktree(repoDir, workspace, commit);
    expect(readFileSync(join(workspace, 'f.txt'), 'utf8')).toBe('base\n');
    expect(await headCommit(workspace)).toBe(commit);
    expect(() => git(workspace, 'symbolic-ref', '-q', 'HEAD')).toThrow(); // detached
    expect(worktreePaths(repoDir)).toContain(workspace);

    await removeWorktree(repoDir, workspace);
    await removeWorktree(repoDir, workspace);
    expect(existsSync(workspace)).toBe(false);
    expect(worktreePaths(repoDir)).toEqual([repoDir]);
  });

  it('commits past the index and HEAD locks a git killed by a machine crash left in the worktree; a real git error stays one', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const workspace = join(tempDir(), 'T0', 'workspace');
    await addWorktree(repoDir, workspace, commit);
    const gitDir = git(workspace, 'rev-parse', '--absolute-git-dir').trim();
    expect(gitDir).toContain('/.git/worktrees/');
    writeFileSync(join(workspace, 'f.txt'), 'changed\n');
    writeFileSync(join(gitDir, 'index.lock'), '');
    writeFileSync(join(gitDir, 'HEAD.lock'), '');
    const made = await commitAll(workspace, 'after a crash');
    expect(made).not.toBe(commit);
    expect(git(workspace, 'show', '--format=%s', '-s', 'HEAD').trim()).toBe('after a crash');
    expect(existsSync(join(gitDir, 'index.lock'))).toBe(false);
    await expect(resetWorkspace(workspace, 'f'.repeat(40))).rejects.toBeInstanceOf(GitError);
  });

  it('re-adds over a dirty workspace, a locked missing one, and leftovers that are no worktree', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const workspace = join(tempDir(), 'workspace');
    await addWorktree(repoDir, workspace, commit);
    writeFiles(workspace, { 'f.txt': 'changed\n', 'junk.txt': 'junk\n' });
    await commitAll(workspace, 'agent work');

    await addWorktree(repoDir, workspace, commit);
    expect(await headCommit(workspace)).toBe(commit);
    expect(readFileSync(join(workspace, 'f.txt'), 'utf8')).toBe('base\n');
    expect(existsSync(join(workspace, 'junk.txt'))).toBe(false);

    git(repoDir, 'worktree', 'lock', workspace); // as an add killed halfway leaves it
    rmSync(workspace, { recursive: true });
    await addWorktree(repoDir, workspace, commit);
    expect(await headCommit(workspace)).toBe(commit);

    const leftover = join(tempDir(), 'leftover');
    writeFiles(leftover, { 'stale.txt': 'from a crashed attempt\n' });
    await addWorktree(repoDir, leftover, commit);
    expect(existsSync(join(leftover, 'stale.txt'))).toBe(false);
    expect(worktreePaths(repoDir).sort()).toEqual([repoDir, workspace, leftover].sort());
  });

  it('adds and removes six worktrees of one repository concurrently, round after round', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const root = tempDir();
    const workspaces = Array.from({ length: 6 }, (_, i) => join(root, `T${i}`, 'workspace'));

    // Races are rare per round; a few rounds make a lost one show.
    for (let round = 0; round < 4; round++) {
      await Promise.all(workspaces.map((workspace) => addWorktree(repoDir, workspace, commit)));
      for (const workspace of workspaces) expect(await headCommit(workspace)).toBe(commit);
      expect(worktreePaths(repoDir)).toHaveLength(7);

      await Promise.all(workspaces.map((workspace) => removeWorktree(repoDir, workspace)));
      expect(worktreePaths(repoDir)).toEqual([repoDir]);
      expect(workspaces.filter((workspace) => existsSync(workspace))).toEqual([]);
    }
  });
});

describe('workspace commits', () => {
  it('commits everything, returns HEAD, and allows an empty commit', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const workspace = join(tempDir(), 'workspace');
    await addWorktree(repoDir, workspace, commit);
    writeFiles(workspace, { 'f.txt': 'changed\n', 'new/g.txt': 'new\n' });

    const work = await commitAll(workspace, 'expctl: agent output');
    const empty = await commitAll(workspace, 'expctl: nothing changed');

    expect(work).toMatch(SHA);
    expect(git(workspace, 'rev-parse', `${work}~1`)).toBe(commit);
    expect(git(workspace, 'show', `${work}:new/g.txt`)).toBe('new');
    expect(await headCommit(workspace)).toBe(empty);
    expect(git(workspace, 'rev-parse', `${empty}~1`)).toBe(work);
    expect(git(workspace, 'rev-parse', `${empty}^{tree}`)).toBe(git(workspace, 'rev-parse', `${work}^{tree}`));
    expect(git(workspace, 'status', '--porcelain')).toBe('');
  });

  it('gives the same commit SHA for the same change in another run', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const shas = [];
    for (const name of ['run1', 'run2']) {
      const workspace = join(tempDir(), name);
      await addWorktree(repoDir, workspace, commit);
      writeFiles(workspace, { 'f.txt': 'same change\n' });
      shas.push(await commitAll(workspace, 'expctl: agent output'));
    }
    expect(shas[1]).toBe(shas[0]);
  });

  it('is not swayed by user config: global ignores, failing hooks, commit signing', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const workspace = join(tempDir(), 'workspace');
    const home = tempDir();
    writeFiles(home, { 'ignore': '*.log\n', 'hooks/pre-commit': '#!/bin/sh\nexit 1\n', 'hooks/post-checkout': '#!/bin/sh\nexit 1\n' });
    for (const hook of ['pre-commit', 'post-checkout']) chmodSync(join(home, 'hooks', hook), 0o755);
    writeFiles(home, {
      'gitconfig': `[core]\n\texcludesFile = ${home}/ignore\n\thooksPath = ${home}/hooks\n[commit]\n\tgpgsign = true\n`,
    });
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = join(home, 'gitconfig');
    try {
      await addWorktree(repoDir, workspace, commit);
      writeFiles(workspace, { 'agent.log': 'kept\n' });
      const sha = await commitAll(workspace, 'agent output');
      expect(git(workspace, 'show', `${sha}:agent.log`)).toBe('kept');
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
    }
  });

  it('resets the workspace to exactly the commit', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n', '.gitignore': 'build/\n' });
    const workspace = join(tempDir(), 'workspace');
    await addWorktree(repoDir, workspace, commit);
    git(workspace, 'checkout', '-q', '-b', 'agent-branch');
    writeFiles(workspace, { 'committed.txt': 'c\n' });
    await commitAll(workspace, 'agent commit');
    writeFiles(workspace, { 'f.txt': 'modified\n', 'untracked.txt': 'u\n', 'build/out.o': 'ignored\n', 'vendor/lib/x.txt': 'x\n' });
    git(join(workspace, 'vendor/lib'), 'init', '-q'); // a nested repository
    git(workspace, 'add', 'f.txt');
    const agentBranch = git(workspace, 'rev-parse', 'agent-branch');

    await resetWorkspace(workspace, commit);

    expect(await headCommit(workspace)).toBe(commit);
    expect(git(workspace, 'status', '--porcelain', '--ignored')).toBe('');
    expect(readFileSync(join(workspace, 'f.txt'), 'utf8')).toBe('base\n');
    for (const gone of ['committed.txt', 'untracked.txt', 'build', 'vendor']) expect(existsSync(join(workspace, gone))).toBe(false);
    expect(git(workspace, 'rev-parse', 'agent-branch')).toBe(agentBranch);
  });

  it('captures a patch with stats for added, modified, deleted and binary files', async () => {
    const { repoDir, commit: from } = await taskRepo({
      'modified.txt': 'a\nb\nc\n',
      'deleted.txt': 'x\ny\n',
      'kept.txt': 'same\n',
    });
    const workspace = join(tempDir(), 'workspace');
    await addWorktree(repoDir, workspace, from);
    rmSync(join(workspace, 'deleted.txt'));
    writeFiles(workspace, {
      'modified.txt': 'a\nB\nc\nd\n',
      'added.txt': 'one\ntwo\nthree\n',
      'image.bin': Buffer.from([0, 1, 2, 255, 0, 137, 80, 78, 71]),
    });
    const to = await commitAll(workspace, 'agent output');
    const patchFile = join(tempDir(), 'artifacts', 'T0', 'diff.patch');

    const stats = await captureDiff(workspace, from, to, patchFile);

    // modified: +2 -1, added: +3, deleted: -2, binary: counted with 0 lines
    expect(stats).toEqual({ filesChanged: 4, insertions: 5, deletions: 3 });
    const patch = readFileSync(patchFile, 'utf8');
    expect(patch).toContain('GIT binary patch');
    expect(patch).not.toContain('kept.txt');
    const check = join(tempDir(), 'check');
    await addWorktree(repoDir, check, from);
    git(check, 'apply', '--check', '--index', patchFile);
    git(check, 'apply', '--index', patchFile);
    expect(git(check, 'write-tree')).toBe(git(check, 'rev-parse', `${to}^{tree}`));
  });

  it('reports an empty diff as zero stats and an empty patch', async () => {
    const { repoDir, commit } = await taskRepo({ 'f.txt': 'base\n' });
    const workspace = join(tempDir(), 'workspace');
    await addWorktree(repoDir, workspace, commit);
    const patchFile = join(tempDir(), 'diff.patch');

    expect(await captureDiff(workspace, commit, 'HEAD', patchFile)).toEqual({ filesChanged: 0, insertions: 0, deletions: 0 });
    expect(statSync(patchFile).size).toBe(0);
  });
});

describe('git failures', () => {
  it('fails with the command, exit code and stderr instead of using an enclosing repository', async () => {
    const outer = sourceRepo([{ 'f.txt': 'outer\n' }]);
    const lost = join(outer.dir, 'workspace');
    writeFiles(lost, { 'g.txt': 'agent removed .git\n' });

    const error = await rejection(commitAll(lost, 'agent output'));

    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({ code: 'EXPCTL_GIT', exitCode: 128, args: ['add', '-A'], cwd: lost });
    expect(error.message).toMatch(new RegExp(`^git add -A failed in ${lost}: fatal: not a git repository`));
    expect((error as GitError).stderr).toContain('not a git repository');
    expect(git(outer.dir, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(git(outer.dir, 'diff', '--cached', '--name-only')).toBe('');
  });

  it('names an unknown revision given to a workspace function', async () => {
    const { repoDir } = await taskRepo({ 'f.txt': 'base\n' });

    const error = await rejection(addWorktree(repoDir, join(tempDir(), 'workspace'), 'no-such-branch'));

    expect(error).toBeInstanceOf(GitError);
    expect(error.message).toContain('no-such-branch');
    expect(error.message).toContain(repoDir);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quote, runSequence } from '../../workspace/shell.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-shell-');

/** The `sh` children of this process (the pool's shells). */
function shells(): number[] {
  const out = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((line) => / sh$/.test(line)).map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('the command shells', () => {
  it('runs argv vectors in turn in cwd and gives back what they printed, bytes a shell would read as syntax included', async () => {
    const dir = tempDir();
    const odd = `it's "$HOME" \`id\` $(echo x); *\nsecond line\\`;
    const result = await runSequence({ cwd: dir, commands: [['printf', '%s|', odd], ['pwd'], ['sh', '-c', 'echo "$EXTRA" >&2'], ['cat']], env: { EXTRA: 'a b$c' } });
    expect(result).toEqual({ code: 0, failed: 4, stdout: `${odd}|${dir}\n`, stderr: 'a b$c\n' });
  });

  it('stops at the first command that fails and names it, with its status and stderr', async () => {
    const dir = tempDir();
    const result = await runSequence({ cwd: dir, commands: [['true'], ['sh', '-c', 'echo broken >&2; exit 3'], ['touch', 'never']] });
    expect(result).toMatchObject({ code: 3, failed: 1, stderr: 'broken\n' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails before the first command when cwd is missing, and says so; a missing program is status 127', async () => {
    const missing = join(tempDir(), 'gone');
    const result = await runSequence({ cwd: missing, commands: [['touch', 'x']] });
    expect(result.failed).toBe(-1);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('gone');
    expect(await runSequence({ cwd: tempDir(), commands: [['no-such-program-expctl']] })).toMatchObject({ code: 127, failed: 0 });
  });

  it('serves concurrent requests from several shells, each its own cwd, and reuses them afterwards', async () => {
    const dirs = Array.from({ length: 6 }, () => tempDir());
    for (const [i, dir] of dirs.entries()) writeFileSync(join(dir, 'id'), String(i));
    const results = await Promise.all(dirs.map((dir) => runSequence({ cwd: dir, commands: [['sleep', '0.2'], ['cat', 'id']] })));
    expect(results.map((r) => r.stdout)).toEqual(['0', '1', '2', '3', '4', '5']);
    const before = shells().length;
    expect(before).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < 20; i++) await runSequence({ cwd: dirs[0]!, commands: [['true']] });
    expect(shells().length).toBe(before);
  });

  it('gives commands the environment of the moment: a variable set or removed later is seen', async () => {
    const dir = tempDir();
    const read = async () => (await runSequence({ cwd: dir, commands: [['sh', '-c', 'printf %s "${EXPCTL_SHELL_TEST-unset}"']] })).stdout;
    expect(await read()).toBe('unset');
    process.env.EXPCTL_SHELL_TEST = 'now set';
    try {
      expect(await read()).toBe('now set');
    } finally {
      delete process.env.EXPCTL_SHELL_TEST;
    }
    expect(await read()).toBe('unset');
  });

  it('keeps commands off its protocol: one that reads stdin reads nothing', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    const result = await runSequence({ cwd: dir, commands: [['cat'], ['sh', '-c', 'read line && echo "got:$line"; exit 0'], ['head', '-c', '1']] });
    expect(result).toMatchObject({ code: 0, failed: 3, stdout: '' });
    expect((await runSequence({ cwd: join(dir, 'sub'), commands: [['pwd']] })).stdout).toBe(`${join(dir, 'sub')}\n`);
  });

  it('lets a process exit while its shells are idle, and removes their folder', () => {
    const script = `import { runSequence } from ${JSON.stringify(join(process.cwd(), 'workspace/shell.ts'))};
const r = await runSequence({ cwd: '/', commands: [['true']] });
console.log(r.code);`;
    const tmp = tempDir();
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TMPDIR: tmp } });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('0\n');
    expect(child.status).toBe(0);
    expect(readdirSync(tmp).filter((name) => name.startsWith('expctl-'))).toEqual([]);
  });

  it('quotes any word but NUL for sh; a request with a NUL byte is refused and the shells serve on', async () => {
    expect(quote(`a'b`)).toBe(`'a'\\''b'`);
    expect(() => quote('a\0b')).toThrow(/NUL/);
    const dir = tempDir();
    await expect(runSequence({ cwd: dir, commands: [['printf', 'a\0b']] })).rejects.toThrow(/NUL/);
    expect((await runSequence({ cwd: dir, commands: [['printf', 'still here']] })).stdout).toBe('still here');
  });
});

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { destinationProblem, isInside, isInsideReal, sourceProblem } from '../../workspace/inside.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

describe('inside: the one path-containment check', () => {
  it('compares paths by their segments: a folder named `..notes` is inside, `../notes` is not', () => {
    expect(isInside('/w', '/w')).toBe(true);
    expect(isInside('/w', '/w/..notes/x.md')).toBe(true);
    expect(isInside('/w', '/w/a/../b')).toBe(true);
    expect(isInside('/w', '/w/../notes')).toBe(false);
    expect(isInside('/w', '/wx')).toBe(false);
    expect(isInside('/w', '/')).toBe(false);
  });

  it('names what is wrong with a workspace destination, and accepts names that only start with dots', () => {
    expect(destinationProblem('..notes/x.md')).toBeNull();
    expect(destinationProblem('docs/..hidden')).toBeNull();
    expect(destinationProblem('../x')).toBe('leaves the workspace');
    expect(destinationProblem('a/../../x')).toBe('leaves the workspace');
    expect(destinationProblem('/tmp/x')).toBe('must be relative to the workspace, not absolute');
    expect(destinationProblem('.')).toMatch(/not the workspace itself/);
    expect(destinationProblem('a/..')).toMatch(/not the workspace itself/);
    expect(destinationProblem('.git/hooks/pre-commit')).toBe('is inside .git');
    expect(destinationProblem('a/../.git/config')).toBe('is inside .git');
    expect(destinationProblem('.github/workflows/x.yml')).toBeNull();
  });

  it('follows symlinks when asked: a link out of the folder is not inside', () => {
    const dir = tempDir();
    const outside = tempDir();
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(outside, 'secret.md'), 'x');
    symlinkSync(outside, join(dir, 'out'));
    expect(isInsideReal(dir, join(dir, 'in'))).toBe(true);
    expect(isInsideReal(dir, join(dir, 'out'))).toBe(false);
    expect(sourceProblem(dir, 'out/secret.md')).toMatch(/is a symlink to outside the config's folder/);
    expect(sourceProblem(dir, '../x.md')).toMatch(/leaves the config's folder/);
    expect(sourceProblem(dir, 'in')).toBeNull();
  });
});

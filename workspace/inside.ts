import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The one "is this path inside that folder" check, used by config checks,
 * pre-flight and the run step alike. Paths are compared by their segments:
 * `..notes/x.md` is a folder named `..notes` inside, `../notes` is not.
 */

/** Whether `path` is `dir` itself or lies inside it (lexically: `.` and `..` resolved, symlinks not). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** As isInside, with symlinks resolved on both sides (both must exist). */
export function isInsideReal(dir: string, path: string): boolean {
  return isInside(realpathSync(dir), realpathSync(path));
}

/** Why `file` (relative to `dir`) is not a path inside `dir`: absolute, `..` out of it, or a symlink out of it; null if it is. */
export function sourceProblem(dir: string, file: string): string | null {
  if (isAbsolute(file)) return 'must be a path relative to the config file, not an absolute path';
  const full = resolve(dir, file);
  if (!isInside(dir, full)) return `leaves the config's folder ${dir}`;
  if (existsSync(full) && !isInsideReal(dir, full)) return `is a symlink to outside the config's folder ${dir}`;
  return null;
}

/** Why a workspace destination is not a plain path to a file or folder inside the workspace (not `.git`), or null. */
export function destinationProblem(dest: string): string | null {
  if (isAbsolute(dest)) return 'must be relative to the workspace, not absolute';
  const workspace = resolve('/workspace');
  const target = resolve(workspace, dest);
  if (dest.trim() === '' || target === workspace) return 'must name a file or folder inside the workspace, not the workspace itself';
  if (!isInside(workspace, target)) return 'leaves the workspace';
  if (relative(workspace, target).split(sep).includes('.git')) return 'is inside .git';
  return null;
}

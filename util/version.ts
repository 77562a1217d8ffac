import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let found: { root: string; version: string } | null | undefined;

/** The expctl package this code belongs to: its package.json, found upwards from this file (source tree or dist/). */
function expctlPackage(): { root: string; version: string } | null {
  if (found !== undefined) return found;
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'expctl') return (found = { root: dir, version: pkg.version ?? '0.0.0' });
  }
  return (found = null);
}

/** The expctl version from its package.json. */
export function expctlVersion(): string {
  return expctlPackage()?.version ?? '0.0.0';
}

/**
 * The folder of the running expctl's package (a git checkout or an installed
 * package: both hold package.json, schemas/ and examples/ there), or null
 * when this code is not inside one.
 */
export function expctlRoot(): string | null {
  return expctlPackage()?.root ?? null;
}

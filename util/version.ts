import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let version: string | undefined;

/** The expctl version from its package.json (found upwards from this file: source tree or dist/). */
export function expctlVersion(): string {
  if (version) return version;
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'expctl') return (version = pkg.version ?? '0.0.0');
  }
  return (version = '0.0.0');
}

import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Operator } from '../schemas/events.js';

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

/** Who is acting: recorded on every operator action (resume, interrupt, takeover). */
export function currentOperator(reason?: string): Operator {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return { user, host: hostname(), pid: process.pid, version: expctlVersion(), ...(reason ? { reason } : {}) };
}

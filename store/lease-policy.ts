import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { LeaseHeldError } from './errors.js';
import type { Lease, LeaseHolder, LeaseOptions } from './types.js';

/**
 * Whether a process runs on this host. A zombie (dead, not yet reaped: a killed
 * driver whose parent is gone) counts as dead; EPERM means it runs but is not ours.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    // no /proc entry (or no /proc at all): ask the kernel
  }
  try {
    process.kill(pid, 0);
    return !existsSync('/proc/self');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LeaseEnvironment {
  now: () => number;
  host: string;
  isAlive: (pid: number) => boolean;
}

export const systemLeaseEnvironment: LeaseEnvironment = { now: Date.now, host: hostname(), isAlive: isProcessAlive };

/**
 * I7: decide whether `holder` may take the lease. Returns the lease being taken
 * over (stale: heartbeat too old, or holder pid dead on this host), null if free
 * or already ours; throws LeaseHeldError while another live driver holds it.
 */
export function leaseDecision(current: Lease | null, holder: LeaseHolder, options: LeaseOptions, env: LeaseEnvironment): Lease | null {
  if (!current || current.id === holder.id) return null;
  const age = env.now() - current.heartbeatAt;
  const dead = current.host === env.host && !env.isAlive(current.pid);
  if (dead || age > options.staleAfterMs) return current;
  throw new LeaseHeldError(current, age, options.staleAfterMs);
}

import { existsSync } from 'node:fs';
import { isRunning } from '../util/procfs.js';
import { hostname } from 'node:os';
import { LeaseHeldError } from './errors.js';
import type { Lease, LeaseHolder, LeaseOptions } from './types.js';

/**
 * Whether a process runs on this host. A zombie (dead, not yet reaped: a killed
 * driver whose parent is gone) counts as dead; EPERM means it runs but is not ours.
 */
export function isProcessAlive(pid: number): boolean {
  if (existsSync('/proc/self')) return isRunning(pid);
  try {
    process.kill(pid, 0);
    return true;
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

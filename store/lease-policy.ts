import { existsSync } from 'node:fs';
import { identityAlive, isRunning } from '../util/procfs.js';
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
  /** Whether the holder runs: true, false, or null when that cannot be told from here (another PID namespace that still exists). */
  isAlive: (pid: number, identity?: LeaseHolder['identity']) => boolean | null;
}

/** A holder runs when its pid runs with the recorded start time, in the recorded boot and PID namespace (util/procfs.ts). */
export function isHolderAlive(pid: number, identity?: LeaseHolder['identity']): boolean | null {
  if (!existsSync('/proc/self')) return isProcessAlive(pid);
  return identityAlive(pid, identity);
}

export const systemLeaseEnvironment: LeaseEnvironment = { now: Date.now, host: hostname(), isAlive: isHolderAlive };

/**
 * I7: decide whether `holder` may take the lease. Returns the lease being taken
 * over (stale: heartbeat too old, or holder dead on this host: its pid gone or
 * reused, its PID namespace gone, another boot), null if free
 * or already ours; throws LeaseHeldError while another live driver holds it.
 */
export function leaseDecision(current: Lease | null, holder: LeaseHolder, options: LeaseOptions, env: LeaseEnvironment): Lease | null {
  if (!current || current.id === holder.id) return null;
  const age = env.now() - current.heartbeatAt;
  const dead = current.host === env.host && env.isAlive(current.pid, current.identity) === false;
  if (dead || age > options.staleAfterMs) return current;
  throw new LeaseHeldError(current, age, options.staleAfterMs);
}

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 20;

/** Reading /proc (Linux): process state, group and start time, to tell processes apart across pid reuse. */
export interface ProcStat {
  state: string;
  pgrp: number;
  startTicks: number;
}

/** Parses /proc/<pid>/stat; the comm field may contain spaces and parentheses, so fields are counted from the last ')'. */
export function readStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // After "pid (comm) " come fields 3 (state), 4 (ppid), 5 (pgrp), … 22 (starttime).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const startTicks = Number(fields[19]);
  if (fields[0] === undefined || !Number.isInteger(pgrp) || !Number.isInteger(startTicks)) return null;
  return { state: fields[0], pgrp, startTicks };
}

/**
 * Start time of a process in clock ticks since boot (field 22 of
 * /proc/<pid>/stat), or null if there is no such process. Together with the
 * pid it identifies a process across pid reuse.
 *
 * @example
 * processStartTicks(process.pid) // → 241124
 */
export function processStartTicks(pid: number): number | null {
  return readStat(pid)?.startTicks ?? null;
}

export function numericProcEntries(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number);
}


/** Whether a process runs: it exists and is not a zombie (dead, not yet reaped by its parent). */
export function isRunning(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** Groups of `pgids` that still have a member that is not a zombie (zombies run nothing). */
export function livingGroups(pgids: readonly number[]): number[] {
  // a group with no process at all (kill(-pgid, 0): ESRCH) needs no scan of /proc: the usual case, a command that ended
  const wanted = new Set(pgids.filter(hasAnyProcess));
  if (wanted.size === 0) return [];
  const living = new Set<number>();
  for (const pid of numericProcEntries()) {
    const stat = readStat(pid);
    if (stat && wanted.has(stat.pgrp) && stat.state !== 'Z' && stat.state !== 'X') living.add(stat.pgrp);
  }
  return pgids.filter((pgid) => living.has(pgid));
}

/** Whether any process, a zombie included, is in the group (or the answer is unknown: not ours to signal). */
function hasAnyProcess(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return true;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Polls /proc until none of the groups has a living member or `timeoutMs` passed; returns those left. */
export async function waitForGroupsGone(pgids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  let left = livingGroups(pgids);
  while (left.length > 0 && performance.now() < deadline) {
    await sleep(POLL_MS);
    left = livingGroups(left);
  }
  return left;
}

/**
 * Who a process is beyond its pid: its kernel start time, its PID namespace
 * and the boot it runs in. A pid means nothing in another PID namespace (a
 * container) or after a reboot; the start time tells a reused pid apart.
 */
export interface ProcessIdentity {
  startTicks: number | null;
  /** `pid:[4026531836]`, the target of /proc/<pid>/ns/pid. */
  pidNs: string | null;
  bootId: string | null;
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || null;
  } catch {
    return null;
  }
}

/** This process's identity. */
export function ownIdentity(): ProcessIdentity {
  return { startTicks: processStartTicks(process.pid), pidNs: readLink('/proc/self/ns/pid'), bootId: bootId() };
}

/** Whether any process this one can see lives in the PID namespace `ns` (a namespace with no process left is gone). */
export function pidNamespaceExists(ns: string): boolean {
  // a zombie runs nothing: a namespace whose processes are all dead but not yet reaped is gone
  return numericProcEntries().some((pid) => readLink(`/proc/${pid}/ns/pid`) === ns && isRunning(pid));
}

/**
 * Whether the process `pid` with `identity` (as recorded, perhaps by another
 * boot or namespace) still runs: false after a reboot, false when its PID
 * namespace is gone (known only from the initial namespace, which sees all
 * others), null when it lives in another namespace that exists or cannot be
 * seen (its pid cannot be checked from here), else whether that pid runs
 * with the recorded start time.
 */
/** The initial PID namespace (the kernel's PROC_PID_INIT_INO): from it, every process is visible. */
const INITIAL_PID_NS = 'pid:[4026531836]';

export function identityAlive(pid: number, identity: Partial<ProcessIdentity> | null | undefined): boolean | null {
  const own = ownIdentity();
  if (identity?.bootId && own.bootId && identity.bootId !== own.bootId) return false;
  if (identity?.pidNs && own.pidNs && identity.pidNs !== own.pidNs) {
    // only from the initial namespace are all others visible, so only there does "no process in it" mean it is gone
    return own.pidNs === INITIAL_PID_NS && !pidNamespaceExists(identity.pidNs) ? false : null;
  }
  if (!isRunning(pid)) return false;
  return identity?.startTicks == null || processStartTicks(pid) === identity.startTicks;
}

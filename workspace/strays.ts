import { readFileSync } from 'node:fs';
import { ExpctlError } from '../util/errors.js';
import { numericProcEntries, readStat, waitForGroupsGone } from '../util/procfs.js';
import { signalGroup } from './process.js';

const STRAY_GRACE_MS = 1000;
const STRAY_WAIT_MS = 5000;

export class StrayProcessError extends ExpctlError {
  constructor(readonly pgids: number[], readonly waitedMs: number) {
    super(
      'EXPCTL_STRAY_PROCESS',
      `process group(s) ${pgids.join(', ')} still have living members ${Math.round(waitedMs / 1000)} s after SIGKILL`,
      `a process may be stuck in the kernel (e.g. on a network file system); inspect it with \`ps -o pid,stat,cmd -g ${pgids[0] ?? ''}\` and retry once it is gone`,
    );
  }
}

/**
 * Process groups of processes whose environment holds `EXPCTL_EFFECT_KEY=<key>`
 * for one of the keys and an EXPCTL_RUN_DIR inside `scope` (the key alone is
 * the same in an experiment of the same id in another results folder).
 */
function groupsWithEffectKeys(envKeys: readonly string[], scope: string | undefined): number[] {
  if (envKeys.length === 0) return [];
  const wanted = new Set(envKeys.map((key) => `EXPCTL_EFFECT_KEY=${key}`));
  const inScope = (entries: string[]) => scope === undefined || entries.some((e) => e.startsWith(`EXPCTL_RUN_DIR=${scope}/`));
  const pgids = new Set<number>();
  for (const pid of numericProcEntries()) {
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    const entries = environ.split('\0');
    if (!entries.some((entry) => wanted.has(entry)) || !inScope(entries)) continue;
    // a supervised command (and its supervisor) is collected by the executor on resume, or stopped by it: not a stray
    if (entries.some((entry) => entry.startsWith('EXPCTL_COMMAND_KEY='))) continue;
    const stat = readStat(pid);
    if (stat && pid !== process.pid) pgids.add(stat.pgrp);
  }
  return [...pgids];
}

/** A recorded group is still ours unless its leader's pid now belongs to a process started at another time. */
function isRecordedGroup(record: { pgid: number; startTicks: number | null }): boolean {
  const leader = readStat(record.pgid);
  // Without a leader the pgid cannot have been reused: the kernel does not hand out a pid still used as a pgid.
  return leader === null || leader.startTicks === record.startTicks;
}

/**
 * Stops commands left running by a driver that died: the recorded process
 * groups (unless their pid was reused) and the groups of processes carrying
 * one of `envKeys` as EXPCTL_EFFECT_KEY. Commands that run under a
 * supervisor (workspace/executor.ts) are left alone: they are collected. SIGTERM, then SIGKILL after ~1 s;
 * resolves when they are gone and returns the pgids it signalled. Never
 * touches this process or its group. Throws StrayProcessError if a group
 * survives SIGKILL for ~5 s.
 *
 * @example
 * const killed = await stopStrayProcesses({ pgids: [{ pgid: 4242, startTicks: 241124 }], envKeys: ['exp/T0/a/1#agent'] });
 */
export async function stopStrayProcesses(targets: {
  pgids: { pgid: number; startTicks: number | null }[];
  envKeys: string[];
  /** The experiment's folder: only processes of runs inside it are its strays. */
  scope?: string;
}): Promise<number[]> {
  const own = new Set([process.pid, readStat(process.pid)?.pgrp]);
  const candidates = new Set([
    ...targets.pgids.filter(isRecordedGroup).map((record) => record.pgid),
    ...groupsWithEffectKeys(targets.envKeys, targets.scope),
  ]);
  const killed = [...candidates].filter((pgid) => !own.has(pgid) && signalGroup(pgid, 'SIGTERM'));
  const stubborn = await waitForGroupsGone(killed, STRAY_GRACE_MS);
  for (const pgid of stubborn) signalGroup(pgid, 'SIGKILL');
  const left = await waitForGroupsGone(stubborn, STRAY_WAIT_MS);
  if (left.length > 0) throw new StrayProcessError(left, STRAY_WAIT_MS);
  return killed;
}

import { sha256 } from '../util/hash.js';
import type { StoredSnapshot } from './types.js';

/*
 * A checkpoint vouches for the snapshots of its experiment's streams as they
 * were when it was recorded, with one digest: the sum (mod 2^256) of the
 * record hash of every snapshot. A checkpoint replaces the snapshots of the
 * streams that changed, so the digest is carried forward by subtracting the
 * replaced records and adding the new ones; whoever reads the snapshots sums
 * their record hashes again, from their content, and compares. Like the hash
 * chain, it shows any change to the snapshots that was not made by expctl,
 * without reading the rows they come from.
 */

const MOD = 1n << 256n;

/** The hash of a snapshot's whole record: what it says about its stream. */
export function snapshotRecordHash(s: StoredSnapshot): string {
  return sha256(JSON.stringify([s.stream, s.version, s.machine, s.recordedMachine, s.state, s.context, s.snapshotHash, s.parent, s.createdSeq, s.created]));
}

/** The digest of no snapshots. */
export const EMPTY_DIGEST = '0'.repeat(64);

/** `digest` with record hashes added and removed. */
export function moveDigest(digest: string, added: readonly string[], removed: readonly string[] = []): string {
  let sum = BigInt(`0x${digest}`);
  for (const h of added) sum += BigInt(`0x${h}`);
  for (const h of removed) sum -= BigInt(`0x${h}`);
  return (((sum % MOD) + MOD) % MOD).toString(16).padStart(64, '0');
}

/** The digest of these snapshots, from their content. */
export function snapshotsDigest(snapshots: readonly StoredSnapshot[]): string {
  return moveDigest(EMPTY_DIGEST, snapshots.map(snapshotRecordHash));
}

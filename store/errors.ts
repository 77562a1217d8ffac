import { ExpctlError } from '../util/errors.js';
import type { Lease } from './types.js';

/** An append whose expected version is not the stream's current one. Nothing was written. */
export class ExpectedVersionError extends ExpctlError {
  constructor(readonly stream: string, readonly expected: number, readonly actual: number) {
    super(
      'EXPCTL_VERSION_CONFLICT',
      `stream ${stream} is at version ${actual}, not ${expected}: another writer appended first`,
      'only one driver may append to an experiment; re-read the log and retry',
    );
  }
}

export class LeaseHeldError extends ExpctlError {
  constructor(readonly lease: Lease, readonly heartbeatAgeMs: number, readonly staleAfterMs: number) {
    super(
      'EXPCTL_LEASE_HELD',
      `experiment ${lease.experiment} is being driven by pid ${lease.pid} on host ${lease.host} (heartbeat ${Math.round(heartbeatAgeMs / 1000)} s ago)`,
      `wait for it, or stop it; a stale lease is taken over automatically after ${Math.round(staleAfterMs / 1000)} s`,
    );
  }
}

export class LeaseLostError extends ExpctlError {
  constructor(readonly experiment: string, readonly holder: Lease | null) {
    super(
      'EXPCTL_LEASE_LOST',
      holder
        ? `lost the lease on experiment ${experiment} to pid ${holder.pid} on host ${holder.host}`
        : `lost the lease on experiment ${experiment}`,
      'another driver took over after a missed heartbeat; this driver stops without writing more',
    );
  }
}

/** A log file that cannot be used: not SQLite, not an expctl log, or from a newer expctl. */
export class StoreOpenError extends ExpctlError {
  constructor(readonly file: string, problem: string, hint: string, options?: { cause?: unknown }) {
    super('EXPCTL_STORE_OPEN', `cannot open event log ${file}: ${problem}`, hint, options);
  }
}

/** A stored row that cannot be decoded (bad JSON, unknown event shape, future schema). */
export class CorruptRowError extends ExpctlError {
  constructor(readonly seq: number, readonly stream: string, readonly version: number, readonly problem: string) {
    super(
      'EXPCTL_CORRUPT_ROW',
      `row seq ${seq} (stream ${stream}, version ${version}) cannot be read: ${problem}`,
      'run `expctl verify` to see whether the log was tampered with or truncated',
    );
  }
}

/** A row that breaks a store rule before anything is written (e.g. a stream outside its experiment). */
export class InvalidAppendError extends ExpctlError {
  constructor(message: string) {
    super('EXPCTL_INVALID_APPEND', message, 'this is a bug in the caller; please report it');
  }
}

import type { ExperimentHead, StoredRow } from './types.js';

/**
 * What a store's writes know without asking the database again: the version
 * of every stream and the head of every experiment it has read or written.
 * Valid while no other connection has committed since (SQLite's
 * `data_version` tells, and it is read inside the write transaction, which
 * holds the write lock); emptied as soon as one has. Updated only after a
 * commit, so a write that fails leaves nothing of itself behind.
 */
export class WriteCache {
  private readonly versions = new Map<string, number>();
  private readonly heads = new Map<string, ExperimentHead | null>();
  private dataVersion: number | null = null;

  constructor(private readonly readDataVersion: () => number) {}

  /** At the start of a write transaction: forget everything if another connection wrote. */
  check(): void {
    const now = this.readDataVersion();
    if (now === this.dataVersion) return;
    this.versions.clear();
    this.heads.clear();
    this.dataVersion = now;
  }

  version(stream: string, read: () => number): number {
    let version = this.versions.get(stream);
    if (version === undefined) {
      version = read();
      this.versions.set(stream, version);
    }
    return version;
  }

  head(experiment: string, read: () => ExperimentHead | null): ExperimentHead | null {
    let head = this.heads.get(experiment);
    if (head === undefined) {
      head = read();
      this.heads.set(experiment, head);
    }
    return head;
  }

  /** After a commit of `rows` (in seq order) to `experiment`. */
  committed(experiment: string, rows: readonly StoredRow[]): void {
    const last = rows[rows.length - 1];
    if (!last) return;
    for (const row of rows) this.versions.set(row.stream, row.version);
    const head = this.heads.get(experiment);
    if (head === undefined) this.heads.delete(experiment);
    else this.heads.set(experiment, { experiment, rows: (head?.rows ?? 0) + rows.length, headSeq: last.seq, headHash: last.hash });
  }
}

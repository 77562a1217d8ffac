/**
 * A FIFO counting semaphore whose waits can be abandoned (AbortSignal), for
 * the concurrency limits (maxConcurrentRuns, maxConcurrentAgents).
 */
export class Semaphore {
  private readonly waiting: { grant: () => void; signal?: AbortSignal }[] = [];
  private active = 0;

  constructor(readonly limit: number) {}

  /** Resolves with a release function once a place is free; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const grant = () => {
        this.active += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active -= 1;
          this.next();
        });
      };
      if (this.active < this.limit) return grant();
      const entry = { grant, signal };
      this.waiting.push(entry);
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      }, { once: true });
    });
  }

  get inUse(): number {
    return this.active;
  }

  private next(): void {
    while (this.active < this.limit) {
      const entry = this.waiting.shift();
      if (!entry) return;
      if (!entry.signal?.aborted) entry.grant();
    }
  }
}

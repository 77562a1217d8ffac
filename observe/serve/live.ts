import { driverStatus } from '../status.js';
import type { EventStore } from '../../store/types.js';

/** Where an experiment's log stands: its last row and whether a driver is alive. What the page is told on every change. */
export interface Head {
  experiment: string;
  lastSeq: number;
  rows: number;
  /** true: a live driver holds it; false: its driver died; null: none (or on another host). */
  driver: boolean | null;
}

export type Listener = (heads: Head[]) => void;

/**
 * Looks at the log every `intervalMs` (by each experiment's head seq, and its
 * lease) and tells the listeners when anything changed. It reads what any
 * process appended, so a driver running elsewhere shows up; the server never
 * drives. One poller serves every open page.
 */
export class HeadWatcher {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | null = null;
  private last = '';
  private heads: Head[] = [];
  private leaseCheck = 0;

  constructor(private readonly store: EventStore, private readonly intervalMs = 250, private readonly onError: (error: unknown) => void = () => {}) {}

  /** The heads as of the last look. */
  current(): Head[] {
    if (this.last === '') this.look(true);
    return this.heads;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    this.timer ??= setInterval(() => this.look(false), this.intervalMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads the heads; the leases (a /proc look per experiment) every 4th time, or when a head moved. */
  private look(force: boolean): void {
    try {
      const heads = this.store.experiments();
      const moved = heads.length !== this.heads.length || heads.some((h, i) => h.headSeq !== this.heads[i]?.lastSeq || h.experiment !== this.heads[i]?.experiment);
      this.leaseCheck = (this.leaseCheck + 1) % 4;
      if (!force && !moved && this.leaseCheck !== 0) return;
      const next = heads.map((h) => ({ experiment: h.experiment, lastSeq: h.headSeq, rows: h.rows, driver: alive(this.store, h.experiment) }));
      const text = JSON.stringify(next);
      if (text === this.last) return;
      this.last = text;
      this.heads = next;
      for (const listener of this.listeners) listener(next);
    } catch (error) {
      this.onError(error);
    }
  }
}

function alive(store: EventStore, key: string): boolean | null {
  const driver = driverStatus(store, key);
  return driver ? driver.alive : null;
}

import type { AnyMachineSnapshot } from 'xstate';
import { createStep, eventStep, type Registry } from '../../engine/index.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import type { EventStore } from '../../store/types.js';

/**
 * Writes a small real experiment log the way the live loop does: one
 * transaction per transition, with actors created under their parent.
 */
export class LogWriter {
  private readonly actors = new Map<string, { machine: string; snapshot: AnyMachineSnapshot; version: number }>();
  private clock = Date.parse('2026-01-01T00:00:00.000Z');

  constructor(private readonly store: EventStore, private readonly registry: Registry, readonly experiment: string) {}

  create(stream: string, machineId: string, input: unknown, parent: string | null = null): this {
    const step = createStep(this.registry.get(machineId)!, stream, input, parent, this.meta('engine'));
    this.store.append(this.experiment, [step.row]);
    this.actors.set(stream, { machine: machineId, snapshot: step.snapshot, version: 1 });
    return this;
  }

  send(stream: string, ...events: LifecycleEvent[]): this {
    for (const event of events) {
      const actor = this.actors.get(stream)!;
      const step = eventStep(this.registry.get(actor.machine)!, stream, actor, event, this.meta('effect'));
      this.store.append(this.experiment, [step.row]);
      this.actors.set(stream, { ...actor, snapshot: step.snapshot, version: actor.version + 1 });
    }
    return this;
  }

  snapshot(stream: string): AnyMachineSnapshot {
    return this.actors.get(stream)!.snapshot;
  }

  private meta(cause: 'engine' | 'effect') {
    this.clock += 1000;
    return { at: new Date(this.clock).toISOString(), cause };
  }
}

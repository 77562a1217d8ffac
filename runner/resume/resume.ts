import { isFinal, isEvent, pendingEffect, type MachineChange, type ReplayedActor } from '../../engine/index.js';
import type { LifecycleEvent, Operator } from '../../schemas/events.js';
import type { AnyEvent, EventStore, Lease } from '../../store/types.js';
import { stopStrayProcesses } from '../../workspace/strays.js';
import { childrenOf, isFailed, localId, waitsForChildren } from '../actor-tree.js';

/** An event the orchestrator appends for Resume, as an operator action. */
export interface OperatorEvent {
  stream: string;
  event: AnyEvent;
  cause: 'operator';
}

/**
 * Resume (docs/design.md §4): what a driver does before it continues an
 * experiment from its log. Loading and verifying the log is runner/log.ts.
 */
export interface Resume {
  /** Stop commands that a killed driver left running, before their effects restart; returns the groups signalled. */
  stopStrays(store: EventStore, actors: ReadonlyMap<string, ReplayedActor>, dir: string): Promise<number[]>;
  /** The event that records the takeover of a stale lease. */
  takeover(key: string, previous: Lease, operator: Operator): OperatorEvent;
  /**
   * The resume as one decision (appended at once, so nothing reacts to half a
   * plan): retry, top down, every failed actor whose parent still waits for
   * it, then record the resume with the machine changes it adopts (I5).
   */
  resumeEvents(actors: ReadonlyMap<string, ReplayedActor>, key: string, operator: Operator, upgraded: MachineChange[]): OperatorEvent[];
}

export function createResume(deps: { stopStrayProcesses?: typeof stopStrayProcesses } = {}): Resume {
  const stop = deps.stopStrayProcesses ?? stopStrayProcesses;
  return {
    async stopStrays(store, actors, dir) {
      const pgids = [...actors.values()].flatMap((actor) => unfinishedCommands(store, actor.stream));
      const envKeys = [...actors.values()].flatMap((a) => pendingEffect(a.stream, a.snapshot)?.key ?? []);
      return pgids.length > 0 || envKeys.length > 0 ? stop({ pgids, envKeys, scope: dir }) : [];
    },

    takeover(key, previous, operator) {
      const data = { previous: { pid: previous.pid, host: previous.host, heartbeatAt: previous.heartbeatAt }, operator };
      return { stream: key, event: { type: 'lease.taken_over', data }, cause: 'operator' };
    },

    resumeEvents(actors, key, operator, upgraded) {
      const experiment = actors.get(key);
      if (!experiment || isFinal(experiment.snapshot)) return [];
      const resumed: LifecycleEvent = { type: 'operator.resumed', data: { operator } };
      const events: OperatorEvent[] = [];
      const visit = (parent: ReplayedActor): void => {
        if (!waitsForChildren(parent)) return;
        for (const child of childrenOf(actors, parent.stream)) {
          if (isFailed(child)) retry(child, parent);
          else if (!isFinal(child.snapshot)) visit(child);
        }
      };
      // a failed child first retries its own failed children, then its parent forgets its outcome, then it resumes
      const retry = (child: ReplayedActor, parent: ReplayedActor): void => {
        visit(child);
        events.push({ stream: parent.stream, event: retriedNotice(child), cause: 'operator' });
        events.push({ stream: child.stream, event: resumed, cause: 'operator' });
      };
      visit(experiment);
      events.push({ stream: key, event: { type: 'operator.resumed', data: { operator, ...(upgraded.length > 0 ? { upgraded } : {}) } }, cause: 'operator' });
      return events;
    },
  };
}

/** The notice that makes a parent forget a child's outcome: the `retried` event the child's machine declares. */
export function retriedNotice(child: ReplayedActor): AnyEvent {
  const type = child.entry.notices?.retried;
  if (!type) throw new Error(`machine ${child.entry.id} declares no retried notice, so ${child.stream} cannot be retried`);
  return { type, data: { child: localId(child) } };
}

/** Commands recorded as started by an effect attempt that has no completion or failure after it. */
function unfinishedCommands(store: EventStore, stream: string): { pgid: number; startTicks: number | null }[] {
  const open = new Map<string, { pgid: number; startTicks: number | null }[]>();
  for (const { event } of store.readStream(stream)) {
    // a supervised command is collected on resume (or stopped by its executor), never killed here
    if (isEvent(event, 'effect.started') && event.data.pgid !== undefined && event.data.supervisor === undefined) {
      const key = `${event.data.effect}/${event.data.attempt}`;
      open.set(key, [...(open.get(key) ?? []), { pgid: event.data.pgid, startTicks: event.data.startTicks ?? null }]);
    } else if (isEvent(event, 'effect.completed') || isEvent(event, 'effect.failed')) {
      open.delete(`${event.data.effect}/${event.data.attempt}`);
    }
  }
  return [...open.values()].flat();
}

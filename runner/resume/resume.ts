import { isFinal, pendingEffect, replay, stateMeta, verifyLog, type MachineChange, type Registry, type ReplayedActor, type ReplayResult, type Runtime } from '../../engine/index.js';
import { lifecycleRegistry } from '../../machines/index.js';
import { ExperimentConfig, type TierConfig } from '../../schemas/config.js';
import type { LifecycleEvent, Operator } from '../../schemas/events.js';
import type { EventStore, Lease } from '../../store/types.js';
import { ConfigChangedError, ExperimentNotFoundError, LogInvalidError } from '../errors.js';
import { waitsForChildren } from '../session.js';
import { compareFingerprints, configFingerprint } from '../setup/fingerprint.js';
import { stopStrayProcesses } from '../../workspace/strays.js';

/** What the log says about how an experiment was started. */
export interface RecordedStart {
  config: ExperimentConfig;
  configDir: string;
}

/** SPEC §4 Resume: load + replay + verify, lease takeover, deciding what to retry. */
export interface Resume {
  /** The log keys of an id's generations (`id`, `id~2`, …), oldest first. */
  generations(store: EventStore, id: string): string[];
  /** Verify the chain and replay every stream (I2, I4, I6); refuses a log that does not verify. */
  load(store: EventStore, key: string): ReplayResult;
  recordedStart(store: EventStore, key: string): RecordedStart;
  /** Compare the config given to `run` with the recorded one: refuse changes, return tiers added since. */
  checkConfig(key: string, recorded: RecordedStart, current: RecordedStart): TierConfig[];
  /** Stop commands that a killed driver left running, before their effects restart. */
  stopStrays(store: EventStore, actors: ReadonlyMap<string, ReplayedActor>): Promise<number[]>;
  /** Record a takeover of a stale lease. */
  tookOver(runtime: Runtime, key: string, previous: Lease, operator: Operator): void;
  /** Record the resume and retry, top down, every failed actor whose parent still waits for it. */
  resumeActors(runtime: Runtime, key: string, operator: Operator, upgraded?: MachineChange[]): void;
}

export function createResume(deps: { registry?: Registry; stopStrayProcesses?: typeof stopStrayProcesses } = {}): Resume {
  const registry = deps.registry ?? lifecycleRegistry;
  const stop = deps.stopStrayProcesses ?? stopStrayProcesses;
  return {
    generations(store, id) {
      const generation = (key: string) => (key === id ? 1 : Number(key.slice(id.length + 1)));
      return store.experiments().map((h) => h.experiment).filter((key) => key === id || new RegExp(`^${escape(id)}~\\d+$`).test(key)).sort((a, b) => generation(a) - generation(b));
    },

    load(store, key) {
      if (!store.head(key)) throw new ExperimentNotFoundError(key, store.location, store.experiments().map((h) => h.experiment));
      const report = verifyLog(store, registry, key);
      if (!report.ok) throw new LogInvalidError(key, report.problem!);
      return replay(store, registry, key);
    },

    recordedStart(store, key) {
      let start: RecordedStart | null = null;
      for (const { event } of store.readStream(key)) {
        if (event.type === 'actor.created') start = (event.data.input as { start?: RecordedStart }).start ?? start;
        if (event.type === 'experiment.tiers_added') start = event.data.start as RecordedStart;
      }
      if (!start) throw new LogInvalidError(key, 'its first row does not record the config it was started with');
      return { config: ExperimentConfig.parse(start.config), configDir: start.configDir };
    },

    checkConfig(key, recorded, current) {
      const comparison = compareFingerprints(configFingerprint(recorded.config, recorded.configDir), configFingerprint(current.config, current.configDir));
      const changes = [...comparison.changed, ...comparison.removed.map((t) => `tiers.${t} (removed)`)];
      if (changes.length > 0) throw new ConfigChangedError(key, changes);
      return current.config.tiers.filter((t) => comparison.added.includes(t.id));
    },

    async stopStrays(store, actors) {
      const pgids: { pgid: number; startTicks: number | null }[] = [];
      for (const actor of actors.values()) pgids.push(...unfinishedCommands(store, actor.stream));
      const envKeys = [...actors.values()].flatMap((a) => pendingEffect(a.stream, a.snapshot)?.key ?? []);
      return pgids.length > 0 || envKeys.length > 0 ? stop({ pgids, envKeys }) : [];
    },

    tookOver(runtime, key, previous, operator) {
      runtime.send(key, { type: 'lease.taken_over', data: { previous: { pid: previous.pid, host: previous.host, heartbeatAt: previous.heartbeatAt }, operator } }, 'operator');
    },

    resumeActors(runtime, key, operator, upgraded = []) {
      const experiment = runtime.actors.get(key);
      if (!experiment || isFinal(experiment.snapshot)) return;
      const resumed: LifecycleEvent = { type: 'operator.resumed', data: { operator } };
      const events: { stream: string; event: LifecycleEvent; cause: 'operator' }[] = [];
      const children = (parent: string) => [...runtime.actors.values()].filter((a) => a.parent === parent);
      const isFailed = (a: ReplayedActor) => stateMeta(a.snapshot).outcome === 'failed';
      const visit = (parent: ReplayedActor): void => {
        if (!waitsForChildren(parent)) return;
        for (const child of children(parent.stream)) {
          if (isFailed(child)) retry(child, parent);
          else if (!isFinal(child.snapshot)) visit(child);
        }
      };
      // a failed child first retries its own failed children, then its parent forgets its outcome, then it resumes
      const retry = (child: ReplayedActor, parent: ReplayedActor): void => {
        visit(child);
        const id = child.stream.slice(parent.stream.length + 1);
        events.push({ stream: parent.stream, event: { type: `${child.entry.id}.retried`, data: { child: id } } as LifecycleEvent, cause: 'operator' });
        events.push({ stream: child.stream, event: resumed, cause: 'operator' });
      };
      visit(experiment);
      // I5: a compatible machine change is recorded with the resume that adopts it
      events.push({ stream: key, event: { type: 'operator.resumed', data: { operator, ...(upgraded.length > 0 ? { upgraded } : {}) } }, cause: 'operator' });
      // one decision, one append: nothing reacts to a half-made plan
      runtime.sendAll(events);
    },
  };
}

/** Commands recorded as started by an effect attempt that has no completion or failure after it. */
function unfinishedCommands(store: EventStore, stream: string): { pgid: number; startTicks: number | null }[] {
  const open = new Map<string, { pgid: number; startTicks: number | null }[]>();
  for (const { event } of store.readStream(stream)) {
    if (event.type === 'effect.started' && event.data.pgid !== undefined) {
      const key = `${event.data.effect}/${event.data.attempt}`;
      open.set(key, [...(open.get(key) ?? []), { pgid: event.data.pgid, startTicks: event.data.startTicks ?? null }]);
    } else if (event.type === 'effect.completed' || event.type === 'effect.failed') {
      open.delete(`${event.data.effect}/${event.data.attempt}`);
    }
  }
  return [...open.values()].flat();
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

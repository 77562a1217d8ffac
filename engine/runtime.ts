import type { AnyEvent, Cause, StateValue, StoredRow } from '../store/types.js';
import { commandRecords, EffectFailure, type EffectContext, type SpawnSpec } from './effects.js';
import { Checkpointer } from './checkpoint.js';
import type { CommittedRow, RuntimeOptions } from './runtime-options.js';
import type { ReplayedActor } from './replay.js';
import { sameState, stateName } from './snapshot.js';
import { stateMeta } from './state-meta.js';
import { createStep, eventStep, pendingEffect, type EffectRequest, type Step } from './step.js';

type Work = { kind: 'event'; stream: string; event: AnyEvent; cause: Cause } | { kind: 'create'; spec: SpawnSpec; parent: string | null; cause: Cause };

/**
 * The live loop of the durable runtime (docs/design.md §4): append the
 * transition, then start the effects the new state names (I1); an effect's
 * result is appended as an event and drives the next transition. Appends are
 * synchronous and therefore serialised and ordered. Knows nothing of
 * experiments: it drives whatever machines the registry holds.
 */
export class Runtime {
  readonly actors: Map<string, ReplayedActor>;
  private readonly running = new Map<string, AbortController>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly stopController = new AbortController();
  private idleWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private fatal: unknown = null;
  /** Effects not started because of `hold`, by idempotency key. */
  readonly held = new Set<string>();
  /** Effects whose state an earlier driver entered (resumeEffects): their work may exist already. */
  private readonly resumedKeys = new Set<string>();
  private readonly clock: () => number;
  /** Effects held during the commit (or resumeEffects) in progress, for `react`. */
  private heldNow: EffectRequest[] = [];
  private readonly checkpointer: Checkpointer | null;

  constructor(private readonly options: RuntimeOptions, actors: Map<string, ReplayedActor> = new Map()) {
    this.actors = actors;
    this.clock = options.clock ?? Date.now;
    this.checkpointer = options.checkpoints ? new Checkpointer(options.store, options.experiment, options.checkpoints) : null;
  }

  /** Record a checkpoint now (the end of a drive) if there is anything new to vouch for; a log that refuses it stops the runtime. */
  checkpoint(): void {
    if (this.fatal || !this.checkpointer) return;
    try {
      this.checkpointer.write(this.actors);
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Create actors (first row `actor.created`) under `parent`. */
  create(specs: readonly SpawnSpec[], parent: string | null, cause: Cause = 'engine'): StoredRow[] {
    return this.commit(specs.map((spec) => ({ kind: 'create', spec, parent, cause })));
  }

  /** Send one event to an actor; parents hear of children that finish, in the same append. */
  send(stream: string, event: AnyEvent, cause: Cause): StoredRow[] {
    return this.commit([{ kind: 'event', stream, event, cause }]);
  }

  /** Send several events as one decision: one append, and observers see only the result. */
  sendAll(events: readonly { stream: string; event: AnyEvent; cause: Cause }[]): StoredRow[] {
    return events.length === 0 ? [] : this.commit(events.map((e) => ({ kind: 'event' as const, ...e })));
  }

  /** After replay (I3): restart the effect of every actor in an action state, and every pending timer; then the driver reacts. */
  resumeEffects(): void {
    for (const actor of this.actors.values()) {
      const pending = pendingEffect(actor.stream, actor.snapshot);
      if (pending) this.resumedKeys.add(pending.key);
      if (pending) this.drive(actor, pending);
      this.scheduleTimer(actor);
    }
    this.react([]);
  }

  /** Stop starting effects, abort the running ones, and wait until they have settled. */
  async stop(reason: unknown = 'stopped'): Promise<void> {
    if (!this.stopping) this.stopController.abort(reason);
    for (const controller of this.running.values()) controller.abort(reason);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.whenIdle().catch(() => undefined);
  }

  /** Resolves when no effect runs and no timer waits; rejects if an append failed (the log refused a write). */
  whenIdle(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ resolve, reject });
      this.checkIdle();
    });
  }

  get busy(): number {
    return this.running.size + this.timers.size;
  }

  private commit(work: Work[]): StoredRow[] {
    if (this.fatal) throw this.fatal;
    const staged = new Map<string, ReplayedActor>();
    const steps: { stream: string; step: Step; before: StateValue | null }[] = [];
    const queue = [...work];
    for (let item = queue.shift(); item; item = queue.shift()) {
      const target = item.kind === 'create' ? item.spec.stream : item.stream;
      const before = ((staged.get(target) ?? this.actors.get(target))?.snapshot.value ?? null) as StateValue | null;
      const { stream, step, actor } = this.apply(item, staged);
      staged.set(stream, actor);
      steps.push({ stream, step, before });
      const notice = this.finishedNotice(item, actor, step, before);
      if (notice) queue.push(notice);
    }
    let rows: StoredRow[];
    try {
      rows = this.options.store.append(this.options.experiment, steps.map((s) => s.step.row), { durable: this.mustReachDisk(work, steps) });
    } catch (error) {
      this.fail(error);
      throw error;
    }
    for (const row of rows) if (row.version === 1) staged.get(row.stream)!.createdSeq = row.seq;
    for (const [stream, actor] of staged) this.actors.set(stream, actor);
    this.checkpointer?.committed(rows);
    if (this.checkpointer?.due) this.checkpoint();
    const committed = rows.map((row, i) => ({ row, before: steps[i]!.before }));
    this.options.observer?.committed?.(committed, this.actors);
    for (const { stream, step } of steps) {
      const actor = this.actors.get(stream)!;
      for (const request of step.effects) this.drive(actor, request);
      this.scheduleTimer(actor);
    }
    this.react(committed);
    return rows;
  }

  /**
   * I1: a row reaches the disk before the effects it starts, unless every one
   * of them is local (`localEffects`: idempotent, on this machine, cheap to
   * redo): such a row is committed without waiting for the disk and reaches it
   * with the next durable commit (a group commit). A power loss in between
   * sends the actor back to a state whose effect is redone. Timers (a wait
   * whose deadline must hold) and operators' rows always wait for the disk.
   */
  private mustReachDisk(work: readonly Work[], steps: readonly { step: Step }[]): boolean {
    const local = this.options.localEffects;
    if (!local) return true;
    if (work.some((item) => item.cause === 'operator')) return true;
    return steps.some(({ step }) => step.effects.some((e) => !local.has(e.effect)) || Boolean(stateMeta(step.snapshot).timer));
  }

  /** The driver's decisions after a commit: created first (one append), then each event (one append each). */
  private react(rows: readonly CommittedRow[]): void {
    const held = this.heldNow;
    this.heldNow = [];
    const decision = this.options.react?.({ rows, held });
    if (!decision || this.fatal) return;
    const { create, send = [] } = decision;
    if (create && create.specs.length > 0) this.create(create.specs, create.parent);
    for (const { stream, event } of send) this.send(stream, event, 'engine');
  }

  private apply(item: Work, staged: Map<string, ReplayedActor>): { stream: string; step: Step; actor: ReplayedActor } {
    const at = new Date(this.clock()).toISOString();
    if (item.kind === 'create') {
      const { stream, machine, input } = item.spec;
      const entry = this.options.registry.get(machine);
      if (!entry) throw new Error(`no machine "${machine}" is registered`);
      const step = createStep(entry, stream, input, item.parent, { at, cause: item.cause });
      return { stream, step, actor: { stream, entry, snapshot: step.snapshot, version: 1, parent: item.parent, created: at, createdSeq: 0, recordedMachine: entry.ref } };
    }
    const current = staged.get(item.stream) ?? this.actors.get(item.stream);
    if (!current) throw new Error(`no actor ${item.stream}`);
    const step = eventStep(current.entry, item.stream, current, item.event, { at, cause: item.cause });
    return { stream: item.stream, step, actor: { ...current, snapshot: step.snapshot, version: current.version + 1, recordedMachine: current.entry.ref } };
  }

  /** Entering a state with an outcome tells the parent, with the machine's `finished` notice in its stream (docs/design.md §2). */
  private finishedNotice(item: Work, actor: ReplayedActor, step: Step, before: StateValue | null): Work | null {
    const outcome = stateMeta(step.snapshot).outcome;
    const notice = actor.entry.notices?.finished;
    if (!outcome || !actor.parent || !notice || item.kind === 'create') return null;
    if (sameState(before, step.snapshot.value as StateValue)) return null;
    const child = actor.stream.slice(actor.parent.length + 1);
    return { kind: 'event', stream: actor.parent, event: { type: notice, data: { child, outcome } }, cause: 'child' };
  }

  private drive(actor: ReplayedActor, request: EffectRequest): void {
    if (this.options.hold?.(request, actor)) {
      this.held.add(request.key);
      this.heldNow.push(request);
    } else if (!this.stopping && !this.running.has(request.key)) void this.execute(actor, request);
  }

  private async execute(actor: ReplayedActor, request: EffectRequest): Promise<void> {
    const controller = new AbortController();
    this.running.set(request.key, controller);
    let release = () => {};
    try {
      const admitted = this.options.admit ? await this.options.admit(request, actor, controller.signal) : release;
      if (admitted === null) {
        this.held.add(request.key);
        return;
      }
      release = admitted;
      await this.backoff(actor, controller.signal);
      if (controller.signal.aborted) return;
      await this.perform(actor, request, controller.signal);
    } catch (error) {
      if (!controller.signal.aborted && !this.fatal) this.fail(error);
    } finally {
      release();
      this.running.delete(request.key);
      this.checkIdle();
    }
  }

  private async perform(actor: ReplayedActor, request: EffectRequest, signal: AbortSignal): Promise<'completed' | 'failed' | 'aborted'> {
    const { effect, attempt } = request;
    try {
      const result = await this.options.handler(request, actor)(this.contextFor(actor, request, signal));
      const work: Work[] = [{ kind: 'event', stream: request.stream, event: { type: 'effect.completed', data: { effect, attempt, output: result.output ?? null } }, cause: 'effect' }];
      for (const { stream, event } of result.events ?? []) work.unshift({ kind: 'event', stream, event, cause: 'engine' });
      for (const spec of result.spawn ?? []) work.unshift({ kind: 'create', spec, parent: request.stream, cause: 'engine' });
      if (!this.fatal) this.commit(work);
      return 'completed';
    } catch (error) {
      if (signal.aborted || this.fatal) return 'aborted';
      const failure = error instanceof EffectFailure ? error : null;
      const data = {
        effect,
        attempt,
        error: { message: (error as Error)?.message ?? String(error), ...(error instanceof Error && 'code' in error ? { code: String(error.code) } : {}) },
        retryable: failure ? failure.retryable : true,
        ...(failure?.rateLimit ? { rateLimit: failure.rateLimit } : {}),
        ...(failure?.output !== undefined ? { output: failure.output } : {}),
      };
      this.commit([{ kind: 'event', stream: request.stream, event: { type: 'effect.failed', data }, cause: 'effect' }]);
      return 'failed';
    }
  }

  private contextFor(actor: ReplayedActor, request: EffectRequest, signal: AbortSignal): EffectContext {
    return {
      request,
      actor: this.actors.get(actor.stream) ?? actor,
      signal,
      store: this.options.store,
      history: () => this.options.store.readStream(request.stream),
      ...commandRecords(request, (event) => this.commit([{ kind: 'event', stream: request.stream, event, cause: 'effect' }])),
      resumed: this.resumedKeys.has(request.key),
    };
  }

  private async backoff(actor: ReplayedActor, signal: AbortSignal): Promise<void> {
    const failures = (actor.snapshot.context as { failures?: number }).failures ?? 0;
    const ms = failures > 0 ? (this.options.backoffMs?.(failures) ?? 0) : 0;
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }

  /** A state with a timer (e.g. run_rate_limited) sends `timer.elapsed` at the deadline recorded in its context. */
  private scheduleTimer(actor: ReplayedActor): void {
    const timer = stateMeta(actor.snapshot).timer;
    const existing = this.timers.get(actor.stream);
    if (existing) clearTimeout(existing);
    this.timers.delete(actor.stream);
    if (!timer || this.stopping) return;
    if (this.options.hold?.(null, actor)) {
      const request = { stream: actor.stream, state: stateName(actor.snapshot.value as StateValue), effect: `timer ${timer.name}`, attempt: 0, key: `${actor.stream}/timer/${timer.name}` };
      this.held.add(request.key);
      this.heldNow.push(request);
      return;
    }
    const at = Number((actor.snapshot.context as Record<string, unknown>)[timer.field] ?? 0);
    const handle = setTimeout(() => {
      this.timers.delete(actor.stream);
      if (this.stopping || this.fatal) return this.checkIdle();
      try {
        this.send(actor.stream, { type: 'timer.elapsed', data: { timer: timer.name, at: this.clock() } }, 'timer');
      } catch {
        // the failure is recorded as fatal by commit(); waiters are told
      }
      this.checkIdle();
    }, Math.max(0, at - this.clock()));
    this.timers.set(actor.stream, handle);
  }

  private fail(error: unknown): void {
    if (this.fatal) return;
    this.fatal = error;
    this.stopController.abort(error);
    for (const controller of this.running.values()) controller.abort(error);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.checkIdle();
  }

  private checkIdle(): void {
    queueMicrotask(() => {
      if (this.busy > 0) return;
      const waiters = this.idleWaiters.splice(0);
      for (const w of waiters) (this.fatal ? w.reject(this.fatal) : w.resolve());
    });
  }
}

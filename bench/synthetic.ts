import { canonicalJson } from '../util/canonical-json.js';
import { createStep, essenceHash, eventStep, type RegisteredMachine, type Step } from '../engine/index.js';
import { RUN_STEPS } from '../machines/index.js';
import { lifecycleRegistry } from '../runner/registry.js';
import type { LifecycleEvent } from '../schemas/events.js';
import type { AppendRow, Cause, EventStore, StoredRow, StoredSnapshot } from '../store/types.js';
import { CHECKPOINT_EVERY } from '../engine/index.js';
import type { AnyMachineSnapshot } from 'xstate';

/**
 * Big experiment logs, fast, as the live loop writes them: the experiment,
 * its tiers and subtests are stepped through the real machines with the
 * engine's pure steps; a run, whose rows differ from another run's only by
 * its tier, subtest and number (in its input and context), is one run's rows
 * made once through the machine with placeholder values, filled in. The rows
 * are appended in big transactions, with the checkpoints a driver records.
 * `replay` and `verify` check every row, so the benches would fail on a
 * fixture that did not replay.
 */
export interface Shape {
  key: string;
  tiers: number;
  subtests: number;
  /** Runs per subtest. */
  runs: number;
  /** The last this many runs are left waiting for their agent (a driver killed mid-way): the experiment is not complete. */
  running?: number;
}

const T = 'TIER_PLACEHOLDER';
const S = 'SUBTEST_PLACEHOLDER';
const R = 987654321;
const P = 'PARENT_PLACEHOLDER';
const at0 = Date.parse('2026-01-01T00:00:00.000Z');

interface RowTemplate { event: LifecycleEvent; state: string; context: string; status: string; data: string }

/** A run's events as a real drive records them: created, each step's completion, and the started commands of its agent and judges. */
function runEvents(): LifecycleEvent[] {
  const started = (effect: string, state: string): LifecycleEvent => ({
    type: 'effect.started', data: { effect, attempt: 1, key: `${P}/${R}/${state}/1`, pid: 4242, pgid: 4242, startTicks: 1234567, command: ['node', 'agent.mjs', '{prompt}'] },
  });
  const events: LifecycleEvent[] = [{ type: 'actor.created', data: { input: { tier: T, subtest: S, run: R, maxAttempts: 3 }, parent: P } }];
  for (const [state, effect] of RUN_STEPS) {
    if (effect === 'runAgent' || effect === 'runJudges') events.push(started(effect, state));
    events.push({ type: 'effect.completed', data: { effect, attempt: 1, output: null } });
  }
  return events;
}

/** A run's rows through the run machine, with placeholders for tier, subtest, run and parent. */
function runTemplate(): RowTemplate[] {
  const entry = lifecycleRegistry.get('run')!;
  const [created, ...events] = runEvents();
  const input = (created as { data: { input: unknown } }).data.input;
  let step = createStep(entry, 'x', input, P, { at: '', cause: 'engine' });
  const rows = [templateOf(step, created!)];
  events.forEach((event, i) => {
    step = eventStep(entry, 'x', { snapshot: step.snapshot, version: i + 1 }, event, { at: '', cause: 'effect' });
    rows.push(templateOf(step, event));
  });
  return rows;
}

const templateOf = (step: Step, event: LifecycleEvent): RowTemplate => ({ event, state: step.row.texts!.state, context: step.row.texts!.context, status: step.snapshot.status, data: canonicalJson(event.data) });

/** What the effects of a run output, as a real run records them (varying by run, so results have something to aggregate). */
function runOutput(effect: string, n: number): unknown {
  const score = (n % 5) / 4;
  switch (effect) {
    case 'runAgent': return { exitCode: 0, timedOut: false, durationMs: 1000 + (n % 97), tokens: 1000 + (n % 13) * 10, costUsd: 0.01 + (n % 7) / 1000 };
    case 'captureDiff': return { filesChanged: 1 + (n % 3), insertions: 10 + (n % 11), deletions: n % 5, patch: `diff-${n}.patch` };
    case 'runJudges': return { durationsMs: [50], grade: score >= 0.75 ? 'A' : 'C', passed: score >= 0.5, score, verdicts: [{ grade: score >= 0.75 ? 'A' : 'C', passed: score >= 0.5, reasoning: 'bench', score }] };
    case 'buildRunResult': return { passed: score >= 0.5, score };
    default: return { ok: true };
  }
}

/** Writes a shape into a store: rows in big transactions, a checkpoint every CHECKPOINT_EVERY rows and at the end. */
export class SyntheticWriter {
  private readonly pending: AppendRow[] = [];
  private readonly versions = new Map<string, number>();
  private readonly actors = new Map<string, { entry: RegisteredMachine; snapshot: AnyMachineSnapshot }>();
  private readonly creations = new Map<string, Pick<StoredSnapshot, 'parent' | 'createdSeq' | 'created'>>();
  /** The row of each stream changed since the last checkpoint. */
  private readonly changed = new Map<string, StoredRow>();
  private readonly template = runTemplate();
  private last: StoredRow | null = null;
  private sinceCheckpoint = 0;
  rows = 0;

  constructor(private readonly store: EventStore, private readonly key: string, private readonly batch = 5000) {}

  create(stream: string, machine: string, input: unknown, parent: string | null): void {
    const step = createStep(lifecycleRegistry.get(machine)!, stream, input, parent, this.meta('engine'));
    this.actors.set(stream, { entry: lifecycleRegistry.get(machine)!, snapshot: step.snapshot });
    this.push(step.row);
  }

  send(stream: string, event: LifecycleEvent, cause: Cause = 'effect'): void {
    const actor = this.actors.get(stream)!;
    const step = eventStep(actor.entry, stream, { snapshot: actor.snapshot, version: this.versions.get(stream)! }, event, this.meta(cause));
    actor.snapshot = step.snapshot;
    this.push(step.row);
  }

  complete(stream: string, effect: string, output: unknown = { ok: true }): void {
    this.send(stream, { type: 'effect.completed', data: { effect, attempt: 1, output } });
  }

  state(stream: string): string {
    return String(this.actors.get(stream)!.snapshot.value);
  }

  /** A run's first `steps` rows (all of them by default), from the template; completions carry the outputs a real run records. */
  run(tier: string, subtest: string, n: number, steps = this.template.length): void {
    const stream = `${this.key}/${tier}/${subtest}/${n}`;
    const fill = (text: string) => text.replaceAll(P, `${this.key}/${tier}/${subtest}`).replaceAll(T, tier).replaceAll(S, subtest).replaceAll(String(R), String(n));
    this.template.slice(0, steps).forEach((t, i) => {
      const context = fill(t.context);
      const { type, data } = t.event as { type: string; data: { effect?: string } };
      const output = type === 'effect.completed' ? { ...data, output: runOutput(data.effect!, n) } : null;
      const { at, cause } = this.meta(i === 0 ? 'engine' : 'effect');
      this.push({
        stream, expectedVersion: i, event: { type, data: output ?? JSON.parse(fill(t.data)) }, state: JSON.parse(t.state) as string, context: JSON.parse(context) as unknown,
        snapshotHash: essenceHash(t.status, t.state, context), machine: lifecycleRegistry.get('run')!.ref, at, cause, texts: { state: t.state, context },
      });
    });
  }

  /** Write what is pending; record a checkpoint if one is due (or `force`). */
  flush(force = false): void {
    if (this.pending.length > 0) {
      for (const row of this.store.append(this.key, this.pending.splice(0))) {
        if (row.version === 1) this.creations.set(row.stream, { parent: (row.event.data as { parent: string | null }).parent, createdSeq: row.seq, created: row.at });
        this.changed.set(row.stream, row);
        this.last = row;
        this.sinceCheckpoint += 1;
      }
    }
    if ((force || this.sinceCheckpoint >= CHECKPOINT_EVERY) && this.last && this.changed.size > 0) this.checkpoint();
  }

  private checkpoint(): void {
    const snapshots: StoredSnapshot[] = [...this.changed.values()].map((r) => {
      const { parent, createdSeq, created } = this.creations.get(r.stream)!;
      return { stream: r.stream, version: r.version, machine: r.machine, recordedMachine: r.machine, state: r.raw.state, context: r.raw.context, snapshotHash: r.snapshotHash, parent, createdSeq, created };
    });
    this.store.saveCheckpoint(this.key, { seq: this.last!.seq, hash: this.last!.hash, streams: this.versions.size }, snapshots);
    this.changed.clear();
    this.sinceCheckpoint = 0;
  }

  private push(row: AppendRow): void {
    this.versions.set(row.stream, row.expectedVersion + 1);
    this.pending.push(row);
    this.rows += 1;
    // a driver checkpoints every CHECKPOINT_EVERY rows: appends here are that big at most
    if (this.pending.length >= Math.min(this.batch, CHECKPOINT_EVERY)) this.flush();
  }

  private meta(cause: Cause) {
    return { at: new Date(at0 + this.rows * 10).toISOString(), cause };
  }
}

/** Write a whole experiment of this shape into `store` (as a driver would have, up to where it stopped); returns its row count. */
export function writeSynthetic(store: EventStore, shape: Shape): number {
  const w = new SyntheticWriter(store, shape.key);
  const { key } = shape;
  const tiers = Array.from({ length: shape.tiers }, (_, t) => `T${t}`);
  const subtests = Array.from({ length: shape.subtests }, (_, s) => `s${s}`);
  const total = shape.tiers * shape.subtests * shape.runs;
  const running = shape.running ?? 0;
  w.create(key, 'experiment', { experiment: key, tiers: tiers.map((id) => ({ id, dependsOn: [] })), failFast: false, maxAttempts: 3, start: { config: {}, configDir: '/tmp' } }, null);
  w.complete(key, 'initializeExperiment', { configHash: 'c'.repeat(64), dir: `/tmp/${key}` });
  w.complete(key, 'prepareRepository', { repoDir: `/tmp/${key}/repo`, commit: 'a'.repeat(40) });
  w.complete(key, 'preflightChecks', { groups: [tiers] });
  let n = 0;
  for (const tier of tiers) {
    const t = `${key}/${tier}`;
    w.create(t, 'tier', { tier, maxAttempts: 3 }, key);
    w.complete(t, 'loadTierConfig', { subtests });
    for (const subtest of subtests) w.create(`${t}/${subtest}`, 'subtest', { tier, subtest, runs: shape.runs, maxAttempts: 3 }, t);
    w.complete(t, 'startSubtests', { subtests: subtests.length });
    for (const subtest of subtests) {
      const s = `${t}/${subtest}`;
      w.complete(s, 'startRuns', { runs: shape.runs });
      for (let run = 1; run <= shape.runs; run++) {
        n += 1;
        if (n > total - running) w.run(tier, subtest, run, 7); // its agent started, not finished
        else {
          w.run(tier, subtest, run);
          w.send(s, { type: 'run.finished', data: { child: String(run), outcome: 'completed' } }, 'child');
        }
      }
      if (w.state(s) === 'subtest_runs_complete') finishSubtest(w, t, s, subtest);
    }
    if (w.state(t) === 'tier_subtests_complete') finishTier(w, key, t, tier, subtests[0]!);
  }
  if (w.state(key) === 'exp_tiers_complete') {
    w.complete(key, 'writeExperimentReports', { report: `/tmp/${key}/report.md` });
    w.complete(key, 'completeExperiment', { summary: `/tmp/${key}/summary.md` });
  }
  // a complete drive ends with a checkpoint; one killed mid-way leaves the rows after its last
  w.flush(running === 0);
  return w.rows;
}

function finishSubtest(w: SyntheticWriter, tier: string, stream: string, subtest: string): void {
  w.complete(stream, 'aggregateSubtest', { passRate: 0.6, medianScore: 0.5, totalTokens: 1000 });
  w.send(tier, { type: 'subtest.finished', data: { child: subtest, outcome: 'completed' } }, 'child');
}

function finishTier(w: SyntheticWriter, key: string, stream: string, tier: string, best: string): void {
  w.complete(stream, 'selectBestSubtest', { subtest: best, reason: 'bench' });
  w.complete(stream, 'writeTierReport', { report: `/tmp/${stream}/report.md` });
  w.complete(stream, 'completeTier', { durationMs: 1000 });
  w.send(key, { type: 'tier.finished', data: { child: tier, outcome: 'completed' } }, 'child');
}

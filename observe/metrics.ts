import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isEvent, isFinal, sameState, stateMeta, type CommittedRow, type ReplayedActor } from '../engine/index.js';
import { identityOf, RUN_FAILED, RUN_RATE_LIMITED } from '../machines/index.js';
import type { ExperimentWatcher } from '../runner/watcher.js';

export type Outcome = 'completed' | 'failed' | 'interrupted';
export type DurationLevel = 'run' | 'subtest' | 'tier';

/**
 * The metrics of one experiment, in Prometheus terms (docs/design.md §8).
 * Durations are recorded whatever the outcome: completed, failed, or
 * interrupted.
 */
export interface Metrics {
  duration(level: DurationLevel, outcome: Outcome, labels: { tier?: string; subtest?: string }, ms: number): void;
  effectRetry(effect: string): void;
  rateLimitPause(): void;
  eventsAppended(rows: number): void;
  replayDuration(ms: number): void;
  /** What an agent execution spent (failed and retried ones too). */
  agentSpend(labels: { tier: string; subtest: string }, costUsd: number | null, tokens: number | null): void;
  /** A run got its outcome: passed or not (judged), or errored. */
  runOutcome(labels: { tier: string; subtest: string }, outcome: 'passed' | 'not_passed' | 'errored'): void;
  /** The Prometheus text exposition format. */
  text(): Promise<string>;
  /** Label every sample with the experiment (its key is known once the run starts). */
  setExperiment(key: string): void;
}

const SECONDS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600];

/** A registry of its own per experiment (not prom-client's global one), so experiments and tests never mix. */
export function createMetrics(experiment?: string): Metrics {
  const registry = new Registry();
  if (experiment) registry.setDefaultLabels({ experiment });
  const histogram = (level: DurationLevel, labelNames: string[]) =>
    new Histogram({ name: `expctl_${level}_duration_seconds`, help: `Duration of a ${level} from its creation to its end, by outcome`, labelNames, buckets: SECONDS, registers: [registry] });
  const durations = {
    run: histogram('run', ['tier', 'subtest', 'outcome']),
    subtest: histogram('subtest', ['tier', 'subtest', 'outcome']),
    tier: histogram('tier', ['tier', 'outcome']),
  };
  const retries = new Counter({ name: 'expctl_effect_retries_total', help: 'Effect attempts that failed and were retried', labelNames: ['effect'], registers: [registry] });
  const pauses = new Counter({ name: 'expctl_rate_limit_pauses_total', help: 'Runs paused by a rate limit', registers: [registry] });
  const events = new Counter({ name: 'expctl_events_appended_total', help: 'Rows appended to the event log', registers: [registry] });
  const replay = new Gauge({ name: 'expctl_replay_duration_seconds', help: 'Time the last resume took to verify and replay the log', registers: [registry] });
  const cost = new Counter({ name: 'expctl_agent_cost_usd_total', help: 'USD the agent executions of this driver reported spending, failed and retried ones included', labelNames: ['tier', 'subtest'], registers: [registry] });
  const tokens = new Counter({ name: 'expctl_agent_tokens_total', help: 'Tokens the agent executions of this driver reported, failed and retried ones included', labelNames: ['tier', 'subtest'], registers: [registry] });
  const outcomes = new Counter({ name: 'expctl_runs_total', help: 'Runs that got an outcome under this driver: passed, not_passed (judged), errored', labelNames: ['tier', 'subtest', 'outcome'], registers: [registry] });
  return {
    duration(level, outcome, labels, ms) {
      const names = level === 'tier' ? { tier: labels.tier ?? '' } : { tier: labels.tier ?? '', subtest: labels.subtest ?? '' };
      durations[level].observe({ ...names, outcome }, ms / 1000);
    },
    effectRetry: (effect) => retries.inc({ effect }),
    rateLimitPause: () => pauses.inc(),
    eventsAppended: (rows) => events.inc(rows),
    replayDuration: (ms) => replay.set(ms / 1000),
    agentSpend(labels, usd, n) {
      if (usd !== null) cost.inc(labels, usd);
      if (n !== null) tokens.inc(labels, n);
    },
    runOutcome: (labels, outcome) => outcomes.inc({ ...labels, outcome }),
    text: () => registry.metrics(),
    setExperiment: (key) => registry.setDefaultLabels({ experiment: key }),
  };
}

const LEVELS: readonly string[] = ['run', 'subtest', 'tier'];

/** An actor's duration from its creation to `end`, by outcome (runs, subtests and tiers only). */
function recordDuration(metrics: Metrics, actor: ReplayedActor, outcome: Outcome, end: number): void {
  if (!LEVELS.includes(actor.entry.id)) return;
  const { tier, subtest } = identityOf(actor);
  metrics.duration(actor.entry.id as DurationLevel, outcome, { tier, subtest }, Math.max(0, end - Date.parse(actor.created)));
}

/** A run's spend (each agent execution's end) and outcome (its verdict, or its failure). */
function recordRun(metrics: Metrics, actor: ReplayedActor, row: CommittedRow['row'], before: CommittedRow['before']): void {
  const { tier = '', subtest = '' } = identityOf(actor);
  const { event } = row;
  if ((isEvent(event, 'effect.completed') || isEvent(event, 'effect.failed')) && event.data.effect === 'runAgent') {
    const usage = (event.data as { output?: { costUsd?: number | null; tokens?: number | null } | null }).output;
    if (usage) metrics.agentSpend({ tier, subtest }, usage.costUsd ?? null, usage.tokens ?? null);
  }
  if (isEvent(event, 'effect.completed') && event.data.effect === 'buildRunResult') {
    const result = event.data.output as { passed?: boolean } | null;
    if (result && typeof result.passed === 'boolean') metrics.runOutcome({ tier, subtest }, result.passed ? 'passed' : 'not_passed');
  }
  if (row.state === RUN_FAILED && !sameState(before, row.state)) metrics.runOutcome({ tier, subtest }, 'errored');
}

/**
 * Records an experiment's metrics from what the driver appends: rows, effect
 * retries (a failed attempt that leaves the actor in its state), rate-limit
 * pauses (entering run_rate_limited), durations of actors that reach an
 * outcome, and, when the driver is interrupted, of those still under way.
 */
export function metricsWatcher(metrics: Metrics, clock: () => number = Date.now): ExperimentWatcher {
  return {
    started(key, _actors, _registry, { replayMs }) {
      metrics.setExperiment(key);
      if (replayMs !== null) metrics.replayDuration(replayMs);
    },
    rows(rows, actors) {
      metrics.eventsAppended(rows.length);
      for (const { row, before } of rows) {
        if (isEvent(row.event, 'effect.failed') && sameState(row.state, before)) metrics.effectRetry(row.event.data.effect);
        if (row.state === RUN_RATE_LIMITED && before !== RUN_RATE_LIMITED) metrics.rateLimitPause();
        const actor = actors.get(row.stream)!;
        if (actor.entry.id === 'run') recordRun(metrics, actor, row, before);
        const { outcome } = stateMeta(actor.snapshot);
        if (outcome && !sameState(before, row.state) && actor.version === row.version) recordDuration(metrics, actor, outcome, Date.parse(row.at));
      }
    },
    ended(_key, actors, how) {
      if (how !== 'interrupted') return;
      for (const actor of actors.values()) {
        if (!isFinal(actor.snapshot) && stateMeta(actor.snapshot).outcome === undefined) recordDuration(metrics, actor, 'interrupted', clock());
      }
    },
  };
}

/**
 * `--metrics-file PATH`: the exposition written every `intervalMs` while the
 * experiment runs and once more when it ends, however it ends.
 */
export function metricsFileWatcher(metrics: Metrics, file: string, intervalMs = 5000): ExperimentWatcher {
  let timer: NodeJS.Timeout | undefined;
  return {
    started() {
      timer = setInterval(() => void writeMetricsFile(metrics, file).catch(() => undefined), intervalMs);
      timer.unref();
    },
    async ended() {
      clearInterval(timer);
      await writeMetricsFile(metrics, file);
    },
  };
}

/** Write the exposition to `file` atomically (a scraper never reads half a file). */
export async function writeMetricsFile(metrics: Metrics, file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, await metrics.text());
  renameSync(temporary, file);
}

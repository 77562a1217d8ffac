import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ExperimentWatcher } from '../runner/orchestrator.js';

export type Outcome = 'completed' | 'failed' | 'interrupted';
export type Level = 'run' | 'subtest' | 'tier';

/**
 * The metrics of one experiment, in Prometheus terms (SPEC §8). Durations are
 * recorded whatever the outcome: completed, failed, or interrupted (SPEC §4).
 */
export interface Metrics {
  duration(level: Level, outcome: Outcome, labels: { tier?: string; subtest?: string }, ms: number): void;
  effectRetry(effect: string): void;
  rateLimitPause(): void;
  eventsAppended(rows: number): void;
  replayDuration(ms: number): void;
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
  const histogram = (level: Level, labelNames: string[]) =>
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
  return {
    duration(level, outcome, labels, ms) {
      const names = level === 'tier' ? { tier: labels.tier ?? '' } : { tier: labels.tier ?? '', subtest: labels.subtest ?? '' };
      durations[level].observe({ ...names, outcome }, ms / 1000);
    },
    effectRetry: (effect) => retries.inc({ effect }),
    rateLimitPause: () => pauses.inc(),
    eventsAppended: (rows) => events.inc(rows),
    replayDuration: (ms) => replay.set(ms / 1000),
    text: () => registry.metrics(),
    setExperiment: (key) => registry.setDefaultLabels({ experiment: key }),
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

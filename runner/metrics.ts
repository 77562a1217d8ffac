import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One measurement, e.g. a tier's duration by outcome. */
export interface MetricRecord {
  metric: 'tier_duration_ms' | 'run_duration_ms' | 'subtest_duration_ms' | 'effect_retries' | 'rate_limit_pauses';
  value: number;
  labels: Record<string, string>;
  at: string;
}

export interface Metrics {
  record(record: Omit<MetricRecord, 'at'>): void;
  readonly records: readonly MetricRecord[];
}

/**
 * Metrics kept in memory and appended as JSON lines to `file` (when given).
 * SPEC §4: a stage records its metric on success and on failure alike.
 */
export function createMetrics(file: string | null, clock: () => number = Date.now): Metrics {
  const records: MetricRecord[] = [];
  return {
    records,
    record(partial) {
      const record = { ...partial, at: new Date(clock()).toISOString() };
      records.push(record);
      if (!file) return;
      mkdirSync(dirname(file), { recursive: true });
      appendFileSync(file, `${JSON.stringify(record)}\n`);
    },
  };
}

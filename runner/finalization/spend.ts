import { isEvent } from '../../engine/events.js';
import type { RunSpend } from '../../analysis/aggregate.js';
import type { EventRow } from '../../store/types.js';

/* Spend, from the log alone; no schemas (status reads it, and starts fast). */

/**
 * What a run's agent spent in all: every execution whose usage the log
 * records (each completed attempt's output, and what a failed attempt, such
 * as a rate-limited one, recorded with its failure).
 */
export function runSpendOf(history: readonly Pick<EventRow, 'event'>[]): RunSpend {
  const usages: Usage[] = [];
  for (const { event } of history) {
    if (isEvent(event, 'effect.completed') && event.data.effect === 'runAgent') usages.push(event.data.output as Usage);
    if (isEvent(event, 'effect.failed') && event.data.effect === 'runAgent' && event.data.output) usages.push(event.data.output as Usage);
  }
  const known = (values: (number | null | undefined)[]) => {
    const numbers = values.filter((v): v is number => typeof v === 'number');
    return numbers.length === 0 ? null : numbers.reduce((a, b) => a + b, 0);
  };
  return { costUsd: known(usages.map((u) => u?.costUsd)), tokens: known(usages.map((u) => u?.tokens)) };
}

type Usage = { costUsd?: number | null; tokens?: number | null } | null;

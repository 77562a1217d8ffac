import { isEvent, type EffectContext } from '../../engine/index.js';
import type { ExperimentConfig } from '../../schemas/config.js';
import type { CommandResult } from '../../workspace/process.js';

export interface RateLimited {
  retryAt: number;
  reason: string;
}

/**
 * Whether an agent's attempt was rate limited: the configured exit code, or
 * output matching the configured pattern on a failed exit (on a successful
 * one only with `matchOnSuccess`). The wait is the agent's
 * `retryAfterSeconds` (usage line) or a "retry after N" in its output, else
 * the configured default.
 */
export function detectRateLimit(
  config: ExperimentConfig,
  result: CommandResult,
  output: string,
  usageLine: Record<string, unknown> | null,
  now: number,
): RateLimited | null {
  const rule = config.agent.rateLimit;
  if (!rule) return null;
  const byCode = rule.exitCode !== undefined && result.exitCode === rule.exitCode;
  const patternApplies = result.exitCode !== 0 || result.timedOut || rule.matchOnSuccess;
  const byPattern = patternApplies && rule.outputPattern !== undefined && new RegExp(rule.outputPattern, 'i').test(output);
  if (!byCode && !byPattern) return null;
  const stated = Number(usageLine?.retryAfterSeconds ?? /retry[- _]?after\D{0,10}(\d+(?:\.\d+)?)/i.exec(output)?.[1]);
  const seconds = Number.isFinite(stated) && stated > 0 ? stated : rule.defaultWaitSeconds;
  return { retryAt: now + seconds * 1000, reason: byCode ? `exit code ${result.exitCode}` : `output matched /${rule.outputPattern}/` };
}

/**
 * Why another rate-limit wait would go over the configured caps: waits in a
 * row (since the run last moved on, was reset or resumed) and their total;
 * null while under them.
 */
export function rateLimitCapReached(config: ExperimentConfig, ctx: EffectContext, next: RateLimited, now: number): string | null {
  const rule = config.agent.rateLimit;
  if (!rule) return null;
  const waits: number[] = [];
  for (const row of ctx.history()) {
    if (row.event.type === 'operator.reset' || row.event.type === 'operator.resumed') waits.length = 0;
    if (isEvent(row.event, 'effect.failed') && row.event.data.rateLimit) waits.push(Math.max(0, row.event.data.rateLimit.retryAt - Date.parse(row.at)));
  }
  const totalMs = waits.reduce((a, b) => a + b, 0) + Math.max(0, next.retryAt - now);
  if (waits.length >= rule.maxRetries) return `still rate limited after ${waits.length} waits in a row (rateLimit.maxRetries is ${rule.maxRetries})`;
  if (totalMs > rule.maxWaitSeconds * 1000) return `another wait would bring the total to ${Math.round(totalMs / 1000)} s (rateLimit.maxWaitSeconds is ${rule.maxWaitSeconds})`;
  return null;
}

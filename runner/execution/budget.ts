import type { ExperimentLog } from '../log.js';
import { recordedStart } from '../log.js';

/**
 * The spending limits (limits.maxCostUsd, limits.maxTokens): an agent starts
 * only if what the experiment has spent, plus what the agents already at
 * work are expected to spend, plus what this one is expected to spend, stays
 * within each limit. An agent is expected to spend the mean of the agent
 * executions recorded so far (nothing before the first has reported), so the
 * experiment pauses before the run that would exceed the limit, and the
 * overshoot is bounded by the agents already running.
 */

export interface BudgetLimits {
  maxCostUsd?: number | null;
  maxTokens?: number | null;
}

/** What one agent execution reported it spent (null: unknown). */
export interface Spend {
  costUsd: number | null;
  tokens: number | null;
}

/** Why agents stopped starting: the limit, what was spent (when the drive stopped), what an agent is expected to spend. */
export interface BudgetStop {
  limit: 'maxCostUsd' | 'maxTokens';
  max: number;
  spent: number;
  /** The mean spend of an agent execution so far. */
  perAgent: number;
}

export interface Budget {
  /** The spend of every agent execution recorded before this drive. */
  seed(spends: readonly Spend[]): void;
  /** May an agent start now? If so, it is counted as at work for run stream `run` until `ended(run)`. */
  tryStart(run: string): boolean;
  /** An agent execution ended: its place at work is freed and what it spent (if recorded) counts. */
  ended(run: string, spend: Spend | null): void;
  /** Set once an agent was held: why (with what was spent by now). */
  readonly stopped: BudgetStop | null;
  spent(): Spend;
}

const MEASURES = [['maxCostUsd', 'costUsd'], ['maxTokens', 'tokens']] as const;

export function createBudget(limits: BudgetLimits): Budget {
  const total = { costUsd: 0, tokens: 0 };
  const known = { costUsd: 0, tokens: 0 };
  let executions = { costUsd: 0, tokens: 0 };
  const atWork = new Set<string>();
  let stopped: BudgetStop | null = null;
  const add = (spend: Spend) => {
    for (const [, field] of MEASURES) {
      const value = spend[field];
      if (typeof value !== 'number') continue;
      total[field] += value;
      known[field] += value;
      executions = { ...executions, [field]: executions[field] + 1 };
    }
  };
  const expectedEach = (field: 'costUsd' | 'tokens') => (executions[field] === 0 ? 0 : known[field] / executions[field]);
  return {
    seed: (spends) => spends.forEach(add),
    tryStart(run) {
      for (const [limit, field] of MEASURES) {
        const max = limits[limit];
        if (max === undefined || max === null) continue;
        const expected = (atWork.size + 1) * expectedEach(field);
        if (total[field] >= max || total[field] + expected > max) {
          stopped ??= { limit, max, spent: total[field], perAgent: expectedEach(field) };
          return false;
        }
      }
      atWork.add(run);
      return true;
    },
    ended(run, spend) {
      atWork.delete(run);
      if (spend) add(spend);
    },
    get stopped() {
      return stopped && { ...stopped, spent: total[stopped.limit === 'maxCostUsd' ? 'costUsd' : 'tokens'] };
    },
    spent: () => ({ ...total }),
  };
}

/** The spending limits the log last recorded: the latest change, or those of the config it records. */
export function recordedLimits(store: ExperimentLog, key: string): BudgetLimits {
  const changes = store.readStream(key).filter((r) => r.event.type === 'operator.limits_changed');
  const last = changes.at(-1)?.event;
  if (last?.type === 'operator.limits_changed') return last.data.limits;
  return recordedStart(store, key).config.limits;
}

/** What every agent execution recorded so far spent (completed attempts, and failed ones that recorded it). */
export function recordedSpends(store: ExperimentLog, key: string): Spend[] {
  return store.readEffectRows(key, ['runAgent']).map((row) => spendOf(row.event)).filter((s): s is Spend => s !== null);
}

export function spendOf(event: { type: string; data: unknown }): Spend | null {
  const output = (event.data as { output?: { costUsd?: number | null; tokens?: number | null } | null }).output;
  return output ? { costUsd: output.costUsd ?? null, tokens: output.tokens ?? null } : null;
}

/** The spending limits a drive runs with, and whether they differ from what the log last recorded. */
export interface DriveBudget {
  limits: Required<{ [K in keyof BudgetLimits]: number | null }>;
  changed: boolean;
}

/**
 * The spending limits of a drive: the flags, else the config `run` was given
 * (`given`), else what the log last recorded (a change, or the config it was
 * started with; `recorded` is null for a new experiment); `changed` when they
 * differ from what the log says.
 */
export function driveBudget(recorded: BudgetLimits | null, config: BudgetLimits, given: boolean, flags: BudgetLimits | undefined): DriveBudget {
  const base = given ? config : recorded ?? config;
  const limits = { maxCostUsd: flags?.maxCostUsd ?? base.maxCostUsd ?? null, maxTokens: flags?.maxTokens ?? base.maxTokens ?? null };
  const before = recorded ?? { maxCostUsd: null, maxTokens: null };
  return { limits, changed: recorded !== null && (limits.maxCostUsd !== (before.maxCostUsd ?? null) || limits.maxTokens !== (before.maxTokens ?? null)) };
}

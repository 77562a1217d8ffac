import { describe, expect, it } from 'vitest';
import { createBudget } from '../../runner/execution/budget.js';

describe('spending limits', () => {
  it('starts an agent only while what was spent, plus what the agents at work and it are expected to spend, stays within the limit', () => {
    const budget = createBudget({ maxCostUsd: 0.025 });
    // nothing is known before the first agent reports: the first ones start
    expect(budget.tryStart('r1')).toBe(true);
    expect(budget.tryStart('r2')).toBe(true);
    budget.ended('r1', { costUsd: 0.01, tokens: null });
    // spent 0.01, r2 at work (expected 0.01), r3 expected 0.01: 0.03 > 0.025
    expect(budget.tryStart('r3')).toBe(false);
    expect(budget.stopped).toEqual({ limit: 'maxCostUsd', max: 0.025, spent: 0.01, perAgent: 0.01 });
    budget.ended('r2', { costUsd: 0.01, tokens: null });
    // the overshoot is bounded by the agents that were at work: 0.02 ≤ 0.025, and no more start
    expect(budget.spent().costUsd).toBeCloseTo(0.02, 9);
    expect(budget.tryStart('r3')).toBe(false);
    expect(budget.stopped?.spent).toBeCloseTo(0.02, 9);
  });

  it('counts what earlier drives recorded, unknown spend as nothing, and tokens on their own', () => {
    const budget = createBudget({ maxTokens: 1000 });
    budget.seed([{ costUsd: null, tokens: 400 }, { costUsd: 0.5, tokens: null }, { costUsd: null, tokens: 400 }]);
    expect(budget.tryStart('a')).toBe(false);
    expect(budget.stopped).toMatchObject({ limit: 'maxTokens', spent: 800, perAgent: 400 });
    const free = createBudget({});
    free.seed([{ costUsd: 100, tokens: 1e9 }]);
    expect(free.tryStart('a')).toBe(true);
    expect(free.stopped).toBeNull();
  });

  it('stops at the limit even when nothing says how much an agent spends', () => {
    const budget = createBudget({ maxCostUsd: 1 });
    budget.seed([{ costUsd: 1, tokens: null }]);
    expect(budget.tryStart('a')).toBe(false);
  });
});

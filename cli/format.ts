import type { GroupResults, RunOutcome } from '../analysis/outcomes.js';
import type { Interval } from '../analysis/stats.js';
import { paint, type Io } from './io.js';

/** How results read in the terminal: one place, so status, progress, show and compare agree. */

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** `66.7% [20.8%, 93.9%]`: a rate with its 95% interval. */
export function rateWithInterval(rate: number | null, interval: Interval | null): string {
  if (rate === null) return 'no verdict yet';
  return interval ? `${pct(rate)} [${pct(interval[0])}, ${pct(interval[1])}]` : pct(rate);
}

export const score2 = (x: number) => x.toFixed(2);

export function scoreWithInterval(x: number, interval: Interval | null): string {
  return interval ? `${score2(x)} [${score2(interval[0])}, ${score2(interval[1])}]` : score2(x);
}

/** Dollars to 4 decimals (agent runs cost cents), `$?` when unknown. */
export const usd = (x: number | null) => (x === null ? 'cost unknown' : `$${x.toFixed(4)}`);

export const tokens = (n: number | null) => (n === null ? 'tokens unknown' : `${n} tokens`);

/** 850 ms, 12.3 s, 4 m 05 s, 2 h 03 m. */
export function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

const OUTCOME_COLOURS: Record<RunOutcome, number> = { passed: 32, not_passed: 33, errored: 31 };
const OUTCOME_WORDS: Record<RunOutcome, string> = { passed: 'passed', not_passed: 'not passed', errored: 'errored' };

/** The outcome in words, coloured by outcome (green, yellow, red) on a colour terminal. */
export function outcomeText(io: Io, outcome: RunOutcome | null, pending = 'no verdict yet'): string {
  return outcome ? paint(io, OUTCOME_COLOURS[outcome], OUTCOME_WORDS[outcome]) : paint(io, 2, pending);
}

/** A group's results on one line: `2/3 passed 66.7% [20.8%, 93.9%] · median 0.80 [0.60, 1.00] · $0.0100 · 1234 tokens`. */
export function groupLine(io: Io, r: GroupResults): string {
  const parts = [r.judged === 0 ? paint(io, 2, 'no verdict yet') : `${paint(io, r.passed === r.judged ? 32 : r.passed === 0 ? 31 : 33, `${r.passed}/${r.judged} passed`)} ${rateWithInterval(r.passRate, r.passRateInterval)}`];
  if (r.errored > 0) parts.push(paint(io, 31, `${r.errored} errored`));
  if (r.score) parts.push(`median ${scoreWithInterval(r.score.median, r.score.medianInterval)}`);
  if (r.costUsd === null && r.tokens === null) parts.push(paint(io, 2, 'no spend reported'));
  else parts.push(usd(r.costUsd), tokens(r.tokens));
  return parts.join(' · ');
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Cut a line to `width` visible characters (escape codes kept, a reset appended), so a redraw never wraps. */
export function truncate(line: string, width: number): string {
  if (width <= 0 || line.replace(ANSI, '').length <= width) return line;
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length && visible < width - 1;) {
    ANSI.lastIndex = i;
    const code = ANSI.exec(line);
    if (code && code.index === i) {
      out += code[0];
      i += code[0].length;
      continue;
    }
    out += line[i];
    visible += 1;
    i += 1;
  }
  return `${out}…${line.includes('\u001b[') ? '\u001b[0m' : ''}`;
}

/** For a pause by a spending limit: the flag that raises it (to twice the limit, as an example the user can edit). */
export function raiseArgs(budget: { limit: 'maxCostUsd' | 'maxTokens'; max: number } | null): string[] {
  if (!budget) return [];
  return budget.limit === 'maxCostUsd' ? ['--max-cost-usd', String(Number((budget.max * 2).toFixed(2)))] : ['--max-tokens', String(Math.ceil(budget.max * 2))];
}

/**
 * A difference with its sign and `digits` decimals (`+50.0%`, `-0.19`, `+$0.0005`), or `finest`
 * decimals when `digits` would show a difference that is not 0 as 0 (so an interval that
 * excludes 0 never reads `[+$0.0000, …]`); one that is 0 is `+0…`, never `-0…`.
 */
export function signed(x: number, digits: number, finest: number, unit: (text: string) => string = (t) => t): string {
  const magnitude = Math.abs(x);
  let text = magnitude.toFixed(digits);
  if (magnitude > 0 && Number(text) === 0) text = magnitude.toFixed(finest);
  return `${x < 0 && Number(text) !== 0 ? '-' : '+'}${unit(text)}`;
}

/** Pass rates are rounded to 6 digits: percentage points to 2 decimals at most. */
export const pctPoints = (x: number) => signed(x * 100, 1, 2, (t) => `${t}%`);
export const scoreDelta = (x: number) => signed(x, 2, 4);
/** Costs are rounded to 6 digits. */
export const usdDelta = (x: number) => signed(x, 4, 6, (t) => `$${t}`);
export const countDelta = (x: number) => signed(x, 0, 0);

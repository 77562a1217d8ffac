import { InvalidArgumentError } from 'commander';
import { UsageError } from '../util/errors.js';

/** Argument parsers and choices the command line needs before any command is loaded (cli/main.ts loads commands lazily). */

export const GRAPH_FORMATS = ['mermaid', 'dot', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export const REPORT_FORMATS = ['markdown', 'json', 'csv', 'jsonl'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof SHELLS)[number];

export const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return n;
}

/** `--min-pass-rate`: a fraction (0.8) or a percentage (80%). */
export function passRate(text: string): number {
  const trimmed = text.trim();
  const value = trimmed.endsWith('%') ? Number(trimmed.slice(0, -1)) / 100 : Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`--min-pass-rate "${text}" is not a pass rate`, 'give a fraction from 0 to 1 (0.8) or a percentage (80%)');
  }
  return value;
}

/** A positive number (a whole one with `whole`) for the flag `flag`; throws EXPCTL_USAGE otherwise. */
export function positive(flag: string, whole = false): (text: string) => number {
  return (text) => {
    const value = Number(text.trim().replace(/^\$/, ''));
    if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
      throw new UsageError(`${flag} "${text}" is not a ${whole ? 'positive whole number' : 'positive number'}`, whole ? `e.g. ${flag} 200000` : `e.g. ${flag} 2.50`);
    }
    return value;
  };
}

/** `--speed`: a number ≥ 0 (0: no delay), or `max`. Throws EXPCTL_USAGE otherwise. */
export function parseSpeed(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'max' || trimmed === 'inf' || trimmed === 'infinity') return 0;
  const speed = Number(trimmed.replace(/x$/, ''));
  if (trimmed === '' || !Number.isFinite(speed) || speed < 0) {
    throw new UsageError(`--speed "${text}" is not a speed`, 'give a factor such as 1 (as recorded), 10 (ten times faster) or 0.5, or max (no delay)');
  }
  return speed;
}

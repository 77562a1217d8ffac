import { InvalidArgumentError } from 'commander';
import { UsageError } from '../util/errors.js';

/** Argument parsers and choices the command line needs before any command is loaded (cli/main.ts loads commands lazily). */

export const GRAPH_FORMATS = ['mermaid', 'dot', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return n;
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

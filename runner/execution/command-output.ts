import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { AgentUsage } from '../../schemas/results.js';
import { lastJsonLine } from '../../workspace/process.js';

/** Reading what a command printed into its output files: the tail, its usage line, the lines that explain a failure. */

const TAIL_BYTES = 1024 * 1024;

/** The last MiB of a file: enough for the usage line and rate-limit messages of any agent ('' when it does not exist). */
export function tail(file: string, bytes = TAIL_BYTES): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** What an agent reported it spent; missing values are unknown (null), never zero. */
export interface Usage {
  tokens: number | null;
  costUsd: number | null;
}

/** Tokens and cost from the agent's usage line (the last JSON line of its stdout). */
export function usageOf(stdout: string): Usage {
  const usage = AgentUsage.safeParse(lastJsonLine(stdout) ?? {});
  if (!usage.success) return { tokens: null, costUsd: null };
  const { tokens, costUsd } = usage.data;
  const total = typeof tokens === 'number' ? tokens : tokens ? (tokens.total ?? sum(tokens.input, tokens.output)) : null;
  return { tokens: total ?? null, costUsd: costUsd ?? null };
}

const sum = (a?: number | null, b?: number | null) => (a == null && b == null ? null : (a ?? 0) + (b ?? 0));

const ERROR_LINE = /\b(error|exception|fatal|failed|cannot|can't|not found|denied|traceback|panic)\b/i;
const TAIL_LINES = 3;
const LINE_MAX = 300;

/**
 * The part of a command's stderr that says what went wrong: the first line
 * that reads like an error, then the last few lines (a stack trace's end, or
 * a runtime's version banner, is rarely the cause). `(no stderr)` when empty.
 *
 * @example failureExcerpt('Error: Cannot find module x\n    at …\n\nNode.js v20.20.2\n') // 'Error: Cannot find module x … at … | Node.js v20.20.2'
 */
export function failureExcerpt(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return '(no stderr)';
  const first = lines.findIndex((l) => ERROR_LINE.test(l));
  const tailFrom = Math.max(0, lines.length - TAIL_LINES);
  const picked = first >= 0 && first < tailFrom ? [lines[first]!, ...(first + 1 < tailFrom ? ['…'] : []), ...lines.slice(tailFrom)] : lines.slice(tailFrom);
  return picked.map((l) => (l.length > LINE_MAX ? `${l.slice(0, LINE_MAX)}…` : l)).join(' | ');
}

/**
 * A command's output file with every secret value replaced by `$NAME`, after
 * the command exited: the files expctl keeps never hold a secret, even one a
 * command printed.
 */
export function redactFile(file: string, secrets: ReadonlyMap<string, string>): void {
  if (secrets.size === 0 || !existsSync(file) || statSync(file).size > REDACT_MAX_BYTES) return;
  const text = readFileSync(file, 'latin1');
  const redacted = redactSecrets(text, new Map([...secrets].map(([name, value]) => [name, Buffer.from(value).toString('latin1')])));
  if (redacted !== text) writeFileSync(file, redacted, 'latin1');
}

const REDACT_MAX_BYTES = 256 * 1024 * 1024;

/** `text` with every value of the given secrets replaced by `$NAME`, so what expctl records never holds one. */
export function redactSecrets(text: string, secrets: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [name, value] of secrets) if (value.length >= 4) out = out.replaceAll(value, `$${name}`);
  return out;
}

import { canonicalJson } from '../util/canonical-json.js';

/**
 * Readable differences between two JSON values, one line per changed leaf:
 * `context.attempt: expected 2, got 3`. Empty when they are equal.
 */
export function diffJson(expected: unknown, actual: unknown, path = ''): string[] {
  if (canonicalJson(expected) === canonicalJson(actual)) return [];
  if (isRecord(expected) && isRecord(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    return keys.flatMap((key) => diffJson(expected[key], actual[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    return expected.flatMap((item, i) => diffJson(item, actual[i], `${path}[${i}]`));
  }
  return [`${path || '(value)'}: expected ${show(expected)}, got ${show(actual)}`];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? '(missing)' : canonicalJson(value);
}

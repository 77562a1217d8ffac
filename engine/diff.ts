import { canonicalJson } from '../util/canonical-json.js';

/** One changed leaf between two JSON values. */
export interface JsonDifference {
  path: string;
  expected: unknown;
  actual: unknown;
}

/** The changed leaves between two JSON values, with paths like `tiers.T0.dependsOn[1]`. */
export function jsonDifferences(expected: unknown, actual: unknown, path = ''): JsonDifference[] {
  if (canonicalJson(expected) === canonicalJson(actual)) return [];
  if (isRecord(expected) && isRecord(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    return keys.flatMap((key) => jsonDifferences(expected[key], actual[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    return expected.flatMap((item, i) => jsonDifferences(item, actual[i], `${path}[${i}]`));
  }
  return [{ path: path || '(value)', expected, actual }];
}

/**
 * Readable differences between two JSON values, one line per changed leaf:
 * `context.attempt: expected 2, got 3`. Empty when they are equal.
 */
export function diffJson(expected: unknown, actual: unknown): string[] {
  return jsonDifferences(expected, actual).map((d) => `${d.path}: expected ${show(d.expected)}, got ${show(d.actual)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function show(value: unknown): string {
  return value === undefined ? '(missing)' : canonicalJson(value);
}

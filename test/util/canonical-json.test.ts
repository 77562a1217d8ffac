import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../util/canonical-json.js';

/** The first implementation, whose text every stored hash covers: JSON.stringify of a key-sorted copy. */
function sortedCopyJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v === null || typeof v !== 'object') return v;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) {
      const inner = (v as Record<string, unknown>)[key];
      if (inner !== undefined) sorted[key] = sortKeys(inner);
    }
    return sorted;
  };
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

describe('canonicalJson', () => {
  it('writes exactly the text of the key-sorted copy, for any JSON-like value (stored hashes depend on it)', () => {
    const leaf = fc.oneof(
      fc.string(), fc.string({ unit: 'binary' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
      fc.constant(-0), fc.constant(Number.NaN), fc.constant(Infinity), fc.date({ noInvalidDate: false }), fc.constant(() => 1),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('node'), { maxLength: 5 }),
      object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('a"b', '\u2028', '1', '01', '10', '2', '4294967294', '4294967295', '-1')), tie('node'), { maxKeys: 5 }),
    })).node;
    fc.assert(fc.property(value, (v) => {
      expect(canonicalJson(v)).toBe(sortedCopyJson(v));
    }), { numRuns: 2000 });
    // JSON.parse makes `__proto__` an own key; the sorted copy always lost it
    fc.assert(fc.property(fc.jsonValue(), fc.jsonValue(), (inner, v) => {
      const parsed = JSON.parse(`{"__proto__":${JSON.stringify(inner)},"v":${JSON.stringify(v)}}`) as unknown;
      expect(canonicalJson(parsed)).toBe(sortedCopyJson(parsed));
    }), { numRuns: 500 });
  });

  it('sorts keys at every level and leaves out what JSON leaves out', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined, () => 1] })).toBe('{"c":[null,null]}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ at: new Date(0), nested: { toJSON: (key: string) => `key ${key}` } })).toBe('{"at":"1970-01-01T00:00:00.000Z","nested":"key nested"}');
    expect(canonicalJson({ gone: { toJSON: () => undefined } })).toBe('{}');
    expect(() => canonicalJson({ big: 1n })).toThrow(TypeError);
  });
});

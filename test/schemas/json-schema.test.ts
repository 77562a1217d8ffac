import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { EXPERIMENT_SCHEMA_ID, experimentJsonSchemaText } from '../../schemas/json-schema.js';

type Node = Record<string, unknown>;

/** Every property of a JSON Schema, at any depth (through items, records, unions, $defs), by its dotted path. */
function properties(node: unknown, path = ''): { path: string; schema: Node }[] {
  if (node === null || typeof node !== 'object') return [];
  const schema = node as Node;
  const found: { path: string; schema: Node }[] = [];
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Node>)) {
    const at = path ? `${path}.${name}` : name;
    found.push({ path: at, schema: child }, ...properties(child, at));
  }
  if (schema.items) found.push(...properties(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') found.push(...properties(schema.additionalProperties, `${path}{}`));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) for (const branch of (schema[key] ?? []) as Node[]) found.push(...properties(branch, path));
  for (const [name, def] of Object.entries((schema.$defs ?? {}) as Record<string, Node>)) found.push(...properties(def, `$defs.${name}`));
  return found;
}

const undescribed = (schema: unknown) => properties(schema).filter((p) => typeof p.schema.description !== 'string' || p.schema.description.trim() === '').map((p) => p.path);

describe('schemas/experiment.schema.json', () => {
  it('is in sync with the zod config schema (regenerate with `npm run schema`)', () => {
    const checkedIn = readFileSync(join(import.meta.dirname, '../../schemas/experiment.schema.json'), 'utf8');
    expect(checkedIn).toBe(experimentJsonSchemaText());
  });

  it('documents defaults and forbids unknown fields', () => {
    const schema = JSON.parse(experimentJsonSchemaText());
    expect(schema.properties.runsPerSubtest.default).toBe(1);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['id', 'task', 'agent', 'judges', 'tiers']);
  });

  it('has an $id, a title and a description, and describes every field at every depth', () => {
    const schema = JSON.parse(experimentJsonSchemaText());
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(EXPERIMENT_SCHEMA_ID);
    expect(schema.title).toBe('expctl experiment config');
    expect(schema.description).toMatch(/tiers × subtests × runs/);
    const all = properties(schema).map((p) => p.path);
    // the walk reaches the nested fields (rate limit, judges, subtests' resources)
    expect(all).toEqual(expect.arrayContaining(['agent.rateLimit.maxWaitSeconds', 'judges[].command', 'tiers[].subtests[].resources.inheritBaseline', 'limits.maxConcurrentAgents']));
    expect(all.length).toBeGreaterThanOrEqual(38);
    expect(undescribed(schema)).toEqual([]);
  });

  it('the walk finds a field without a description, wherever it is', () => {
    const schema = z.toJSONSchema(z.object({ a: z.string().describe('A'), list: z.array(z.object({ b: z.number() })).describe('L') }));
    expect(undescribed(schema)).toEqual(['list[].b']);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentJsonSchemaText } from '../../schemas/json-schema.js';

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
});

import { z } from 'zod';
import { ExperimentConfigShape } from './config.js';

/**
 * The schema's identifier: a name, not a location (nothing is served there),
 * so it never goes stale or points at someone else's host. Editors find the
 * schema by path: `expctl init` writes a `# yaml-language-server: $schema=…`
 * line pointing at the installed schemas/experiment.schema.json.
 */
export const EXPERIMENT_SCHEMA_ID = 'urn:expctl:schema:experiment-config';

/** The config's JSON Schema (what a user writes: defaults shown, nothing required that has one; every field described). */
export function experimentJsonSchema(): Record<string, unknown> {
  const { $schema, ...schema } = z.toJSONSchema(ExperimentConfigShape, { io: 'input' });
  return {
    $schema,
    $id: EXPERIMENT_SCHEMA_ID,
    title: 'expctl experiment config',
    description: 'An expctl experiment: tiers × subtests × runs of an agent command scored by judge commands (docs/design.md §5).',
    ...schema,
  };
}

export const experimentJsonSchemaText = () => `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`;

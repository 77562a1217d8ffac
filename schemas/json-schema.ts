import { z } from 'zod';
import { ExperimentConfigShape } from './config.js';

/** The config's JSON Schema (what a user writes: defaults shown, nothing required that has one). */
export function experimentJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ExperimentConfigShape, { io: 'input' }),
    title: 'expctl experiment config',
    description: 'An expctl experiment: tiers × subtests × runs of an agent command scored by judge commands (docs/design.md §5).',
  };
}

export const experimentJsonSchemaText = () => `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`;

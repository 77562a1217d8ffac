import { z } from 'zod';

/** Ids become directory names and stream-name segments: keep them portable. */
export const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-" only, starting with a letter or digit');

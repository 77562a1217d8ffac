import { z } from 'zod';

/** A row hash or prev_hash as stored: lower-case hex SHA-256. */
export const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256');

/** A row in its stored form with its hashes (an export line, an imported row), checked before anything else. */
export const ImportedRowSchema = z.strictObject({
  experiment: z.string().min(1),
  stream: z.string().min(1),
  version: z.int().positive(),
  type: z.string().min(1),
  schema: z.int().positive(),
  data: z.string(),
  state: z.string(),
  context: z.string(),
  snapshotHash: z.string(),
  machine: z.string(),
  at: z.string(),
  cause: z.string(),
  prevHash: Hash,
  hash: Hash,
});

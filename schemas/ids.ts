import { z } from 'zod';

/** Names expctl itself uses in a results directory: an id equal to one would collide with a file it writes. */
export const RESERVED_NAMES = ['expctl.db', 'expctl.db-wal', 'expctl.db-shm', 'expctl.db-journal', 'repo', 'config.json', 'result.json', 'report.md', 'summary.md', 'view.html'];

/**
 * An experiment's key in the log: its id, or `id~N` for the N-th generation
 * (`run --fresh`); the first generation's key is the id itself.
 */
export const ExperimentKey = z
  .string()
  .max(80)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(?:~[1-9][0-9]*)?$/, 'an experiment id, or id~N for a generation');

/** Ids become directory names and stream-name segments: keep them portable. */
export const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-" only, starting with a letter or digit')
  .refine((id) => !RESERVED_NAMES.includes(id.toLowerCase()), { message: `is a name expctl uses for its own files; avoid ${RESERVED_NAMES.join(', ')}` });

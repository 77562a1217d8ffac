import { z } from 'zod';

/** One problem in an input, located by a readable path such as `tiers[1].subtests[0].id`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** zod issues as path + message pairs, in zod's order. */
export function issuesAt(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown field; check its spelling (see schemas/experiment.schema.json)' }))
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
}

/** `['tiers', 1, 'subtests', 0, 'id']` → `tiers[1].subtests[0].id` (zod's own formatting); the root is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return z.core.toDotPath(path as PropertyKey[]) || '(root)';
}

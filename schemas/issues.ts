import type { z } from 'zod';

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

/**
 * `['tiers', 1, 'subtests', 0, 'id']` → `tiers[1].subtests[0].id`; the root is
 * `(root)`. Not zod's `toDotPath`: it prints an empty key as `agent.env.` and
 * `1x` as `a.1x`, paths no user can find in their file; this quotes them
 * (`agent.env[""]`, `a["1x"]`).
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

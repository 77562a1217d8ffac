import { z } from 'zod';
import { Id } from './ids.js';
import { formatPath, issuesAt, type ConfigIssue } from './issues.js';
import { tierGroups, dependencyCycle } from './tier-order.js';

/** An argv array: the program and its arguments, never a shell string. Arguments may be empty strings. */
/** A string a process gets (argv, environment): the OS cannot pass a NUL byte. */
const ProcessString = z.string().refine((v) => !v.includes('\0'), 'must not contain a NUL byte');

const Command = z
  .array(ProcessString, {
    error: (issue) =>
      issue.input === undefined ? 'is required' : 'must be an argv array such as ["node", "agent.mjs", "{prompt}"], not a shell string',
  })
  .min(1, 'needs at least the program, e.g. ["node", "agent.mjs", "{prompt}"]')
  .superRefine((argv, ctx) => {
    if (argv[0] === '') ctx.addIssue({ code: 'custom', path: [0], message: 'the program must not be empty' });
  });

const Pattern = z.string().min(1).refine(isValidRegExp, 'is not a valid regular expression');

const RateLimit = z
  .strictObject({
    exitCode: z.int().min(1).max(255).optional(),
    outputPattern: Pattern.optional(),
    defaultWaitSeconds: z.number().positive().default(60),
    /** A successful exit (0) whose output matches `outputPattern` counts as a rate limit too (default: it does not). */
    matchOnSuccess: z.boolean().default(false),
    /** Rate-limit waits in a row before the run fails. */
    maxRetries: z.int().min(0).max(1000).default(10),
    /** Total wait (s) across those retries before the run fails. */
    maxWaitSeconds: z.number().positive().default(3600),
  })
  .refine((r) => r.exitCode !== undefined || r.outputPattern !== undefined, {
    message: 'set exitCode, outputPattern or both, so a rate limit can be recognised',
  });

const EnvName = z.string().regex(/^[^=\0]+$/, 'is not an environment variable name (empty, or with "=" or a NUL byte)');

/**
 * Names of environment variables the command gets from the driver's
 * environment, such as API keys: their values are never written anywhere
 * (only a salted scrypt digest, to detect a change); a missing one is a
 * config error.
 */
const SecretEnv = z.array(EnvName).default([]).refine((names) => new Set(names).size === names.length, 'names a variable twice');

const Env = z
  .record(z.string(), ProcessString)
  .default({})
  .superRefine((env, ctx) => {
    for (const name of Object.keys(env)) {
      if (!EnvName.safeParse(name).success) ctx.addIssue({ code: 'custom', path: [name], message: 'is not an environment variable name (empty, or with "=" or a NUL byte)' });
    }
  });

const Agent = z.strictObject({
  command: Command,
  timeoutSeconds: z.number().positive().default(600),
  /** Extra environment, recorded in the log and results: no secrets here (see secretEnv). */
  env: Env,
  secretEnv: SecretEnv,
  rateLimit: RateLimit.optional(),
});

const Judge = z.strictObject({
  id: Id.optional(),
  command: Command,
  timeoutSeconds: z.number().positive().default(300),
  secretEnv: SecretEnv,
});

const Resources = z.strictObject({
  /** workspace path → source path (relative to the config file) */
  files: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** start from the best subtest of the tiers this tier depends on */
  inheritBaseline: z.boolean().default(false),
});

const Subtest = z.strictObject({
  id: Id,
  description: z.string().optional(),
  resources: Resources.default({ files: {}, inheritBaseline: false }),
});

const Tier = z.strictObject({
  id: Id,
  description: z.string().optional(),
  /** Tiers that must finish first. Omitted: the Scylla default (T5 after T0–T4, T6 after T5). */
  dependsOn: z.array(Id).optional(),
  maxSubtests: z.int().positive().optional(),
  thinking: z.string().optional(),
  subtests: z.array(Subtest).min(1, 'a tier needs at least one subtest'),
});

/** The experiment config as written by a user (YAML or JSON), before defaults are resolved. */
export const ExperimentConfigShape = z.strictObject({
  id: Id,
  description: z.string().optional(),
  task: z.strictObject({
    repo: z.string().min(1, 'a local path or a git URL'),
    commit: z.string().min(1).default('HEAD'),
    prompt: z.string().min(1, 'a path to the prompt file'),
    thinking: z.string().optional(),
  }),
  agent: Agent,
  judges: z.array(Judge).min(1, 'at least one judge is needed to score runs'),
  runsPerSubtest: z.int().min(1).max(1000).default(1),
  tiers: z.array(Tier).min(1, 'at least one tier is needed'),
  limits: z
    .strictObject({
      maxConcurrentRuns: z.int().min(1).default(4),
      maxConcurrentAgents: z.int().min(1).default(2),
      /** Spend (USD) after which no new agent starts: the experiment pauses; raise it and resume. */
      maxCostUsd: z.number().positive().optional(),
      /** Tokens after which no new agent starts, likewise. */
      maxTokens: z.int().positive().optional(),
    })
    .default({ maxConcurrentRuns: 4, maxConcurrentAgents: 2 }),
  retries: z
    .strictObject({
      maxAttempts: z.int().min(1).max(20).default(3),
      backoffSeconds: z.number().min(0).default(2),
    })
    .default({ maxAttempts: 3, backoffSeconds: 2 }),
  failFast: z.boolean().default(false),
  keepFailedWorkspaces: z.boolean().default(true),
});

/** The validated config: defaults applied, tier dependencies resolved and checked. */
export const ExperimentConfig = ExperimentConfigShape.transform(withDefaultDependencies).superRefine(checkTiers);

export type ExperimentConfigInput = z.input<typeof ExperimentConfigShape>;
export type ExperimentConfig = z.output<typeof ExperimentConfig>;
export type TierConfig = ExperimentConfig['tiers'][number];
export type SubtestConfig = TierConfig['subtests'][number];

export type ParsedConfig = { ok: true; config: ExperimentConfig } | { ok: false; issues: ConfigIssue[] };

/**
 * Validate a config value (already read from YAML/JSON). Never throws on bad input.
 *
 * @example
 * const parsed = parseExperimentConfig(YAML.parse(text));
 * if (!parsed.ok) for (const i of parsed.issues) console.error(`${i.path}: ${i.message}`);
 */
export function parseExperimentConfig(value: unknown): ParsedConfig {
  const result = ExperimentConfig.safeParse(value);
  if (result.success) return { ok: true, config: result.data };
  const issues = issuesAt(result.error);
  const seen = new Set(issues.map((i) => `${i.path}\n${i.message}`));
  for (const extra of looseTierIssues(value)) if (!seen.has(`${extra.path}\n${extra.message}`)) issues.push(extra);
  return { ok: false, issues };
}

type ShapeOutput = z.output<typeof ExperimentConfigShape>;

function withDefaultDependencies(config: ShapeOutput) {
  const ids = config.tiers.map((t) => t.id);
  return {
    ...config,
    tiers: config.tiers.map((tier) => ({ ...tier, dependsOn: tier.dependsOn ?? scyllaDependencies(tier.id, ids) })),
  };
}

/** Scylla's default order: T0–T4 independent, T5 after T0–T4, T6 after T5 (only tiers that are present). */
function scyllaDependencies(tierId: string, present: string[]): string[] {
  const wanted = tierId === 'T5' ? ['T0', 'T1', 'T2', 'T3', 'T4'] : tierId === 'T6' ? ['T5'] : [];
  return wanted.filter((id) => present.includes(id));
}

function checkTiers(config: ReturnType<typeof withDefaultDependencies>, ctx: z.RefinementCtx): void {
  for (const issue of tierIssues(config.tiers)) ctx.addIssue({ code: 'custom', ...issue });
}

type TierShape = { id: string; dependsOn: readonly string[]; subtests: readonly { id: string }[] };

/** Duplicate ids, unknown or self dependencies, and cycles, with the path of each. */
function tierIssues(tiers: readonly TierShape[]): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const known = new Set<string>();
  tiers.forEach((tier, i) => {
    if (known.has(tier.id)) issues.push({ path: ['tiers', i, 'id'], message: `duplicate tier id "${tier.id}"` });
    known.add(tier.id);
    const subtestIds = new Set<string>();
    tier.subtests.forEach((subtest, j) => {
      if (subtestIds.has(subtest.id)) {
        issues.push({ path: ['tiers', i, 'subtests', j, 'id'], message: `duplicate subtest id "${subtest.id}" in tier ${tier.id}` });
      }
      subtestIds.add(subtest.id);
    });
  });
  tiers.forEach((tier, i) => {
    tier.dependsOn.forEach((dep, k) => {
      const path = ['tiers', i, 'dependsOn', k];
      if (dep === tier.id) issues.push({ path, message: `tier ${tier.id} depends on itself` });
      else if (!known.has(dep)) issues.push({ path, message: `unknown tier "${dep}"; known tiers: ${[...known].join(', ')}` });
    });
  });
  if (issues.length > 0) return issues;
  const cycle = dependencyCycle(tiers);
  if (cycle) {
    const at = tiers.findIndex((t) => t.id === cycle[0]);
    issues.push({ path: ['tiers', at, 'dependsOn'], message: `tier dependencies form a cycle: ${cycle.join(' → ')}` });
  } else if (tierGroups(tiers).flat().length !== tiers.length) {
    issues.push({ path: ['tiers'], message: 'tier dependencies cannot be resolved' });
  }
  return issues;
}

/**
 * When the shape is broken, zod skips the refinement; check tier references on
 * whatever tiers are readable, so the user sees every problem in one go.
 */
const LooseTiers = z.object({
  tiers: z.array(
    z.object({
      id: z.string(),
      dependsOn: z.array(z.string()).optional(),
      subtests: z.array(z.object({ id: z.string() }).or(z.unknown().transform(() => ({ id: '' })))).catch([]),
    }),
  ),
});

function looseTierIssues(value: unknown): ConfigIssue[] {
  const loose = LooseTiers.safeParse(value);
  if (!loose.success) return [];
  const ids = loose.data.tiers.map((t) => t.id);
  const tiers = loose.data.tiers.map((t) => ({
    id: t.id,
    dependsOn: t.dependsOn ?? scyllaDependencies(t.id, ids),
    subtests: t.subtests.filter((s) => s.id !== ''),
  }));
  return tierIssues(tiers).map((i) => ({ path: formatPath(i.path), message: i.message }));
}

function isValidRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

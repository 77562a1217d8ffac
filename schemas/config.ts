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
    exitCode: z.int().min(1).max(255).optional().describe('The agent exit code (1-255) that means it was rate-limited.'),
    outputPattern: Pattern.optional().describe("A case-insensitive regular expression matched against the agent's stdout and stderr of a failed exit (of a successful one too with matchOnSuccess)."),
    defaultWaitSeconds: z.number().positive().default(60).describe('Seconds to wait before retrying when the agent does not say how long (a "retryAfterSeconds" usage line, or "retry after N" in its output).'),
    /** A successful exit (0) whose output matches `outputPattern` counts as a rate limit too (default: it does not). */
    matchOnSuccess: z.boolean().default(false).describe('Also match outputPattern against the output of a successful exit (0).'),
    /** Rate-limit waits in a row before the run fails. */
    maxRetries: z.int().min(0).max(1000).default(10).describe('Rate-limit waits in a row before the run fails.'),
    /** Total wait (s) across those retries before the run fails. */
    maxWaitSeconds: z.number().positive().default(3600).describe('Total seconds of rate-limit waits in a row before the run fails.'),
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
  command: Command.describe('The agent: an argv array (never a shell string), run in the run\'s workspace. Placeholders: {prompt}, {promptFile}, {workspace}, {runDir}, {configDir}; an element "./x" or "../x" is relative to the config file.'),
  timeoutSeconds: z.number().positive().default(600).describe('Seconds before the agent\'s whole process group is killed.'),
  /** Extra environment, recorded in the log and results: no secrets here (see secretEnv). */
  env: Env.describe('Extra environment variables for the agent. Recorded in the log, config.json and exports: no secrets here (use secretEnv).'),
  secretEnv: SecretEnv.describe('Names of environment variables (API keys) the agent takes from the driver\'s environment; their values are never recorded.'),
  rateLimit: RateLimit.optional().describe('How to recognise a rate-limited agent (exitCode, outputPattern or both); such a run waits and retries instead of failing.'),
});

const Judge = z.strictObject({
  id: Id.optional().describe('A name for this judge in results and reports.'),
  command: Command.describe('The judge: an argv array run in the run\'s workspace after the agent\'s changes are committed; its last stdout line is a JSON verdict {"score": 0..1, "passed": true|false, "grade", "reasoning", "criteria"} (the last three optional).'),
  timeoutSeconds: z.number().positive().default(300).describe('Seconds before the judge\'s whole process group is killed.'),
  secretEnv: SecretEnv.describe('Names of environment variables (API keys) the judge takes from the driver\'s environment; their values are never recorded.'),
});

const Resources = z.strictObject({
  /** workspace path → source path (relative to the config file) */
  files: z.record(z.string().min(1), z.string().min(1)).default({}).describe('Workspace path → source file or folder (relative to the config file), copied into the workspace and committed before the agent starts.'),
  /** start from the best subtest of the tiers this tier depends on */
  inheritBaseline: z.boolean().default(false).describe('First copy the resources of the best subtest of each tier this tier depends on.'),
});

const Subtest = z.strictObject({
  id: Id.describe('The subtest id, unique in its tier: letters, digits, ".", "_" and "-".'),
  description: z.string().optional().describe('What this subtest varies, for people reading reports.'),
  resources: Resources.default({ files: {}, inheritBaseline: false }).describe('The files this subtest adds to the task repository.'),
});

const Tier = z.strictObject({
  id: Id.describe('The tier id, unique in the experiment: letters, digits, ".", "_" and "-".'),
  description: z.string().optional().describe('What this tier varies, for people reading reports.'),
  /** Tiers that must finish first. Omitted: the Scylla default (T5 after T0–T4, T6 after T5). */
  dependsOn: z.array(Id).optional().describe('Ids of the tiers that must finish first. Omitted: T5 after T0-T4, T6 after T5, other tiers none.'),
  maxSubtests: z.int().positive().optional().describe('Run only the first N subtests of this tier.'),
  thinking: z.string().optional().describe('Text appended to the prompt in this tier\'s runs (instead of task.thinking).'),
  subtests: z.array(Subtest).min(1, 'a tier needs at least one subtest').describe('The subtests of this tier: each one set of resource files, run runsPerSubtest times.'),
});

/** The experiment config as written by a user (YAML or JSON), before defaults are resolved. */
export const ExperimentConfigShape = z.strictObject({
  id: Id.describe('The experiment id: names its results folder and log streams. Letters, digits, ".", "_" and "-".'),
  description: z.string().optional().describe('What the experiment asks, for people reading reports.'),
  task: z.strictObject({
    repo: z.string().min(1, 'a local path or a git URL').describe('The task repository every run starts from: a local folder (turned into a git repository once), a local git repository, or a git URL. Relative to the config file.'),
    commit: z.string().min(1).default('HEAD').describe('The commit, branch or tag of task.repo every run starts from.'),
    prompt: z.string().min(1, 'a path to the prompt file').describe('The prompt file given to the agent (relative to the config file, inside its folder).'),
    thinking: z.string().optional().describe('Text appended to the prompt (a tier\'s thinking replaces it).'),
  }).describe('What every run works on: a fresh git worktree of this repository at this commit, and the prompt.'),
  agent: Agent.describe('The agent command each run executes.'),
  judges: z.array(Judge).min(1, 'at least one judge is needed to score runs').describe('The judge commands that score each run; the run\'s verdict is their consensus.'),
  runsPerSubtest: z.int().min(1).max(1000).default(1).describe('How many times each subtest is run.'),
  tiers: z.array(Tier).min(1, 'at least one tier is needed').describe('Tiers group subtests; a tier starts once the tiers it depends on have finished.'),
  limits: z
    .strictObject({
      maxConcurrentRuns: z.int().min(1).default(4).describe('Runs in progress at once.'),
      maxConcurrentAgents: z.int().min(1).default(2).describe('Agent commands running at once.'),
      maxCostUsd: z.number().positive().optional().describe('Spend (USD) after which no agent starts that would exceed it: the experiment pauses (recorded) until the limit is raised; `resume --max-cost-usd` raises it.'),
      maxTokens: z.int().positive().optional().describe('Tokens after which no agent starts that would exceed them, likewise (`resume --max-tokens`).'),
    })
    .default({ maxConcurrentRuns: 4, maxConcurrentAgents: 2 })
    .describe('Concurrency limits. Not part of the fingerprint: they can change between a run and its resume.'),
  retries: z
    .strictObject({
      maxAttempts: z.int().min(1).max(20).default(3).describe('Attempts per effect (a step of a run, tier or the experiment) before its actor fails.'),
      backoffSeconds: z.number().min(0).default(2).describe('Delay before the first retry, doubling each time (at most 60 s).'),
    })
    .default({ maxAttempts: 3, backoffSeconds: 2 })
    .describe('Retries of failed steps. Not part of the fingerprint.'),
  failFast: z.boolean().default(false).describe('A failed tier fails the experiment (otherwise it completes and reports the failed tier).'),
  keepFailedWorkspaces: z.boolean().default(true).describe('Keep the worktree of a run that did not pass, for inspection.'),
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

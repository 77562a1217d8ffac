import { accessSync, constants, existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { EffectFailure } from '../../engine/effects.js';
import type { ExperimentConfig } from '../../schemas/config.js';
import type { ConfigIssue } from '../../schemas/issues.js';
import { tierGroups } from '../../schemas/tier-order.js';
import { configFingerprint, fingerprintHash } from './fingerprint.js';
import { isRepoUrl, prepareTaskRepo } from '../../workspace/task-repo.js';
import type { RunnerEffect } from '../session.js';

/** SPEC §4 Setup: config validation, experiment directory, repository preparation, pre-flight. */
export interface Setup {
  initializeExperiment: RunnerEffect;
  prepareRepository: RunnerEffect;
  preflightChecks: RunnerEffect;
}

export interface SetupDeps {
  prepareTaskRepo: typeof prepareTaskRepo;
}

export function createSetup(deps: SetupDeps = { prepareTaskRepo }): Setup {
  return {
    async initializeExperiment(_ctx, session) {
      mkdirSync(session.paths.dir, { recursive: true });
      const fingerprint = configFingerprint(session.config, session.configDir);
      const configHash = fingerprintHash(fingerprint);
      const record = { experiment: session.key, configDir: session.configDir, configHash, config: session.config, fingerprint };
      writeFileSync(session.paths.config, `${JSON.stringify(record, null, 2)}\n`);
      return { output: { configHash, dir: session.paths.dir } };
    },

    async prepareRepository(_ctx, session) {
      const { repo, commit } = session.config.task;
      const source = isRepoUrl(repo) ? repo : resolve(session.configDir, repo);
      const prepared = await deps.prepareTaskRepo({ source, commit, into: session.paths.repo });
      return { output: prepared };
    },

    async preflightChecks(_ctx, session) {
      const issues = environmentIssues(session.config, session.configDir);
      if (issues.length > 0) {
        throw new EffectFailure(`pre-flight checks failed: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, false);
      }
      return { output: { groups: tierGroups(session.config.tiers) } };
    },
  };
}

/**
 * What a valid config still needs from this machine: the prompt and resource
 * files, the programs of the agent and judge commands, and the files their
 * `./` arguments name. Checked before an experiment starts (exit 2) and again
 * at pre-flight (a resumed experiment may run elsewhere).
 */
export function environmentIssues(config: ExperimentConfig, configDir: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const need = (path: string, file: string, what: string) => {
    if (!existsSync(resolve(configDir, file))) issues.push({ path, message: `${what} ${file} does not exist (relative to ${configDir})` });
  };
  // files the config hands to runs stay inside the experiment's folder, symlinks resolved
  const inside = (path: string, file: string, what: string) => {
    const problem = escapes(configDir, file);
    if (problem) issues.push({ path, message: `${what} ${file} ${problem}` });
    else need(path, file, what);
  };
  inside('task.prompt', config.task.prompt, 'prompt file');
  const prompt = resolve(configDir, config.task.prompt);
  if (existsSync(prompt) && !statSync(prompt).isFile()) issues.push({ path: 'task.prompt', message: `prompt ${config.task.prompt} is not a file` });
  if (!isRepoUrl(config.task.repo)) need('task.repo', config.task.repo, 'task repository');
  config.tiers.forEach((tier, i) =>
    tier.subtests.forEach((subtest, j) => {
      for (const [dest, source] of Object.entries(subtest.resources.files)) {
        const at = `tiers[${i}].subtests[${j}].resources.files["${dest}"]`;
        const target = destinationProblem(dest);
        if (target) issues.push({ path: at, message: `destination ${dest} ${target}` });
        inside(at, source, 'resource');
      }
    }),
  );
  issues.push(...commandIssues('agent.command', config.agent.command, configDir));
  config.judges.forEach((judge, i) => issues.push(...commandIssues(`judges[${i}].command`, judge.command, configDir)));
  return issues;
}

function commandIssues(path: string, argv: readonly string[], configDir: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const program = argv[0]!;
  if (!findProgram(program, configDir)) {
    issues.push({ path: `${path}[0]`, message: `program "${program}" not found${program.includes('/') ? '' : ' on PATH'} or not executable` });
  }
  argv.forEach((arg, i) => {
    if (i > 0 && (arg.startsWith('./') || arg.startsWith('../')) && !existsSync(resolve(configDir, arg))) {
      issues.push({ path: `${path}[${i}]`, message: `${arg} does not exist (relative to ${configDir})` });
    }
  });
  return issues;
}

/** The program's path if it exists and is executable: a path (relative to the config) or a name on PATH. */
export function findProgram(program: string, configDir: string): string | null {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : resolve(configDir, program)]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why `file` is not a path inside `dir` (absolute, `..` out of it, or a symlink out of it), or null. */
export function escapes(dir: string, file: string): string | null {
  if (isAbsolute(file)) return 'must be a path relative to the config file, not an absolute path';
  const full = resolve(dir, file);
  if (!isWithin(dir, full)) return `leaves the config's folder ${dir}`;
  if (existsSync(full) && !isWithin(realpathSync(dir), realpathSync(full))) return `is a symlink to outside the config's folder ${dir}`;
  return null;
}

/** Why a workspace destination is not a plain path inside the workspace, or null. */
export function destinationProblem(dest: string): string | null {
  if (isAbsolute(dest)) return 'must be relative to the workspace, not absolute';
  const parts = normalize(dest).split(sep);
  if (normalize(dest) === '.' || dest.trim() === '') return 'must name a file or folder inside the workspace, not the workspace itself';
  if (parts[0] === '..') return 'leaves the workspace';
  if (parts.includes('.git')) return 'is inside .git';
  return null;
}

function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

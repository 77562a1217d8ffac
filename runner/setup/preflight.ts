import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { ExperimentConfig } from '../../schemas/config.js';
import type { ConfigIssue } from '../../schemas/issues.js';
import { destinationProblem, sourceProblem } from '../../workspace/inside.js';
import { isRepoUrl } from '../../workspace/task-repo.js';

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
    const problem = sourceProblem(configDir, file);
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
  issues.push(...secretIssues('agent.secretEnv', config.agent.secretEnv));
  config.judges.forEach((judge, i) => issues.push(...secretIssues(`judges[${i}].secretEnv`, judge.secretEnv)));
  return issues;
}

/** A secret the config names must be in the driver's environment (its value is never recorded, so it cannot come from anywhere else). */
function secretIssues(path: string, names: readonly string[]): ConfigIssue[] {
  return names.flatMap((name, i) => (process.env[name] === undefined ? [{ path: `${path}[${i}]`, message: `$${name} is not set in this environment; export it before running (expctl never records its value)` }] : []));
}

const SECRET_LOOKING = /(key|token|secret|password|passwd|credential)/i;

/** Names in `agent.env` that look like secrets: their values would be recorded (config, log, export). */
export function configWarnings(config: ExperimentConfig): string[] {
  return Object.keys(config.agent.env)
    .filter((name) => SECRET_LOOKING.test(name))
    .map((name) => `agent.env.${name} looks like a secret, and agent.env values are recorded in the log, config.json and exports; list it in agent.secretEnv and export it in your shell instead`);
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

import type { ConfigIssue } from '../schemas/issues.js';
import { ExpctlError } from '../util/errors.js';

/** The config file cannot be read or parsed (exit 2). */
export class ConfigReadError extends ExpctlError {
  constructor(readonly file: string, problem: string) {
    super('EXPCTL_CONFIG_READ', `cannot read config ${file}: ${problem}`, 'check the path, and that the file is YAML or JSON');
  }
}

/** The config does not validate (exit 2); every issue names its field. */
export class ConfigInvalidError extends ExpctlError {
  constructor(readonly file: string, readonly issues: ConfigIssue[]) {
    super(
      'EXPCTL_CONFIG_INVALID',
      `config ${file} is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      'fix the fields above; schemas/experiment.schema.json describes every field',
    );
  }
}

/** Resuming with a config whose results-relevant fields changed (exit 1). */
export class ConfigChangedError extends ExpctlError {
  constructor(readonly experiment: string, readonly changes: string[], how: 'run' | 'resume' = 'run') {
    super(
      'EXPCTL_CONFIG_CHANGED',
      `${how === 'run' ? 'the config' : 'what'} of experiment ${experiment} ${how === 'run' ? 'changed' : 'depends on changed'} since it started; changed: ${changes.join(', ')}`,
      'restore those fields, files or variables to continue it, or start over with `expctl run <config> --fresh` (the old history is kept)',
    );
  }
}

export class ExperimentNotFoundError extends ExpctlError {
  constructor(readonly experiment: string, readonly logFile: string, known: string[]) {
    super(
      'EXPCTL_NOT_FOUND',
      `no experiment ${experiment} in ${logFile}`,
      known.length > 0 ? `known experiments: ${known.join(', ')} (see \`expctl status\`)` : 'start one with `expctl run <config>`, or check --results-dir',
    );
  }
}

/** `--from-*` on an experiment that has not run yet. */
export class NothingToRedoError extends ExpctlError {
  constructor(readonly experiment: string) {
    super('EXPCTL_NOTHING_TO_REDO', `experiment ${experiment} has not run yet, so nothing can be re-executed`, `start it with \`expctl run <config>\` first`);
  }
}

/** The experiment ended in exp_failed (exit 1). */
export class ExperimentFailedError extends ExpctlError {
  constructor(readonly experiment: string, reason: string) {
    super('EXPCTL_EXPERIMENT_FAILED', `experiment ${experiment} failed: ${reason}`, `see \`expctl status ${experiment}\`; \`expctl resume ${experiment}\` retries what failed`);
  }
}

/** Stopped by SIGINT/SIGTERM after recording exp_interrupted (exit 130/143). */
export class InterruptedError extends ExpctlError {
  constructor(readonly experiment: string, readonly signal: string) {
    super('EXPCTL_INTERRUPTED', `experiment ${experiment} interrupted by ${signal}; its state is saved`, `continue with \`expctl resume ${experiment}\``);
  }
}

/**
 * The log does not verify: a resume is refused rather than built on it (exit 1).
 * When the machines changed incompatibly (I5) the hint names the last row a fork can keep.
 */
export class LogInvalidError extends ExpctlError {
  constructor(readonly experiment: string, readonly problem: { kind: string; seq: number | null; message: string } | string) {
    const p = typeof problem === 'string' ? { kind: 'other', seq: null, message: problem } : problem;
    super(
      p.kind === 'replay' ? 'EXPCTL_MACHINE_INCOMPATIBLE' : 'EXPCTL_LOG_INVALID',
      p.kind === 'replay'
        ? `experiment ${experiment} cannot continue with this expctl: its machines changed incompatibly. ${p.message}`
        : `the log of experiment ${experiment} does not verify: ${p.message}`,
      p.kind === 'replay' && p.seq
        ? `use the expctl version that wrote it, or branch from the last compatible row: \`expctl fork ${experiment} --at ${p.seq - 1}\``
        : `run \`expctl verify ${experiment}\` for details; \`expctl fork ${experiment} --at SEQ\` keeps the rows before a bad one`,
    );
  }
}

/**
 * Every expected failure of expctl, by its stable, machine-readable code, with
 * the exit code the CLI gives it (docs/design.md §7). A new code must be added
 * here, so the mapping stays exhaustive: the type checker refuses a code that
 * has no exit code, and cli/main.ts refuses nothing else.
 */
export const EXIT_CODES = {
  // 2: bad usage or input
  EXPCTL_USAGE: 2,
  EXPCTL_CONFIG_INVALID: 2,
  EXPCTL_CONFIG_READ: 2,
  EXPCTL_NOT_FOUND: 2,
  EXPCTL_STORE_OPEN: 2,
  // 1: an expected failure, with a hint
  EXPCTL_CONFIG_CHANGED: 1,
  EXPCTL_EXPERIMENT_FAILED: 1,
  EXPCTL_NOTHING_TO_REDO: 1,
  EXPCTL_NO_RESULTS: 1,
  EXPCTL_RUNS_ERRORED: 1,
  EXPCTL_GATE_FAILED: 1,
  EXPCTL_BUDGET_REACHED: 1,
  EXPCTL_EXISTS: 1,
  EXPCTL_LOG_INVALID: 1,
  EXPCTL_MACHINE_INCOMPATIBLE: 1,
  EXPCTL_VERIFY_FAILED: 1,
  EXPCTL_CORRUPT_ROW: 1,
  EXPCTL_REPLAY_DIVERGED: 1,
  EXPCTL_MALFORMED_STREAM: 1,
  EXPCTL_UNKNOWN_MACHINE: 1,
  EXPCTL_BAD_MACHINE_REF: 1,
  EXPCTL_UPCAST_MISSING: 1,
  EXPCTL_IMPORT: 1,
  EXPCTL_FORK_INVALID: 1,
  EXPCTL_VERSION_CONFLICT: 1,
  EXPCTL_INVALID_APPEND: 1,
  EXPCTL_LEASE_HELD: 1,
  EXPCTL_LEASE_LOST: 1,
  EXPCTL_EFFECT_FAILED: 1,
  EXPCTL_TASK_REPO: 1,
  EXPCTL_GIT: 1,
  EXPCTL_WORKSPACE_PATH: 1,
  EXPCTL_COMMAND_START: 1,
  EXPCTL_COMMAND_OUTPUT: 1,
  EXPCTL_STRAY_PROCESS: 1,
  EXPCTL_PORT_IN_USE: 1,
  EXPCTL_PORT_UNAVAILABLE: 1,
  EXPCTL_ASSET_MISSING: 1,
  // 130 / 143: interrupted by SIGINT / SIGTERM (the signal decides; see exitCodeOf)
  EXPCTL_INTERRUPTED: 130,
} as const satisfies Record<`EXPCTL_${string}`, number>;

export type ErrorCode = keyof typeof EXIT_CODES;

/**
 * Base of every expected failure in expctl. `code` is stable and machine
 * readable; `hint` names the next step for the user. Anything thrown that is
 * not an ExpctlError is a bug (exit 70).
 */
export class ExpctlError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

/** The process exit code of an expected failure. */
export function exitCodeOf(error: ExpctlError): number {
  if (error.code === 'EXPCTL_INTERRUPTED') return (error as { signal?: unknown }).signal === 'SIGTERM' ? 143 : 130;
  return EXIT_CODES[error.code];
}

/** A bad command line or argument (exit 2): what was wrong, and what to give instead. */
export class UsageError extends ExpctlError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super('EXPCTL_USAGE', message, hint, options);
  }
}

/**
 * Base of every expected failure in expctl. `code` is stable and machine
 * readable; `hint` names the next step for the user. cli/main.ts is the one
 * place that maps codes to exit codes; anything that is not an ExpctlError
 * is a bug.
 */
export class ExpctlError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

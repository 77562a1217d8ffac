import { resolve } from 'node:path';

/**
 * Commands expctl prints for the user to run next: copy-paste correct, so
 * with `--results-dir` unless the pasted command finds the same results
 * directory without it, and every argument quoted for a POSIX shell where it
 * needs it.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-][A-Za-z0-9_@%+=:,./~-]*$/;

/** Where a printed command will be pasted: the working directory and environment of the shell that ran expctl (an Io is one). */
export interface Shell {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** One argument as a shell reads it back: as is when safe, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** A placeholder the user fills in (`<config>`, `SEQ`): printed as it is. */
const isPlaceholder = (arg: string) => /^<[^<>]+>$/.test(arg) || /^[A-Z][A-Z0-9_]*$/.test(arg) || arg === '…';

/**
 * `--results-dir DIR` (absolute), or nothing when `resultsDir` is `./results`
 * of the working directory and EXPCTL_RESULTS_DIR is unset, empty or the same
 * folder: only then does the command find it without the flag, in this shell
 * and in one without the variable. A directory that came from
 * EXPCTL_RESULTS_DIR is named too, so the command works wherever it is pasted.
 */
export function resultsDirArgs(resultsDir: string, shell: Shell): string[] {
  const fallback = resolve(shell.cwd, 'results');
  const fromEnv = shell.env.EXPCTL_RESULTS_DIR ? resolve(shell.cwd, shell.env.EXPCTL_RESULTS_DIR) : fallback;
  return resolve(shell.cwd, resultsDir) === fallback && fromEnv === fallback ? [] : ['--results-dir', resolve(shell.cwd, resultsDir)];
}

/** `expctl [--results-dir DIR] args…`, quoted. */
export function expctlCommand(args: readonly string[], resultsDir: string, shell: Shell): string {
  return ['expctl', ...resultsDirArgs(resultsDir, shell), ...args].map((a, i) => (i === 0 || isPlaceholder(a) ? a : shellQuote(a))).join(' ');
}

/**
 * Every `` `expctl …` `` in a hint or message rewritten as a command for this
 * results directory (errors below the CLI name commands without knowing it).
 */
export function withCommands(text: string, resultsDir: string, shell: Shell): string {
  return text.replace(/`expctl ([^`]*)`/g, (_whole, rest: string) => {
    const args = rest.split(/\s+/).filter(Boolean);
    if (args.includes('--results-dir')) return `\`expctl ${rest}\``;
    return `\`${expctlCommand(args, resultsDir, shell)}\``;
  });
}

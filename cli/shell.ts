import { resolve } from 'node:path';

/**
 * Commands expctl prints for the user to run next: copy-paste correct, so
 * with `--results-dir` when it is not the default, and every argument quoted
 * for a POSIX shell where it needs it.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-][A-Za-z0-9_@%+=:,./~-]*$/;

/** One argument as a shell reads it back: as is when safe, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** A placeholder the user fills in (`<config>`, `SEQ`): printed as it is. */
const isPlaceholder = (arg: string) => /^<[^<>]+>$/.test(arg) || /^[A-Z][A-Z0-9_]*$/.test(arg) || arg === '…';

/** `--results-dir DIR` when `resultsDir` is not the default (`./results` of `cwd`), else nothing. */
export function resultsDirArgs(resultsDir: string, cwd: string): string[] {
  return resolve(resultsDir) === resolve(cwd, 'results') ? [] : ['--results-dir', resolve(resultsDir)];
}

/** `expctl [--results-dir DIR] args…`, quoted. */
export function expctlCommand(args: readonly string[], resultsDir: string, cwd: string): string {
  return ['expctl', ...resultsDirArgs(resultsDir, cwd), ...args].map((a, i) => (i === 0 || isPlaceholder(a) ? a : shellQuote(a))).join(' ');
}

/**
 * Every `` `expctl …` `` in a hint or message rewritten as a command for this
 * results directory (errors below the CLI name commands without knowing it).
 */
export function withCommands(text: string, resultsDir: string, cwd: string): string {
  return text.replace(/`expctl ([^`]*)`/g, (_whole, rest: string) => {
    const args = rest.split(/\s+/).filter(Boolean);
    if (args.includes('--results-dir')) return `\`expctl ${rest}\``;
    return `\`${expctlCommand(args, resultsDir, cwd)}\``;
  });
}

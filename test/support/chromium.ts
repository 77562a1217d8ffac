import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * The browser the tests drive: Debian's Chromium, never a downloaded one.
 * Every browser test launches it through `launchChromium`, so on a machine
 * without it those tests fail saying what is missing, why and how to install
 * it, instead of playwright's raw launch error (and are never skipped).
 */

export const CHROMIUM_ENV = 'EXPCTL_CHROMIUM';
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The Chromium binary: $EXPCTL_CHROMIUM when set and not empty, else Debian's. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[CHROMIUM_ENV] || DEFAULT_CHROMIUM;
}

export type ChromiumTrouble = 'missing' | 'not-executable' | { failed: string };

/** What is wrong with the browser at `path`, why the tests need one, and how to get one. */
export function chromiumProblem(path: string, trouble: ChromiumTrouble, env: NodeJS.ProcessEnv = process.env): string {
  const at = `${path}${env[CHROMIUM_ENV] === path ? ` (${CHROMIUM_ENV})` : ''}`;
  const problem = trouble === 'missing' ? `Chromium is missing: ${at} does not exist`
    : trouble === 'not-executable' ? `Chromium cannot be run: ${at} is not an executable file`
    : `Chromium at ${at} did not start: ${trouble.failed}`;
  return `${problem}. The tests need it: the offline viewer page (\`expctl view\`) is tested in a real headless browser. `
    + `Install it with \`sudo apt-get install chromium\` (Debian; .ci/run does this when it is missing), or set ${CHROMIUM_ENV}=/path/to/chromium to use another Chromium or Chrome binary.`;
}

/** The useful part of playwright's launch error: what the browser printed to stderr, and its exit code. */
function launchFailure(message: string): string {
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '');
  const logs = plain.split('\nCall log:')[0]!;
  const stderr = [...logs.matchAll(/^\[pid=\d+\]\[err\] (.*\S)\s*$/gm)].map((m) => m[1]!).slice(0, 3);
  const exit = /<process did exit: exitCode=(\d+)/.exec(plain)?.[1];
  const why = stderr.length > 0 ? stderr.join(' | ') : plain.split('\n')[0]!.trim();
  return `${why}${exit ? ` (exit code ${exit})` : ''}`;
}

/** Headless Chromium for a test; throws the message of `chromiumProblem` when it cannot be started. */
export async function launchChromium(path = chromiumPath()): Promise<Browser> {
  try {
    accessSync(path, constants.X_OK);
  } catch (error) {
    throw new Error(chromiumProblem(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'not-executable'));
  }
  try {
    return await chromium.launch({ executablePath: path, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  } catch (error) {
    throw new Error(chromiumProblem(path, { failed: launchFailure(String((error as Error)?.message ?? error)) }));
  }
}

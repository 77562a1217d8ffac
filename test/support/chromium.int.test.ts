/**
 * On a machine without Chromium the browser tests fail (never skip) saying
 * what is missing, why the tests need it and how to install it; simulated by
 * pointing EXPCTL_CHROMIUM at browsers that are not there or do not start.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumPath, DEFAULT_CHROMIUM, launchChromium } from './chromium.js';
import { useTempDir } from './temp.js';

const tempDir = useTempDir('expctl-chromium-');
const ROOT = resolve(import.meta.dirname, '..', '..');

const WHY_AND_HOW = 'The tests need it: the offline viewer page (`expctl view`) is tested in a real headless browser. '
  + 'Install it with `sudo apt-get install chromium` (Debian; .ci/run does this when it is missing), or set EXPCTL_CHROMIUM=/path/to/chromium to use another Chromium or Chrome binary.';

describe('launching Chromium for the tests', () => {
  it('is /usr/bin/chromium unless EXPCTL_CHROMIUM names another (empty: unset)', () => {
    expect(chromiumPath({})).toBe(DEFAULT_CHROMIUM);
    expect(chromiumPath({ EXPCTL_CHROMIUM: '' })).toBe(DEFAULT_CHROMIUM);
    expect(chromiumPath({ EXPCTL_CHROMIUM: '/opt/chrome/chrome' })).toBe('/opt/chrome/chrome');
  });

  it('a missing browser: says which file is missing, why the tests need it and what to install', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(`Chromium is missing: /nonexistent/chromium does not exist. ${WHY_AND_HOW}`);
  });

  it('a file that cannot be run, or a browser that does not start: says so, with what it printed', async () => {
    const dir = tempDir();
    const plain = join(dir, 'chromium');
    writeFileSync(plain, 'not a program\n', { mode: 0o644 });
    await expect(launchChromium(plain)).rejects.toThrow(`Chromium cannot be run: ${plain} is not an executable file. ${WHY_AND_HOW}`);
    // a Chromium without its libraries
    const broken = join(dir, 'broken-chromium');
    writeFileSync(broken, '#!/bin/sh\necho "chromium: error while loading shared libraries: libnss3.so: cannot open shared object file" >&2\nexit 127\n');
    chmodSync(broken, 0o755);
    await expect(launchChromium(broken)).rejects.toThrow(
      `Chromium at ${broken} did not start: chromium: error while loading shared libraries: libnss3.so: cannot open shared object file (exit code 127). ${WHY_AND_HOW}`,
    );
  });

  it('the browser test fails, and is not skipped, when there is no Chromium', () => {
    const missing = join(tempDir(), 'no-chromium');
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/cli/view.browser.int.test.ts'], {
      cwd: ROOT,
      env: { ...process.env, EXPCTL_CHROMIUM: missing, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const output = `${r.stdout}${r.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
    expect(r.status, output).toBe(1);
    expect(output).toContain(`Chromium is missing: ${missing} (EXPCTL_CHROMIUM) does not exist. ${WHY_AND_HOW}`);
    expect(output).toMatch(/Tests\s+1 failed \(1\)/);
    expect(output).not.toMatch(/skipped/);
  }, 60_000);
});

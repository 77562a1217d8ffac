import { EVENT_SCHEMA_VERSION } from '../../schemas/event-version.js';
/**
 * Hostile files, through the built CLI (`npm run build` first; `npm test` does it).
 *
 * 1. A real log (a tiny experiment run by the CLI), corrupted in copies:
 *    truncated (100 bytes, one 4 KiB page, half), random bytes, a foreign
 *    SQLite database, a missing table, a future log format, a row with a
 *    future event schema. `status`, `history <id>`, `verify <id>` and
 *    `resume <id>` each fail with a clear error that names the file (or the
 *    row) and the problem, without a stack trace, and leave the file's bytes
 *    exactly as they were.
 *
 *    Exit codes: 2 for a file that cannot be opened as an expctl log
 *    (EXPCTL_STORE_OPEN: "not an expctl log" is bad input, README); 1 for
 *    the future event schema: the file is a valid expctl log, one of its rows
 *    cannot be read (EXPCTL_CORRUPT_ROW / "log does not verify", README: an
 *    expected failure).
 *
 *    REPORTED: read-only commands on a log in WAL mode (every expctl log;
 *    also the truncated copies, whose header still says WAL) create
 *    `expctl.db-shm` (32 KiB) and an empty `expctl.db-wal` next to the file
 *    and leave them there; only the main file is guaranteed untouched. The
 *    test checks that any -wal left behind is empty (nothing was written
 *    through it) and removes both between commands.
 *
 * 2. Prompt and resource paths that escape the config's folder (`../`,
 *    absolute, symlinks to a file or folder outside), and resource
 *    destinations that leave the workspace (`../x`, `/abs`, `.git/…`), are
 *    refused by `run` with exit 2 naming the field; nothing is created.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentConfigInput } from '../../schemas/config.js';
import { STORE_SCHEMA_VERSION } from '../../store/sqlite-schema.js';
import { cli } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-hostile-files-');

/** A stack frame as Node prints it. */
const STACK_FRAME = /^\s+at .*(\(|:\d+:\d+)/m;

let source: { dir: string; log: string; bytes: Buffer };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expctl-hostile-log-'));
  const config = writeExperiment(join(dir, 'exp'), { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
  const resultsDir = join(dir, 'results');
  const run = await cli(['--results-dir', resultsDir, 'run', config]);
  expect(run.code, run.stderr).toBe(0);
  const log = join(resultsDir, 'expctl.db');
  source = { dir, log, bytes: readFileSync(log) };
  expect(source.bytes.length).toBeGreaterThan(8192);
}, 60_000);

afterAll(() => {
  if (source) rmSync(source.dir, { recursive: true, force: true });
});

/** Deterministic pseudo-random bytes. */
function noise(length: number, seed = 12_345): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

function withDb(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

interface Corruption {
  name: string;
  /** Write the corrupted log to `file`; returns what else the expected message needs. */
  make: (file: string) => { seq?: number };
  code: 1 | 2;
  /** The problem, as the message states it (after the file name, or the row). */
  problem: (file: string, seq?: number) => RegExp | string;
}

const unreadable = (file: string) => new RegExp(`^error: cannot open event log ${escapeRe(file)}: (database disk image is malformed|file is not a database) \\(not a SQLite database, or damaged\\)$`, 'm');

const corruptions: Corruption[] = [
  { name: 'truncated to 100 bytes', make: (f) => (writeFileSync(f, source.bytes.subarray(0, 100)), {}), code: 2, problem: unreadable },
  { name: 'truncated to one page (4096 bytes)', make: (f) => (writeFileSync(f, source.bytes.subarray(0, 4096)), {}), code: 2, problem: unreadable },
  { name: 'truncated to half', make: (f) => (writeFileSync(f, source.bytes.subarray(0, source.bytes.length >> 1)), {}), code: 2, problem: unreadable },
  { name: 'random bytes', make: (f) => (writeFileSync(f, noise(source.bytes.length)), {}), code: 2, problem: unreadable },
  {
    name: 'a foreign SQLite database',
    make: (f) => (withDb(f, (db) => db.exec("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO things (name) VALUES ('a');")), {}),
    code: 2,
    problem: (f) => `error: cannot open event log ${f}: it is a SQLite database, but not an expctl event log\nhint: point --results-dir at an expctl results directory; the file was not changed`,
  },
  {
    name: 'a missing table (leases dropped)',
    make: (f) => (copyFileSync(source.log, f), withDb(f, (db) => db.exec('DROP TABLE leases')), {}),
    code: 2,
    problem: (f) => `error: cannot open event log ${f}: tables leases are missing\nhint: the file is damaged; restore it from a backup (it was not changed)`,
  },
  {
    name: 'a future log format (user_version 99)',
    make: (f) => (copyFileSync(source.log, f), withDb(f, (db) => db.pragma('user_version = 99')), {}),
    code: 2,
    problem: (f) => `error: cannot open event log ${f}: it was written by a newer expctl (log format 99, this one reads up to ${STORE_SCHEMA_VERSION})\nhint: upgrade expctl; the file was not changed`,
  },
  {
    name: 'a row with a future event schema (99)',
    make: (f) => {
      copyFileSync(source.log, f);
      let seq = 0;
      withDb(f, (db) => {
        db.exec('DROP TRIGGER events_are_never_updated');
        seq = (db.prepare("SELECT seq FROM events WHERE stream = 'exp-1/T0' AND version = 1").get() as { seq: number }).seq;
        db.prepare('UPDATE events SET schema = 99 WHERE seq = ?').run(seq);
      });
      return { seq };
    },
    code: 1,
    problem: (_f, seq) => `row seq ${seq} (stream exp-1/T0, version 1) cannot be read: it was written with event schema 99, newer than this expctl's ${EVENT_SCHEMA_VERSION}; upgrade expctl`,
  },
];

const COMMANDS = [['status'], ['history', 'exp-1'], ['verify', 'exp-1'], ['resume', 'exp-1']];

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('corrupted logs: a clear error naming the file and the problem; the file is never modified', () => {
  it.each(corruptions)('$name', async (corruption) => {
    const resultsDir = join(tempDir(), 'results');
    mkdirSync(resultsDir);
    const file = join(resultsDir, 'expctl.db');
    const { seq } = corruption.make(file);
    const before = readFileSync(file);
    for (const args of COMMANDS) {
      const result = await cli(['--results-dir', resultsDir, ...args]);
      const what = `${corruption.name}: expctl ${args.join(' ')} → ${result.code}\n${result.stderr}`;
      expect(result.code, what).toBe(corruption.code);
      expect(result.stderr, what).toMatch(/^error: \S/);
      expect(result.stderr, what).toMatch(/^hint: \S/m);
      const problem = corruption.problem(file, seq);
      if (typeof problem === 'string') expect(result.stderr, what).toContain(problem);
      else expect(result.stderr, what).toMatch(problem);
      expect(result.stderr, what).not.toMatch(STACK_FRAME);
      expect(result.stderr, what).not.toContain('internal error');
      expect(readFileSync(file).equals(before), `${what}\nthe file changed`).toBe(true);
      // read-only commands leave -shm and an empty -wal behind (reported); nothing may be written through the WAL
      if (existsSync(`${file}-wal`)) expect(statSync(`${file}-wal`).size, what).toBe(0);
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
    }
    expect(readFileSync(file).equals(before)).toBe(true);
  }, 60_000);

  it('an empty (0-byte) log: every command refuses it and leaves it empty; resume without a log creates none', async () => {
    // a failed resume once wrote a fresh log into the empty file (and into a results dir without one)
    const resultsDir = join(tempDir(), 'results');
    mkdirSync(resultsDir);
    const file = join(resultsDir, 'expctl.db');
    writeFileSync(file, '');
    for (const args of COMMANDS) {
      const result = await cli(['--results-dir', resultsDir, ...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`error: cannot open event log ${file}: the file is empty\n`);
      expect(readFileSync(file).length).toBe(0);
    }
  }, 60_000);

  it('the intact copy works with the same commands (what fails above is the corruption), and read-only commands do not change it', async () => {
    const resultsDir = join(tempDir(), 'results');
    mkdirSync(resultsDir);
    const file = join(resultsDir, 'expctl.db');
    copyFileSync(source.log, file);
    for (const args of COMMANDS.slice(0, 3)) {
      const result = await cli(['--results-dir', resultsDir, ...args]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(readFileSync(file).equals(source.bytes), `${args.join(' ')} changed an intact log`).toBe(true);
    }
    const resumed = await cli(['--results-dir', resultsDir, 'resume', 'exp-1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('experiment exp-1 is already complete; nothing to run');
    const nowhere = join(tempDir(), 'none');
    const noLog = await cli(['--results-dir', nowhere, 'resume', 'exp-1']);
    expect(noLog.code).toBe(2);
    expect(noLog.stderr).toContain('no event log in');
    expect(existsSync(nowhere)).toBe(false);
  }, 60_000);
});

describe('paths that escape the config folder or the workspace are refused by run (exit 2, naming the field)', () => {
  const RES = (dest: string) => `tiers[0].subtests[0].resources.files[${JSON.stringify(dest)}]`;
  const withFiles = (files: Record<string, string>): Partial<ExperimentConfigInput> => ({ tiers: [{ id: 'T0', subtests: [{ id: 'a', resources: { files } }] }] });

  /** [name, config overrides (given the folder outside), expected `  <field>: <message>` line] */
  const cases: [string, (outside: string) => Partial<ExperimentConfigInput>, (outside: string, dir: string) => string][] = [
    ['prompt ../', () => ({ task: { repo: './task', prompt: '../outside/secret.md' } }), (_o, dir) => `  task.prompt: prompt file ../outside/secret.md leaves the config's folder ${dir}`],
    ['prompt absolute', (o) => ({ task: { repo: './task', prompt: join(o, 'secret.md') } }), (o) => `  task.prompt: prompt file ${join(o, 'secret.md')} must be a path relative to the config file, not an absolute path`],
    ['prompt symlink to a file outside', () => ({ task: { repo: './task', prompt: './link.md' } }), (_o, dir) => `  task.prompt: prompt file ./link.md is a symlink to outside the config's folder ${dir}`],
    ['prompt inside a symlinked folder outside', () => ({ task: { repo: './task', prompt: './linkdir/secret.md' } }), () => "  task.prompt: prompt file ./linkdir/secret.md is a symlink to outside the config's folder"],
    ['resource ../', () => withFiles({ 'X.md': '../outside/secret.md' }), () => `  ${RES('X.md')}: resource ../outside/secret.md leaves the config's folder`],
    ['resource absolute', (o) => withFiles({ 'X.md': join(o, 'secret.md') }), (o) => `  ${RES('X.md')}: resource ${join(o, 'secret.md')} must be a path relative to the config file, not an absolute path`],
    ['resource symlink to a file outside', () => withFiles({ 'X.md': './link.md' }), () => `  ${RES('X.md')}: resource ./link.md is a symlink to outside the config's folder`],
    ['resource symlink to a folder outside', () => withFiles({ docs: './linkdir' }), () => `  ${RES('docs')}: resource ./linkdir is a symlink to outside the config's folder`],
    ['destination ../', () => withFiles({ '../x': './hint.md' }), () => `  ${RES('../x')}: destination ../x leaves the workspace`],
    ['destination a/../../', () => withFiles({ 'a/../../x': './hint.md' }), () => `  ${RES('a/../../x')}: destination a/../../x leaves the workspace`],
    ['destination absolute', () => withFiles({ '/tmp/expctl-abs-x': './hint.md' }), () => `  ${RES('/tmp/expctl-abs-x')}: destination /tmp/expctl-abs-x must be relative to the workspace, not absolute`],
    ['destination .git/hooks/pre-commit', () => withFiles({ '.git/hooks/pre-commit': './hint.md' }), () => `  ${RES('.git/hooks/pre-commit')}: destination .git/hooks/pre-commit is inside .git`],
  ];

  it.each(cases)('%s', async (_name, overrides, line) => {
    const root = tempDir();
    const outside = join(root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.md'), 'outside the config folder\n');
    const dir = join(root, 'exp');
    mkdirSync(dir);
    symlinkSync(join(outside, 'secret.md'), join(dir, 'link.md'));
    symlinkSync(outside, join(dir, 'linkdir'));
    const config = writeExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }], ...overrides(outside) });
    const resultsDir = join(root, 'results');
    const result = await cli(['--results-dir', resultsDir, 'run', config]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`error: config ${config} is invalid:\n`);
    expect(result.stderr).toContain(`${line(outside, dir)}`);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(existsSync(resultsDir)).toBe(false);
    expect(existsSync('/tmp/expctl-abs-x')).toBe(false);
  });
});

describe('a resource destination whose name only starts with dots (`..notes/x.md`)', () => {
  it('is inside the workspace: accepted by the config check and pre-flight, copied there by the run step', async () => {
    // once accepted by validation and pre-flight, then refused by the run step as "outside the workspace"
    const dir = tempDir();
    const judge = "const fs = require('fs'); const ok = fs.readFileSync('..notes/x.md', 'utf8') === 'A hint.\\n'; console.log(JSON.stringify({ score: ok ? 1 : 0, passed: ok }))";
    const config = writeExperiment(dir, {
      runsPerSubtest: 1,
      judges: [{ command: ['node', '-e', judge] }],
      tiers: [{ id: 'T0', subtests: [{ id: 'a', resources: { files: { '..notes/x.md': './hint.md' } } }] }],
    });
    const resultsDir = join(dir, 'results');
    const result = await cli(['--results-dir', resultsDir, 'run', config]);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse((await cli(['--results-dir', resultsDir, 'status', 'exp-1', '--json'])).stdout) as { runs: { completed: number; failed: number } };
    expect(status.runs).toMatchObject({ completed: 1, failed: 0 });
    const run = JSON.parse(readFileSync(join(resultsDir, 'exp-1', 'T0', 'a', 'run-01', 'result.json'), 'utf8')) as { passed: boolean };
    expect(run.passed).toBe(true);
  });
});

describe('a resource destination through a symlink in the task repository', () => {
  it('is refused by the run step: nothing is written outside the workspace, the run fails with the reason', async () => {
    const root = tempDir();
    const outside = join(root, 'outside');
    mkdirSync(outside);
    const dir = join(root, 'exp');
    mkdirSync(dir);
    const config = writeExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a', resources: { files: { 'out/x.md': './hint.md' } } }] }] });
    symlinkSync(outside, join(dir, 'task', 'out'));
    const resultsDir = join(root, 'results');
    const result = await cli(['--results-dir', resultsDir, 'run', config]);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(existsSync(join(outside, 'x.md'))).toBe(false);
    const history = JSON.parse((await cli(['--results-dir', resultsDir, 'history', 'exp-1', '--json'])).stdout) as { type: string; data: { error?: { message: string } } }[];
    expect(history.find((r) => r.type === 'effect.failed')?.data.error?.message).toBe('resource destination "out/x.md" goes through a symlink out of the workspace');
  }, 60_000);
});

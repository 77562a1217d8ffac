import { EVENT_SCHEMA_VERSION } from '../../schemas/event-version.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../cli/export.js';
import { importCommand } from '../../cli/import.js';
import type { Io } from '../../cli/io.js';
import { experimentStatus } from '../../observe/status.js';
import { verifyLog } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { driveExperiment, loadRunConfig } from '../../runner/index.js';
import { logFile } from '../../runner/paths.js';
import { ImportError } from '../../store/import-rows.js';
import { rawOf } from '../../store/rows.js';
import { GENESIS_HASH, rowHash } from '../../store/index.js';
import type { EventStore, ImportedRow } from '../../store/types.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { runRows } from '../support/rows.js';
import { useTempDir } from '../support/temp.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();

function captured(cwd: string): Io & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false, color: false, cwd, env: process.env,
    stdout: () => out.join(''), stderr: () => err.join(''),
  };
}

const read = <T>(resultsDir: string, fn: (store: EventStore) => T): T => {
  const store = openLog(logFile(resultsDir), { readonly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
};

const withoutDriver = ({ driver: _, ...status }: ReturnType<typeof experimentStatus>) => status;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function refusal(promise: Promise<unknown>): Promise<ImportError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ImportError);
  expect(error).toMatchObject({ code: 'EXPCTL_IMPORT' });
  return error as ImportError;
}

/** One small real experiment (counting agent and judge, real git and processes), exported once for every test. */
let source: { dir: string; resultsDir: string; exportFile: string; lines: string[] };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expctl-export-'));
  process.env.COUNTER_FILE = join(dir, 'counter.log');
  process.env.AGENT_SLEEP_MS = '10';
  const config = writeCountingExperiment(dir, {
    runsPerSubtest: 1,
    tiers: [
      { id: 'T0', subtests: [{ id: 'a' }, { id: 'b', resources: { files: { 'HINT.md': './hint.md' } } }] },
      { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a' }] },
    ],
  });
  const resultsDir = join(dir, 'results');
  const store = openLog(logFile(resultsDir));
  try {
    const outcome = await driveExperiment({ store, resultsDir, config: loadRunConfig(config) });
    expect(outcome.state).toBe('exp_complete');
  } finally {
    store.close();
  }
  const io = captured(dir);
  await exportCommand('exp-1', { resultsDir: 'results', format: 'jsonl', out: 'exp-1.jsonl' }, io);
  const exportFile = join(dir, 'exp-1.jsonl');
  source = { dir, resultsDir, exportFile, lines: readFileSync(exportFile, 'utf8').split('\n') };
}, 120_000);

afterAll(() => {
  if (source) rmSync(source.dir, { recursive: true, force: true });
});

/** A results dir whose log already holds another experiment, and a way to prove it did not change. */
function occupiedTarget(): { resultsDir: string; assertUnchanged: () => void } {
  const resultsDir = join(tempDir(), 'target');
  const store = openLog(logFile(resultsDir));
  store.append('other', runRows('other/T0/s1/1', 2));
  store.close();
  const before = { sha: sha(logFile(resultsDir)), heads: read(resultsDir, (s) => s.experiments()) };
  return {
    resultsDir,
    assertUnchanged: () => {
      expect(sha(logFile(resultsDir))).toBe(before.sha);
      expect(read(resultsDir, (s) => s.experiments())).toEqual(before.heads);
      expect(read(resultsDir, (s) => [...s.readExperiment('exp-1')])).toEqual([]);
    },
  };
}

/** Write the export with `edit` applied to its lines; returns the file. */
function tampered(edit: (lines: string[]) => string[]): string {
  const file = join(tempDir(), 'tampered.jsonl');
  writeFileSync(file, edit([...source.lines]).join('\n'));
  return file;
}

describe('export and import (docs/design.md §7: round trip through another results dir)', () => {
  it('exports a header and every row with its hashes, the same on stdout as in the file', async () => {
    const [header, ...rest] = source.lines;
    const rows = rest.filter(Boolean).map((l) => JSON.parse(l) as ImportedRow);
    const head = read(source.resultsDir, (s) => s.head('exp-1')!);
    expect(JSON.parse(header!)).toEqual({ format: 'expctl-log', formatVersion: 1, experiment: 'exp-1', rows: head.rows, headHash: head.headHash, eventSchema: EVENT_SCHEMA_VERSION });
    expect(Object.keys(JSON.parse(header!))).toEqual(['format', 'formatVersion', 'experiment', 'rows', 'headHash', 'eventSchema']);
    expect(rows).toHaveLength(head.rows);
    expect(source.lines.at(-1)).toBe('');
    const stored = read(source.resultsDir, (s) => [...s.readExperiment('exp-1')]);
    expect(rows).toEqual(stored.map((r) => ({ ...r.raw, prevHash: r.prevHash, hash: r.hash })));
    expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
    rows.forEach((r, i) => expect(rowHash(i === 0 ? GENESIS_HASH : rows[i - 1]!.hash, rawOf(r))).toBe(r.hash));
    expect([...new Set(rows.map((r) => r.type))]).toEqual(expect.arrayContaining(['actor.created', 'effect.started', 'effect.completed', 'run.finished', 'subtest.finished', 'tier.finished']));

    const io = captured(source.dir);
    await exportCommand('exp-1', { resultsDir: source.resultsDir, format: 'jsonl' }, io);
    expect(io.stdout()).toBe(readFileSync(source.exportFile, 'utf8'));
  });

  it('imports into another results dir: the chain verifies, every stream replays, status is identical, a re-export is byte for byte the same', async () => {
    const dir = tempDir();
    const target = join(dir, 'elsewhere');
    const io = captured(dir);
    await importCommand(source.exportFile, { resultsDir: target }, io);
    const rows = source.lines.length - 2;
    expect(io.stdout()).toMatch(new RegExp(`^imported exp-1: ${rows} rows in \\d+ streams into ${logFile(target)} \\(hash chain and replay of every stream verified\\)\\nhead hash [0-9a-f]{64}\\n$`));

    const report = read(target, (s) => verifyLog(s, lifecycleRegistry, 'exp-1'));
    expect(report).toMatchObject({ ok: true, rows, problem: null, headHash: read(source.resultsDir, (s) => s.head('exp-1')!.headHash) });
    const imported = read(target, (s) => experimentStatus(s, 'exp-1'));
    const original = read(source.resultsDir, (s) => experimentStatus(s, 'exp-1'));
    expect(withoutDriver(imported)).toEqual(withoutDriver(original));
    expect(imported).toMatchObject({ state: 'exp_complete', runs: { total: 3, completed: 3 } });

    const again = captured(dir);
    await exportCommand('exp-1', { resultsDir: target, format: 'jsonl' }, again);
    expect(again.stdout()).toBe(readFileSync(source.exportFile, 'utf8'));
  });

  it('prints the import as JSON with --json', async () => {
    const dir = tempDir();
    const io = captured(dir);
    await importCommand(source.exportFile, { resultsDir: join(dir, 'r'), json: true }, io);
    const head = read(source.resultsDir, (s) => s.head('exp-1')!);
    expect(JSON.parse(io.stdout())).toEqual({ experiment: 'exp-1', rows: head.rows, streams: expect.any(Number), headHash: head.headHash, log: logFile(join(dir, 'r')) });
  });

  it('refuses to import an experiment the log has already, with a hint, and changes nothing', async () => {
    const dir = tempDir();
    const target = join(dir, 'r');
    await importCommand(source.exportFile, { resultsDir: target }, captured(dir));
    const before = sha(logFile(target));
    const error = await refusal(importCommand(source.exportFile, { resultsDir: target }, captured(dir)));
    expect(error.message).toBe(`cannot import: experiment exp-1 already exists in ${logFile(target)}`);
    expect(error.hint).toMatch(/--results-dir/);
    expect(sha(logFile(target))).toBe(before);
    // the source itself has it too
    await refusal(importCommand(source.exportFile, { resultsDir: source.resultsDir }, captured(dir)));
  });

  it('refuses an export with one byte of one row\'s data changed, naming the line; the target log is unchanged', async () => {
    const { resultsDir, assertUnchanged } = occupiedTarget();
    const line = source.lines.findIndex((l) => l.includes('"type":"effect.completed"'));
    const file = tampered((lines) => {
      const row = JSON.parse(lines[line]!) as ImportedRow;
      const data = row.data.replace('"attempt":1', '"attempt":2');
      expect(data.length).toBe(row.data.length);
      lines[line] = JSON.stringify({ ...row, data });
      return lines;
    });
    const error = await refusal(importCommand(file, { resultsDir }, captured(source.dir)));
    expect(error.line).toBe(line + 1);
    expect(error.message).toMatch(new RegExp(`^cannot import ${file}: line ${line + 1} \\(row ${line}\\): its hash does not match its content`));
    assertUnchanged();
  });

  it('refuses an export with a row removed, naming the line; the target log is unchanged', async () => {
    const { resultsDir, assertUnchanged } = occupiedTarget();
    const middle = Math.floor(source.lines.length / 2);
    const error = await refusal(importCommand(tampered((lines) => lines.filter((_, i) => i !== middle)), { resultsDir }, captured(source.dir)));
    expect(error.message).toMatch(new RegExp(`line ${middle + 1} \\(row ${middle}\\): its prevHash is not the hash of the row before it`));
    assertUnchanged();
    const last = source.lines.length - 2;
    const truncated = await refusal(importCommand(tampered((lines) => lines.filter((_, i) => i !== last)), { resultsDir }, captured(source.dir)));
    expect(truncated.message).toMatch(/line 1: the header says \d+ rows .* rows were removed from or added at the end/);
    assertUnchanged();
  });

  it('refuses a re-hashed export whose rows no longer replay, naming the line, before writing anything', async () => {
    const dir = tempDir();
    const resultsDir = join(dir, 'fresh');
    const rows = source.lines.slice(1).filter(Boolean).map((l) => JSON.parse(l) as ImportedRow);
    const index = rows.findIndex((r) => r.type === 'effect.completed' && r.stream.endsWith('/1'));
    rows[index] = { ...rows[index]!, state: JSON.stringify('run_failed') };
    let prevHash = GENESIS_HASH;
    const rechained = rows.map((r) => {
      const hash = rowHash(prevHash, rawOf(r));
      const next = { ...r, prevHash, hash };
      prevHash = hash;
      return next;
    });
    const header = { ...JSON.parse(source.lines[0]!), headHash: prevHash };
    const file = join(dir, 'rehashed.jsonl');
    writeFileSync(file, [JSON.stringify(header), ...rechained.map((r) => JSON.stringify(r)), ''].join('\n'));
    const error = await refusal(importCommand(file, { resultsDir }, captured(dir)));
    expect(error.message).toMatch(new RegExp(`line ${index + 2} \\(row ${index + 1}\\): it does not verify: .*`));
    expect(existsSync(resultsDir)).toBe(false);
  });

  it('refuses lines that are not JSON or not rows, and a file that is not an export, naming the line', async () => {
    const { resultsDir, assertUnchanged } = occupiedTarget();
    const io = captured(source.dir);
    expect((await refusal(importCommand(tampered((l) => { l[3] = l[3]!.slice(0, -1); return l; }), { resultsDir }, io))).message).toMatch(/line 4: it is not valid JSON/);
    expect((await refusal(importCommand(tampered((l) => { l[2] = JSON.stringify({ ...JSON.parse(l[2]!), seq: 3 }); return l; }), { resultsDir }, io))).message).toMatch(/line 3 \(row 2\): it is not an exported row/);
    expect((await refusal(importCommand(tampered((l) => l.slice(1)), { resultsDir }, io))).message).toMatch(/line 1: it is not an expctl export header/);
    expect((await refusal(importCommand(tampered((l) => { l.splice(5, 0, ''); return l; }), { resultsDir }, io))).message).toMatch(/line 6: it is empty/);
    assertUnchanged();
    await expect(importCommand(join(source.dir, 'missing.jsonl'), { resultsDir }, io)).rejects.toMatchObject({ code: 'EXPCTL_NOT_FOUND' });
  });

  it('export never overwrites a file, and knows only --format jsonl', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'taken.jsonl'), 'keep me\n');
    const io = captured(dir);
    await expect(exportCommand('exp-1', { resultsDir: source.resultsDir, format: 'jsonl', out: 'taken.jsonl' }, io)).rejects.toMatchObject({ code: 'EXPCTL_USAGE', message: expect.stringMatching(/already exists/) });
    expect(readFileSync(join(dir, 'taken.jsonl'), 'utf8')).toBe('keep me\n');
    await expect(exportCommand('exp-1', { resultsDir: source.resultsDir, format: 'csv' as 'jsonl' }, io)).rejects.toMatchObject({ code: 'EXPCTL_USAGE' });
    await expect(exportCommand('nope', { resultsDir: source.resultsDir, format: 'jsonl', out: 'x.jsonl' }, io)).rejects.toMatchObject({ code: 'EXPCTL_NOT_FOUND' });
    expect(existsSync(join(dir, 'x.jsonl'))).toBe(false);
  });
});

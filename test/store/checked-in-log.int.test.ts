import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { importCommand } from '../../cli/import.js';
import type { Io } from '../../cli/io.js';
import { experimentStatus } from '../../observe/status.js';
import { verifyLog } from '../../engine/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { logFile } from '../../runner/paths.js';
import { EffectFailed, EVENT_SCHEMA_VERSION, LifecycleEvent } from '../../schemas/events.js';
import { parseExport } from '../../store/export.js';
import { decodeRow } from '../../store/rows.js';
import type { EventStore, StoredRow } from '../../store/types.js';
import { UPCASTERS } from '../../runner/codec.js';
import { lifecycleCodec } from '../../runner/codec.js';
import { zodCodec } from '../../runner/codec.js';
import type { EventCodec, Upcaster } from '../../store/codec.js';
import { useTempDir } from '../support/temp.js';
import { memoryLog, openLog } from '../support/stores.js';

/**
 * The checked-in log (test/fixtures/logs/current.jsonl, written by
 * make-current-log.ts with the machines and event schema of its day) must keep
 * importing and verifying: chain, decoding and replay of every stream through
 * today's machines. If this fails after a machine or schema change, existing
 * logs stopped replaying: make the change compatible or add an upcaster; do not
 * just regenerate the file.
 */
const LOGS = join(import.meta.dirname, '..', 'fixtures', 'logs');
const FILE = join(LOGS, 'current.jsonl');
/** Logs of earlier versions, kept as they were written: each must keep importing and verifying through the upcasters. */
const OLDER = [{ file: join(LOGS, 'schema-1.jsonl'), schema: 1, version: 'expctl 0.1' }];
const tempDir = useTempDir();

const io = (cwd: string): Io & { stdout: () => string } => {
  const out: string[] = [];
  return { out: (t) => void out.push(t), err: () => {}, isTTY: false, color: false, cwd, env: process.env, stdout: () => out.join('') };
};

const checkedIn = (file = FILE) => parseExport(readFileSync(file, 'utf8').split('\n'), lifecycleCodec.version);

describe.each([{ file: FILE, schema: EVENT_SCHEMA_VERSION, version: 'the current version' }, ...OLDER])('the checked-in log of $version (event schema $schema)', ({ file, schema }) => {
  it('covers the events the schema-bump test needs', () => {
    const { header, rows } = checkedIn(file);
    expect(header).toMatchObject({ format: 'expctl-log', formatVersion: 1, experiment: 'current-log', eventSchema: schema });
    expect(new Set(rows.map((r) => r.schema))).toEqual(new Set([schema]));
    const types = new Set(rows.map((r) => r.type));
    for (const type of ['actor.created', 'effect.started', 'effect.completed', 'effect.failed', 'timer.elapsed', 'run.finished', 'subtest.finished', 'tier.finished', 'operator.interrupted', 'operator.resumed']) {
      expect(types, type).toContain(type);
    }
  });

  it('imports into a fresh SQLite log and verifies: hash chain, every event, replay of every stream, head', async () => {
    const dir = tempDir();
    const { header } = checkedIn(file);
    const out = io(dir);
    await importCommand(file, { resultsDir: join(dir, 'results') }, out);
    expect(out.stdout()).toMatch(new RegExp(`^imported current-log: ${header.rows} rows in \\d+ streams`));
    const store = openLog(logFile(join(dir, 'results')), { readonly: true });
    try {
      const report = verifyLog(store, lifecycleRegistry, 'current-log');
      expect(report.problem).toBeNull();
      expect(report).toMatchObject({ ok: true, rows: header.rows, headHash: header.headHash });
      expect(experimentStatus(store, 'current-log')).toMatchObject({ state: 'exp_complete', runs: { total: 6, completed: 6, failed: 0 } });
    } finally {
      store.close();
    }
  });
});

describe('a deliberate schema bump (V → V + 1: effect.failed gains a required `kind`)', () => {
  const V = EVENT_SCHEMA_VERSION;
  const EffectFailedNext = EffectFailed.extend({ data: EffectFailed.shape.data.extend({ kind: z.enum(['error', 'rate_limit']) }) });
  const LifecycleEventNext = z.discriminatedUnion('type', [
    ...LifecycleEvent.options.filter((o) => o !== EffectFailed),
    EffectFailedNext,
  ] as unknown as [typeof EffectFailedNext]);
  const fillKind: Upcaster = (event) => {
    if (event.type !== 'effect.failed') return event;
    const data = event.data as { rateLimit?: unknown };
    return { ...event, data: { ...data, kind: data.rateLimit ? 'rate_limit' : 'error' } };
  };
  const codec = (step: Upcaster | null): EventCodec => zodCodec(LifecycleEventNext, V + 1, step ? { ...UPCASTERS, [V]: step } : { ...UPCASTERS });

  /** The same log read by an expctl whose current schema is `codec`'s. */
  function readWith(store: EventStore, c: EventCodec): EventStore {
    const again = (row: StoredRow) => decodeRow(row.seq, row.raw, row.prevHash, row.hash, c);
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'readExperiment') return function* (experiment: string, range?: Parameters<EventStore['readExperiment']>[1]) { for (const row of target.readExperiment(experiment, range)) yield again(row); };
        if (prop === 'readStream') return (stream: string, range?: Parameters<EventStore['readStream']>[1]) => target.readStream(stream, range).map(again);
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  const imported = () => {
    const { header, rows } = checkedIn();
    const store = memoryLog();
    store.importRows(header.experiment, rows);
    return { store, key: header.experiment, rows };
  };

  it('the old log still verifies through the upcaster: chain, decoding into the new shape, replay of every stream', () => {
    const { store, key, rows } = imported();
    const bumped = readWith(store, codec(fillKind));
    const report = verifyLog(bumped, lifecycleRegistry, key);
    expect(report.problem).toBeNull();
    expect(report).toMatchObject({ ok: true, rows: rows.length });
    const failed = [...bumped.readExperiment(key)].filter((r) => r.event.type === 'effect.failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const row of failed) {
      expect(row.schema).toBe(V);
      expect(row.event.data).toMatchObject({ kind: 'rate_limit' });
    }
  });

  it('without the upcaster it fails, naming the row', () => {
    const { store, key } = imported();
    const first = store.readExperiment(key).next().value as StoredRow;
    const missing = verifyLog(readWith(store, codec(null)), lifecycleRegistry, key);
    expect(missing).toMatchObject({ ok: false, problem: { kind: 'decode', seq: first.seq, stream: first.stream, version: 1 } });
    expect(missing.problem!.message).toContain(`row seq ${first.seq} (stream ${first.stream}, version 1) cannot be read`);
    expect(missing.problem!.message).toContain(`no upcaster from event schema ${V} to ${V + 1}`);

    const firstFailed = [...store.readExperiment(key)].find((r) => r.event.type === 'effect.failed')!;
    const unfilled = verifyLog(readWith(store, codec((e) => e)), lifecycleRegistry, key);
    expect(unfilled).toMatchObject({ ok: false, problem: { kind: 'decode', seq: firstFailed.seq, stream: firstFailed.stream, version: firstFailed.version } });
    expect(unfilled.problem!.message).toMatch(/effect\.failed event does not match the schema \d+ \(upcast from schema \d+\) \(data\.kind: /);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EffectFailed, EVENT_SCHEMA_VERSION, LifecycleEvent } from '../../schemas/events.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { CorruptRowError } from '../../store/errors.js';
import { decodeRow, GENESIS_HASH, rowHash } from '../../store/rows.js';
import type { RawRow } from '../../store/types.js';
import { lifecycleCodec, UPCASTERS } from '../../runner/codec.js';
import { zodCodec } from '../../runner/codec.js';
import { MissingUpcasterError, upcast, type EventCodec, type Upcaster } from '../../store/codec.js';

/** The schema after a pretend bump (V → V + 1): `effect.failed` gained a required `kind`. */
const V = EVENT_SCHEMA_VERSION;
const EffectFailedV2 = EffectFailed.extend({ data: EffectFailed.shape.data.extend({ kind: z.enum(['error', 'rate_limit']) }) });
const LifecycleEventV2 = z.discriminatedUnion('type', [
  ...LifecycleEvent.options.filter((o) => o !== EffectFailed),
  EffectFailedV2,
] as unknown as [typeof EffectFailedV2]);

const fillKind: Upcaster = (event) => {
  if (event.type !== 'effect.failed') return event;
  const data = event.data as { rateLimit?: unknown };
  return { ...event, data: { ...data, kind: data.rateLimit ? 'rate_limit' : 'error' } };
};

const bumped = (upcasters: EventCodec['upcasters']): EventCodec => zodCodec(LifecycleEventV2, V + 1, upcasters);
/** The pretend step V → V + 1 on top of the real chain. */
const chain = (step: Upcaster): EventCodec['upcasters'] => ({ ...UPCASTERS, [V]: step });

function rawRow(schema: number, event: { type: string; data: unknown }): RawRow {
  return {
    experiment: 'exp', stream: 'exp/T0/a/1', version: 7, type: event.type, schema, data: canonicalJson(event.data),
    state: '"run_agent_failed"', context: '{}', snapshotHash: 'h', machine: 'run@1#abc', at: '2026-01-01T00:00:00.000Z', cause: 'effect',
  };
}

const failedNow = { type: 'effect.failed', data: { effect: 'runAgent', attempt: 1, error: { message: 'boom' }, retryable: true } };

describe('upcast', () => {
  it('applies each step from the given schema to the current one, in order', () => {
    const calls: number[] = [];
    const upcasters: Record<number, Upcaster> = {
      1: (e) => (calls.push(1), { ...e, data: { ...(e.data as object), added: 'by 1' } }),
      2: (e) => (calls.push(2), { type: `${e.type}.v3`, data: { wrapped: e.data } }),
      3: (e) => (calls.push(3), { ...e, data: { ...(e.data as object), third: (e.data as { wrapped?: { added: string } }).wrapped?.added ?? 'none' } }),
    };
    expect(upcast({ type: 'x', data: { n: 1 } }, 1, 4, upcasters)).toEqual({ type: 'x.v3', data: { wrapped: { n: 1, added: 'by 1' }, third: 'by 1' } });
    expect(calls).toEqual([1, 2, 3]);
    calls.length = 0;
    expect(upcast({ type: 'x', data: { n: 1 } }, 3, 4, upcasters)).toEqual({ type: 'x', data: { n: 1, third: 'none' } });
    expect(calls).toEqual([3]);
    calls.length = 0;
    const same = { type: 'x', data: 1 };
    expect(upcast(same, 2, 2, upcasters)).toBe(same);
    expect(calls).toEqual([]);
  });

  it('throws naming the missing step, and refuses to go down', () => {
    const upcasters: Record<number, Upcaster> = { 1: (e) => e, 3: (e) => e };
    let error: unknown;
    try {
      upcast({ type: 'x', data: null }, 1, 4, upcasters);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingUpcasterError);
    expect(error).toMatchObject({ code: 'EXPCTL_UPCAST_MISSING', from: 1, to: 4, missing: 2 });
    expect((error as Error).message).toBe('no upcaster from event schema 2 to 3 (needed to read a schema-1 event as schema 4)');
    expect(() => upcast({ type: 'x', data: null }, 3, 2, upcasters)).toThrow(/cannot upcast an event from schema 3 down to 2/);
    expect(() => upcast({ type: 'x', data: null }, 1, 2, { 1: () => null as never })).toThrow(/upcaster from event schema 1 to 2 returned no event for a x event/);
  });

  it('has one upcaster for every schema before the current one, and none beyond', () => {
    const keys = Object.keys(UPCASTERS).map(Number).sort((a, b) => a - b);
    expect(keys).toEqual(Array.from({ length: EVENT_SCHEMA_VERSION - 1 }, (_, i) => i + 1));
    expect(lifecycleCodec).toMatchObject({ version: EVENT_SCHEMA_VERSION, upcasters: UPCASTERS });
    expect(lifecycleCodec.check(failedNow)).toEqual({ ok: true, event: LifecycleEvent.parse(failedNow) });
  });
});

describe('decodeRow with upcasting', () => {
  it('upcasts a row of an older schema before validating it; the stored texts (and so the hash) stay as written', () => {
    const raw = rawRow(V, failedNow);
    const hash = rowHash(GENESIS_HASH, raw);
    const row = decodeRow(12, raw, GENESIS_HASH, hash, bumped(chain(fillKind)));
    expect(row.event).toEqual({ type: 'effect.failed', data: { ...failedNow.data, kind: 'error' } });
    expect(row).toMatchObject({ seq: 12, schema: V, version: 7, hash, prevHash: GENESIS_HASH, state: 'run_agent_failed' });
    expect(row.raw).toBe(raw);
    expect(rowHash(GENESIS_HASH, row.raw)).toBe(hash);
    // other event types pass through the same step unchanged
    const started = decodeRow(1, rawRow(V, { type: 'effect.started', data: { effect: 'runAgent', attempt: 1, key: 'k' } }), GENESIS_HASH, hash, bumped(chain(fillKind)));
    expect(started.event).toEqual({ type: 'effect.started', data: { effect: 'runAgent', attempt: 1, key: 'k' } });
  });

  it('refuses an old row when a step is missing, or when the upcast event still breaks the schema, naming the row', () => {
    const raw = rawRow(V, failedNow);
    expect(() => decodeRow(12, raw, GENESIS_HASH, 'h', bumped(UPCASTERS))).toThrow(CorruptRowError);
    expect(() => decodeRow(12, raw, GENESIS_HASH, 'h', bumped(UPCASTERS))).toThrow(
      `row seq 12 (stream exp/T0/a/1, version 7) cannot be read: its effect.failed event of schema ${V} cannot be upcast to schema ${V + 1}: no upcaster from event schema ${V} to ${V + 1} (needed to read a schema-${V} event as schema ${V + 1})`,
    );
    expect(() => decodeRow(12, raw, GENESIS_HASH, 'h', bumped(chain((e) => e)))).toThrow(
      new RegExp(`^row seq 12 \\(stream exp/T0/a/1, version 7\\) cannot be read: its effect\\.failed event does not match the schema ${V + 1} \\(upcast from schema ${V}\\) \\(data\\.kind: `),
    );
    expect(() => decodeRow(12, raw, GENESIS_HASH, 'h', bumped(chain(() => { throw new Error('bad old data'); })))).toThrow(`cannot be upcast to schema ${V + 1}: bad old data`);
  });

  it('does not upcast a row of the current schema, and still refuses a row of a newer one', () => {
    const throwing = bumped(chain(() => { throw new Error('must not run'); }));
    const current = decodeRow(3, rawRow(V + 1, { ...failedNow, data: { ...failedNow.data, kind: 'rate_limit' } }), GENESIS_HASH, 'h', throwing);
    expect(current.event.data).toMatchObject({ kind: 'rate_limit' });
    expect(() => decodeRow(3, rawRow(V + 2, failedNow), GENESIS_HASH, 'h', bumped(chain(fillKind)))).toThrow(
      `row seq 3 (stream exp/T0/a/1, version 7) cannot be read: it was written with event schema ${V + 2}, newer than this expctl's ${V + 1}; upgrade expctl`,
    );
    // the default codec is today's: a row of the next schema is from the future
    expect(() => decodeRow(3, rawRow(V + 1, failedNow), GENESIS_HASH, 'h', lifecycleCodec)).toThrow(`newer than this expctl's ${V}; upgrade expctl`);
    expect(decodeRow(3, rawRow(V, failedNow), GENESIS_HASH, 'h', lifecycleCodec).event).toEqual(failedNow);
  });
});

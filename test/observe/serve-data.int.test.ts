/**
 * What the live web UI reads (observe/serve/): an experiment's summary, its
 * runs a page at a time, its history by seq ranges, and the heads watcher
 * seeing rows another connection appends (as a driver in another process).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSynthetic } from '../../bench/synthetic.js';
import { experimentStatus } from '../../observe/status.js';
import { ServeData } from '../../observe/serve/data.js';
import { HeadWatcher, type Head } from '../../observe/serve/live.js';
import { until } from '../support/cli.js';
import { openLog } from '../support/stores.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-serve-data-');

function logs() {
  const file = join(tempDir(), 'expctl.db');
  const writer = openLog(file);
  writeSynthetic(writer, { key: 'big', tiers: 2, subtests: 3, runs: 4, running: 2 });
  return { writer, reader: openLog(file, { readonly: true }) };
}

describe('the web UI’s reads', () => {
  it('summarises an experiment without its runs, and gives its runs a filtered page at a time', () => {
    const { writer, reader } = logs();
    try {
      const data = new ServeData(reader);
      const status = experimentStatus(reader, 'big');
      const summary = data.summary('big');
      expect(summary.results).toEqual(status.results);
      expect(summary.tiers.map((t) => t.subtests.map((s) => Object.keys(s).sort()))).toEqual(status.tiers.map((t) => t.subtests.map(() => ['id', 'results', 'state'])));
      expect(summary.headHash).toBe(reader.head('big')!.headHash);
      expect(Object.values(summary.counts.run!).reduce((a, b) => a + b, 0)).toBe(24);
      expect(summary.counts.run!.run_agent_complete ?? 0).toBe(0);

      const all = status.tiers.flatMap((t) => t.subtests.flatMap((s) => s.runs.map((r) => ({ tier: t.id, subtest: s.id, ...r }))));
      expect(data.runs('big', { offset: 5, limit: 3 })).toEqual({ total: 24, offset: 5, rows: all.slice(5, 8) });
      const unfinished = data.runs('big', { outcome: 'none' });
      expect(unfinished.rows.map((r) => `${r.tier}/${r.subtest}/${r.run}`)).toEqual(all.filter((r) => r.outcome === null).map((r) => `${r.tier}/${r.subtest}/${r.run}`));
      expect(unfinished.total).toBe(2);
      expect(data.runs('big', { tier: 'T1', subtest: 's2', state: 'PROMPT' }).rows.map((r) => r.run)).toEqual(all.filter((r) => r.tier === 'T1' && r.subtest === 's2' && r.state.includes('prompt')).map((r) => r.run));
      expect(data.runs('big', { limit: 10_000 }).rows).toHaveLength(24);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('pages back through the history by seq, filtered, never more than asked', () => {
    const { writer, reader } = logs();
    try {
      const data = new ServeData(reader);
      const seqs = [...reader.readRows('big', {})].map((r) => r.seq);
      const last = data.history('big', { limit: 10 });
      expect(last.rows.map((r) => r.seq)).toEqual(seqs.slice(-10));
      expect(last).toMatchObject({ more: true, firstSeq: seqs[0], lastSeq: seqs.at(-1) });
      const before = data.history('big', { limit: 10, before: last.rows[0]!.seq });
      expect(before.rows.map((r) => r.seq)).toEqual(seqs.slice(-20, -10));
      expect(data.history('big', { limit: 10, before: seqs[3] })).toMatchObject({ more: false });
      const run = data.history('big', { stream: 'T0/s1/2', type: 'actor.' });
      expect(run.rows.map((r) => [r.stream, r.type])).toEqual([['big/T0/s1/2', 'actor.created']]);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('tells its listeners when another connection appends, and stops looking when the last one goes', async () => {
    const { writer, reader } = logs();
    const watcher = new HeadWatcher(reader, 20);
    try {
      const seen: Head[][] = [];
      const unsubscribe = watcher.subscribe((heads) => seen.push(heads));
      expect(watcher.current()).toEqual([{ experiment: 'big', lastSeq: reader.head('big')!.headSeq, rows: reader.head('big')!.rows, driver: null }]);
      writeSynthetic(writer, { key: 'other', tiers: 1, subtests: 1, runs: 1 });
      const heads = await until(() => seen.find((h) => h.length === 2), 5000, 'the new experiment');
      expect(heads.map((h) => h.experiment)).toEqual(['big', 'other']);
      expect(heads[1]!.lastSeq).toBe(writer.head('other')!.headSeq);
      unsubscribe();
      const count = seen.length;
      writeSynthetic(writer, { key: 'third', tiers: 1, subtests: 1, runs: 1 });
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.length).toBe(count);
    } finally {
      watcher.stop();
      reader.close();
      writer.close();
    }
  });
});

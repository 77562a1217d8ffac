/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { treeHtml } from '../../viewer/render.js';
import { api, useJson, type HistoryRow, type StatusJson } from './api.js';
import { Chart, loadMachines, type Machines } from './chart.js';
import { Tabs } from './experiment.js';
import { Problem } from './problem.js';

type HistoryPageData = { rows: HistoryRow[]; more: boolean; firstSeq: number; lastSeq: number };
type At = StatusJson & { counts: Record<string, Record<string, number>> };

const PAGE = 100;

/**
 * The audit trail a page of rows at a time (filters by stream and type), and
 * a timeline scrubber over the experiment's rows: the tree and the machines as
 * of any row, what `history --at SEQ` prints. At the last row it follows the
 * log as rows are appended.
 */
export function HistoryPage({ id, seq, version }: { id: string; seq: number | null; version: unknown }) {
  const [filter, setFilter] = useState({ stream: '', type: '' });
  const [before, setBefore] = useState<number[]>([]);
  const { data, error } = useJson<HistoryPageData>(api.history(id, { ...filter, limit: PAGE, before: before.at(-1) }), before.length ? 0 : version);
  const [at, setAt] = useState<number | null>(seq);
  useEffect(() => setAt(seq), [id]);
  // while the scrubber is dragged, the tree is asked for once it rests (as of a row of 10^4 runs takes a second to compute)
  const settled = useSettled(at === null || !data ? data?.lastSeq ?? 0 : Math.min(at, data.lastSeq), 150);
  if (error) return <Problem error={error} />;
  if (!data || settled === 0) return <p class="page">loading…</p>;
  const following = at === null || at >= data.lastSeq;
  const shownAt = at === null ? data.lastSeq : Math.min(at, data.lastSeq);
  const pick = (s: number) => {
    setAt(s >= data.lastSeq ? null : s);
    history.replaceState(null, '', `/e/${encodeURIComponent(id)}/history${s >= data.lastSeq ? '' : `?seq=${s}`}`);
  };
  return (
    <div class="page" id="history">
      <h1>{id}: history</h1>
      <Tabs id={id} on="history" />
      <div class="scrubber">
        <button onClick={() => pick(data.firstSeq)} title="first row">|◀</button>
        <button onClick={() => pick(Math.max(data.firstSeq, shownAt - 1))} title="one row back">◀</button>
        <input type="range" id="scrubber" min={data.firstSeq} max={data.lastSeq} step={1} value={shownAt} aria-label="row of the log" onInput={(e) => pick(Number(e.currentTarget.value))} />
        <button onClick={() => pick(Math.min(data.lastSeq, shownAt + 1))} title="one row on">▶</button>
        <button onClick={() => pick(data.lastSeq)} title="the last row, following the log">▶| live</button>
        <span>as of seq <b id="at-seq">{shownAt}</b> of {data.lastSeq}{following ? ' (following the log)' : ''}</span>
      </div>
      <AsOf id={id} seq={settled}>
        <Rows id={id} data={data} filter={filter} setFilter={(f) => { setFilter(f); setBefore([]); }} before={before} setBefore={setBefore} at={shownAt} pick={pick} />
      </AsOf>
    </div>
  );
}

function Rows(p: { id: string; data: HistoryPageData; filter: { stream: string; type: string }; setFilter: (f: { stream: string; type: string }) => void; before: number[]; setBefore: (b: number[]) => void; at: number; pick: (seq: number) => void }) {
  const { data, filter } = p;
  const short = (stream: string) => (stream === p.id || !stream.startsWith(`${p.id}`) ? stream : stream.slice(stream.indexOf('/') + 1));
  return (
    <section class="panel" id="rows">
      <h2>Rows</h2>
      <div class="filters">
        <input type="search" name="stream" placeholder="stream, e.g. T0/a" value={filter.stream} onChange={(e) => p.setFilter({ ...filter, stream: e.currentTarget.value })} />
        <input type="search" name="type" placeholder="type, e.g. effect.*" value={filter.type} onChange={(e) => p.setFilter({ ...filter, type: e.currentTarget.value })} />
      </div>
      <div class="pager">
        <button disabled={!data.more} onClick={() => p.setBefore([...p.before, data.rows[0]!.seq])}>◀ older</button>
        <button disabled={p.before.length === 0} onClick={() => p.setBefore(p.before.slice(0, -1))}>newer ▶</button>
        <button disabled={p.before.length === 0} onClick={() => p.setBefore([])}>newest</button>
        <span class="muted">{data.rows.length ? `seq ${data.rows[0]!.seq} … ${data.rows.at(-1)!.seq}` : 'no rows match'}</span>
      </div>
      <div class="scroll rows-box">
        <table class="grid">
          <thead><tr><th class="num">seq</th><th>time</th><th>stream</th><th>type</th><th>state</th></tr></thead>
          <tbody>
            {data.rows.map((r) => (
              <tr key={r.seq} data-seq={r.seq} class={`click${r.seq === p.at ? ' o-not_passed' : ''}`} onClick={() => p.pick(r.seq)}>
                <td class="num">{r.seq}</td><td>{r.at.slice(11, 23)}</td><td>{short(r.stream)}</td><td>{r.type}</td><td>{String(r.state)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The tree and the machines as of row `seq`, around the rows (`children`). */
function AsOf({ id, seq, children }: { id: string; seq: number; children: preact.ComponentChildren }) {
  const [m, setM] = useState<Machines | null>(null);
  useEffect(() => void loadMachines().then(setM), []);
  const { data, error } = useJson<At>(api.at(id, seq), seq);
  const tree = error ? <Problem error={error} /> : !data || !m ? <section class="panel">loading…</section> : (
    <section class="panel" id="as-of" data-seq={String(seq)}>
      <h2>Tree as of seq {seq}: {data.state}</h2>
      <div id="tree" dangerouslySetInnerHTML={{ __html: treeHtml(data, m.kinds, '', null) }} />
    </section>
  );
  return (
    <>
      <div class="cols">{tree}{children}</div>
      {data && m ? (
        <div class="charts-row" id="charts-at">
          {m.graphs.map((g) => <Chart key={g.machine} graph={g} refText={m.refs[g.machine]} counts={data.counts[g.machine] ?? {}} current={g.machine === 'experiment' ? data.state : null} caption={`${g.machine} (×N: actors in that state as of seq ${seq})`} />)}
        </div>
      ) : null}
    </>
  );
}

/** `value`, once it has not changed for `ms`. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

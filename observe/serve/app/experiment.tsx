/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, getJson, useJson, type ExperimentSummary, type RunRow } from './api.js';
import { Chart, loadMachines, type Machines } from './chart.js';
import { bare, duration, interval, outcomeText, pct, score2, usd } from './format.js';
import { driverText } from './list.js';
import { Problem } from './problem.js';
import { navigate } from './router.js';

const PAGE = 50;

/** An experiment: where it stands, its results table (tiers → subtests), its machines, and its runs a page at a time. */
export function ExperimentPage({ id, version }: { id: string; version: unknown }) {
  const { data, error } = useJson<ExperimentSummary>(api.experiment(id), version);
  if (error) return <Problem error={error} />;
  // the runs are asked for alongside the summary, not after it
  return (
    <div class="page" id="experiment">
      <h1>{data?.experiment ?? id}</h1>
      {data ? <Header s={data} /> : <p>loading…</p>}
      <Tabs id={id} on="runs" />
      <h2>Results</h2>
      {data ? <ResultsTable s={data} /> : null}
      <h2>Runs</h2>
      <RunsTable id={id} tiers={data?.tiers ?? []} version={version} />
      <h2>Machines</h2>
      {data ? <Machines s={data} /> : null}
    </div>
  );
}

export function Tabs({ id, on }: { id: string; on: 'runs' | 'history' }) {
  const base = `/e/${encodeURIComponent(id)}`;
  return <div class="tabs"><a href={base} class={on === 'runs' ? 'on' : ''}>results and runs</a><a href={`${base}/history`} class={on === 'history' ? 'on' : ''}>history and timeline</a></div>;
}

function Header({ s }: { s: ExperimentSummary }) {
  const r = s.runs;
  return (
    <>
      <div class="meta">
        <span>state <span class="pill" id="exp-state">{s.state}</span></span>
        <span id="run-counts">runs {r.completed + r.failed}/{r.total} done, {r.running} running{r.stopped ? `, ${r.stopped} stopped` : ''}, {r.pending} pending</span>
        <span id="outcomes">{s.results.passed} passed, {s.results.notPassed} not passed, {s.results.errored} errored</span>
        <span id="pass-rate">pass rate {pct(s.results.passRate)} {interval(s.results.passRateInterval)}</span>
        <span>cost {usd(s.results.costUsd)}</span>
        <span id="driver">driver: {driverText(s.driver)}</span>
        {s.paused ? <span>paused: {s.paused.reason}</span> : null}
      </div>
      <Verify s={s} />
    </>
  );
}

type VerifyAnswer = { ok: boolean; rows: number; streams: number; headHash: string | null; problem: { message: string; seq: number } | null };

/** The head hash now, and `verify` (hash chain and replay of every stream) on request: it reads every row. */
function Verify({ s }: { s: ExperimentSummary }) {
  const [answer, setAnswer] = useState<VerifyAnswer | { error: string } | 'running' | null>(null);
  useEffect(() => setAnswer(null), [s.lastSeq]);
  const run = () => {
    setAnswer('running');
    getJson<VerifyAnswer>(api.verify(s.experiment)).then(setAnswer, (e: Error) => setAnswer({ error: e.message }));
  };
  return (
    <div class="meta" id="verify">
      <span>{s.rows} rows, seq {s.firstSeq} … {s.lastSeq}</span>
      <span>head hash <code class="hash" id="head-hash">{s.headHash}</code></span>
      <button onClick={run} disabled={answer === 'running'}>verify</button>
      <span id="verify-result">{answer === null ? 'not verified yet (hash chain + replay of every stream)' : answer === 'running' ? 'verifying…'
        : 'error' in answer ? answer.error
        : answer.ok ? `ok: ${answer.rows} rows in ${answer.streams} streams verify; head ${answer.headHash}` : `does not verify: ${answer.problem?.message} (seq ${answer.problem?.seq})`}</span>
    </div>
  );
}

function ResultsTable({ s }: { s: ExperimentSummary }) {
  const cells = (name: string, state: string, g: ExperimentSummary['results'], best?: string) => (
    <>
      <td data-label="tier / subtest">{best === undefined ? name : <b>{name}</b>}{best ?? ''}</td><td class="opt" data-label="state">{bare(state)}</td><td class="num opt" data-label="runs">{g.runs}</td><td class="num" data-label="passed">{g.passed}</td><td class="num opt" data-label="not passed">{g.notPassed}</td><td class="num opt" data-label="errored">{g.errored}</td>
      <td class="num" data-label="pass rate">{pct(g.passRate)}</td><td data-label="95% interval">{interval(g.passRateInterval)}</td><td class="num opt" data-label="median score">{score2(g.score?.median)}</td><td class="opt" data-label="interval">{interval(g.score?.medianInterval ?? null, score2)}</td><td class="num opt" data-label="cost">{usd(g.costUsd)}</td>
    </>
  );
  return (
    <div class="scroll">
      <table class="grid" id="results">
        <thead><tr><th>tier / subtest</th><th class="opt">state</th><th class="num opt">runs</th><th class="num">passed</th><th class="num opt">not passed</th><th class="num opt">errored</th><th class="num">pass rate</th><th>95% interval</th><th class="num opt">median score</th><th class="opt">interval</th><th class="num opt">cost</th></tr></thead>
        <tbody>
          {s.tiers.map((t) => [
            <tr key={t.id} data-tier={t.id}><>{cells(t.id, t.state, t.results, t.best ? ` ★ ${t.best}` : '')}</></tr>,
            ...t.subtests.map((st) => <tr key={`${t.id}/${st.id}`} data-subtest={`${t.id}/${st.id}`}>{cells(`\u00a0\u00a0${st.id}`, st.state, st.results)}</tr>),
          ])}
        </tbody>
      </table>
    </div>
  );
}

function RunsTable({ id, tiers, version }: { id: string; tiers: ExperimentSummary['tiers']; version: unknown }) {
  const [f, setF] = useState({ tier: '', subtest: '', outcome: '', state: '', offset: 0 });
  const set = (change: Partial<typeof f>) => setF({ ...f, offset: 0, ...change });
  const { data, error } = useJson<{ total: number; offset: number; rows: RunRow[] }>(api.runs(id, { ...f, limit: PAGE }), version);
  const subtests = [...new Set(tiers.filter((t) => !f.tier || t.id === f.tier).flatMap((t) => t.subtests.map((st) => st.id)))];
  const link = (r: RunRow) => `/e/${encodeURIComponent(id)}/r/${encodeURIComponent(r.tier)}/${encodeURIComponent(r.subtest)}/${r.run}`;
  return (
    <div id="runs">
      <div class="filters">
        <label>tier <select value={f.tier} onChange={(e) => set({ tier: e.currentTarget.value, subtest: '' })}><option value="">all</option>{tiers.map((t) => <option key={t.id}>{t.id}</option>)}</select></label>
        <label>subtest <select value={f.subtest} onChange={(e) => set({ subtest: e.currentTarget.value })}><option value="">all</option>{subtests.map((x) => <option key={x}>{x}</option>)}</select></label>
        <label>outcome <select name="outcome" value={f.outcome} onChange={(e) => set({ outcome: e.currentTarget.value })}><option value="">all</option><option value="passed">passed</option><option value="not_passed">not passed</option><option value="errored">errored</option><option value="none">no outcome yet</option></select></label>
        <label>state <input type="search" value={f.state} placeholder="e.g. agent" onInput={(e) => set({ state: e.currentTarget.value })} /></label>
      </div>
      {error ? <Problem error={error} /> : !data ? <p>loading…</p> : (
        <>
          <div class="scroll">
            <table class="grid">
              <thead><tr><th>run</th><th class="opt">state</th><th>outcome</th><th class="num">score</th><th class="num opt">attempt</th><th class="num opt">cost</th><th class="num opt">tokens</th><th class="num opt">duration</th><th class="opt">error</th></tr></thead>
              <tbody>
                {data.rows.map((r) => (
                  <tr key={`${r.tier}/${r.subtest}/${r.run}`} class={`click${r.outcome ? ` o-${r.outcome}` : ''}`} data-run={`${r.tier}/${r.subtest}/${r.run}`} data-outcome={r.outcome ?? ''} onClick={() => navigate(link(r))}>
                    <td data-label="run"><a href={link(r)}>{r.tier}/{r.subtest}/{r.run}</a></td><td class="opt" data-label="state">{bare(r.state)}</td><td data-label="outcome">{outcomeText(r.outcome)}</td><td class="num" data-label="score">{score2(r.score)}</td>
                    <td class="num opt" data-label="attempt">{r.attempt}</td><td class="num opt" data-label="cost">{usd(r.costUsd)}</td><td class="num opt" data-label="tokens">{r.tokens ?? '–'}</td><td class="num opt" data-label="duration">{duration(r.durationMs)}</td><td class="opt" data-label="error">{r.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="pager">
            <button disabled={f.offset === 0} onClick={() => setF({ ...f, offset: Math.max(0, f.offset - PAGE) })}>◀ previous</button>
            <span id="runs-shown">{data.total === 0 ? 'no runs match' : `runs ${data.offset + 1}–${data.offset + data.rows.length} of ${data.total}`}</span>
            <button disabled={f.offset + PAGE >= data.total} onClick={() => setF({ ...f, offset: f.offset + PAGE })}>next ▶</button>
          </div>
        </>
      )}
    </div>
  );
}

function Machines({ s }: { s: ExperimentSummary }) {
  const [m, setM] = useState<Machines | null>(null);
  const [more, setMore] = useState(false);
  useEffect(() => void loadMachines().then(setM), []);
  if (!m) return <p>loading…</p>;
  const chart = (machine: string) => {
    const graph = m.graphs.find((g) => g.machine === machine);
    return graph ? <Chart key={machine} graph={graph} refText={m.refs[machine]} counts={s.counts[machine] ?? {}} current={machine === 'experiment' ? s.state : null} /> : null;
  };
  return (
    <>
      <div class="charts-row" id="machines">{chart('experiment')}{chart('tier')}</div>
      <details onToggle={(e) => setMore(e.currentTarget.open)}><summary>subtest and run machines (×N: actors in that state)</summary>{more ? <div class="charts-row">{chart('subtest')}{chart('run')}</div> : null}</details>
    </>
  );
}

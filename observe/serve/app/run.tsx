/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, useJson, type LogText, type RunPage as RunData } from './api.js';
import { Chart, loadMachines, type Machines } from './chart.js';
import { bare, duration, outcomeText, score2, tokens, usd } from './format.js';
import { Problem } from './problem.js';

/** One run: its steps, what its agent and judges printed (with search), its diff, the verdicts, and its path through the run machine. */
export function RunPage({ id, path, version }: { id: string; path: string; version: unknown }) {
  const { data, error } = useJson<RunData>(api.run(id, path), version);
  if (error) return <Problem error={error} />;
  if (!data) return <p class="page">loading…</p>;
  const d = data;
  return (
    <div class="page" id="run">
      <h1>run {d.tier}/{d.subtest}/{d.run} <small class="muted">of <a href={`/e/${encodeURIComponent(id)}`}>{d.experiment}</a></small></h1>
      <div class="meta">
        <span class={`pill${d.outcome ? ` o-${d.outcome}` : ''}`} id="run-outcome">{outcomeText(d.outcome)}</span>
        <span>score {score2(d.score)}</span><span>state {d.state}</span><span>attempt {d.attempt}</span>
        <span>{usd(d.costUsd)}</span><span>{tokens(d.tokens)} tokens</span><span>{duration(d.durationMs)}</span>
      </div>
      {d.error ? <p class="error" id="run-error">error: {d.error}</p> : null}
      {d.stderr.map((e) => <pre class="out" key={e.file}>{e.lines.join('\n')}</pre>)}
      <div class="cols">
        <div>
          <h2>Steps</h2>
          <Steps d={d} />
          <h2>Verdicts</h2>
          <Verdicts d={d} />
        </div>
        <RunChart d={d} />
      </div>
      <h2>Diff {d.diff ? <small class="muted">{d.diff.filesChanged} file(s), +{d.diff.insertions} −{d.diff.deletions}</small> : null}</h2>
      <Diff text={d.diffText} />
      <h2>Output</h2>
      <Outputs id={id} path={path} outputs={d.outputs} version={version} />
    </div>
  );
}

function Steps({ d }: { d: RunData }) {
  return (
    <div class="scroll">
      <table class="grid" id="steps">
        <thead><tr><th>step</th><th class="num">attempt</th><th>result</th><th class="num">duration</th><th class="opt">started</th><th>error</th></tr></thead>
        <tbody>
          {d.steps.map((s, i) => (
            <tr key={i} class={s.result === 'failed' ? 'o-errored' : ''}><td>{s.effect}</td><td class="num">{s.attempt}</td><td>{s.result}{s.adopted ? ` (collected: ${s.adopted})` : ''}</td><td class="num">{duration(s.durationMs)}</td><td class="opt">{s.startedAt.slice(11, 23)}</td><td>{s.error ?? ''}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Verdicts({ d }: { d: RunData }) {
  if (d.verdicts.length === 0) return <p class="muted">no verdict yet</p>;
  return (
    <div id="verdicts">
      {d.verdicts.map((v, i) => (
        <div key={v.judge} class={`verdict ${v.passed ? 'pass' : 'fail'}`} data-judge={v.judge}>
          <b>judge {v.judge}</b>: <span class="v-passed">{v.passed ? 'passed' : 'not passed'}</span>, score <span class="v-score">{score2(v.score)}</span>{v.grade ? `, grade ${v.grade}` : ''}
          {v.reasoning ? <p class="v-reasoning">{v.reasoning}</p> : null}
          {d.criteria[i] ? <table class="grid v-criteria"><tbody>{Object.entries(d.criteria[i]!).map(([k, x]) => <tr key={k}><td>{k}</td><td>{typeof x === 'string' ? x : JSON.stringify(x)}</td></tr>)}</tbody></table> : null}
        </div>
      ))}
    </div>
  );
}

function RunChart({ d }: { d: RunData }) {
  const [m, setM] = useState<Machines | null>(null);
  useEffect(() => void loadMachines().then(setM), []);
  const graph = m?.graphs.find((g) => g.machine === 'run');
  const states = d.path.map((p) => p.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);
  return (
    <div id="run-chart">
      <h2>Path through the run machine</h2>
      <p class="muted">{states.map(bare).join(' → ')}</p>
      {graph ? <Chart graph={graph} refText={m!.refs.run} current={d.state} path={states} caption="run (gold: transitions this run took)" /> : null}
    </div>
  );
}

/** A unified diff, lines coloured: additions, deletions, hunks, file headers. */
function Diff({ text }: { text: LogText | null }) {
  if (!text) return <p class="muted" id="diff">no diff recorded (the step did not run yet)</p>;
  if (text.text.trim() === '') return <p class="muted" id="diff">the agent changed nothing</p>;
  const kind = (l: string) => (l.startsWith('+++') || l.startsWith('---') || l.startsWith('diff ') ? 'file' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : '');
  return (
    <>
      {text.truncated ? <p class="muted">the last {Math.round(text.text.length / 1024)} KiB of {Math.round(text.bytes / 1024)} KiB</p> : null}
      <pre class="out diff" id="diff">{text.text.split('\n').map((l, i) => { const k = kind(l); return k ? <span key={i} class={k}>{l}{'\n'}</span> : `${l}\n`; })}</pre>
    </>
  );
}

function Outputs({ id, path, outputs, version }: { id: string; path: string; outputs: string[]; version: unknown }) {
  const [who, setWho] = useState('agent');
  const [stream, setStream] = useState<'stdout' | 'stderr'>('stdout');
  const [query, setQuery] = useState('');
  const { data, error } = useJson<LogText & { text: string | null }>(api.output(id, path, who, stream), version);
  return (
    <div id="output">
      <div class="filters">
        <select value={who} onChange={(e) => setWho(e.currentTarget.value)}>{outputs.map((o) => <option key={o} value={o}>{o.replace('-', ' ')}</option>)}</select>
        <select value={stream} onChange={(e) => setStream(e.currentTarget.value as 'stdout' | 'stderr')}><option>stdout</option><option>stderr</option></select>
        <input type="search" id="output-search" placeholder="search (only matching lines)" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </div>
      {error ? <Problem error={error} /> : !data ? <p>loading…</p> : data.text === null ? <p class="muted">not written: the step did not run</p> : <Text text={data.text} query={query} truncated={data.truncated} />}
    </div>
  );
}

/** The text, or only its lines holding `query` (case-insensitive), with each match marked. */
function Text({ text, query, truncated }: { text: string; query: string; truncated: boolean }) {
  const q = query.trim().toLowerCase();
  const lines = text.replace(/\n$/, '').split('\n');
  const shown = q ? lines.filter((l) => l.toLowerCase().includes(q)) : lines;
  const mark = (line: string) => {
    if (!q) return line;
    const out: (string | preact.JSX.Element)[] = [];
    let at = 0;
    for (let i = line.toLowerCase().indexOf(q); i >= 0; i = line.toLowerCase().indexOf(q, at)) {
      out.push(line.slice(at, i), <mark>{line.slice(i, i + q.length)}</mark>);
      at = i + q.length;
    }
    out.push(line.slice(at));
    return out;
  };
  return (
    <>
      <p class="muted" id="output-count">{q ? `${shown.length} of ${lines.length} line${lines.length === 1 ? '' : 's'} match${shown.length === 1 ? 'es' : ''}` : `${lines.length} line${lines.length === 1 ? '' : 's'}`}{truncated ? ' (the end of a longer output)' : ''}</p>
      <pre class="out" id="output-text">{shown.map((l, i) => <>{mark(l)}{i < shown.length - 1 ? '\n' : ''}</>)}</pre>
    </>
  );
}

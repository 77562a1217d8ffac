/// <reference lib="dom" />
import { api, useJson, type ExperimentLine } from './api.js';
import { interval, pct, usd } from './format.js';
import { Problem } from './problem.js';

/** The experiments of the results folder: state, outcome counts, pass rate, cost, driver. */
export function ListPage({ version }: { version: unknown }) {
  const { data, error } = useJson<ExperimentLine[]>(api.experiments(), version);
  if (error) return <Problem error={error} />;
  if (!data) return <p class="page">loading…</p>;
  return (
    <div class="page" id="experiments">
      <h1>Experiments</h1>
      {data.length === 0 ? <p>No experiments yet: start one with <code>expctl run &lt;config&gt;</code>; it appears here as it starts.</p> : (
        <div class="scroll">
          <table class="grid">
            <thead><tr><th>experiment</th><th>state</th><th class="num">runs done</th><th class="num">passed</th><th class="num opt">not passed</th><th class="num opt">errored</th><th class="num">pass rate</th><th class="opt">95% interval</th><th class="num opt">cost</th><th>driver</th></tr></thead>
            <tbody>
              {data.map((e) => (
                <tr key={e.experiment} data-experiment={e.experiment}>
                  <td data-label="experiment"><a href={`/e/${encodeURIComponent(e.experiment)}`}>{e.experiment}</a></td>
                  <td data-col="state" data-label="state">{e.state.replace(/^exp_/, '')}{e.paused ? <span class="muted"> (paused)</span> : null}</td>
                  <td class="num" data-col="done" data-label="runs done">{e.runs.completed + e.runs.failed}/{e.runs.total}</td>
                  <td class="num" data-col="passed" data-label="passed">{e.results.passed}</td>
                  <td class="num opt" data-col="notPassed" data-label="not passed">{e.results.notPassed}</td>
                  <td class="num opt" data-col="errored" data-label="errored">{e.results.errored}</td>
                  <td class="num" data-col="passRate" data-label="pass rate">{pct(e.results.passRate)}</td>
                  <td class="opt" data-col="interval" data-label="95% interval">{interval(e.results.passRateInterval)}</td>
                  <td class="num opt" data-col="cost" data-label="cost">{usd(e.results.costUsd)}</td>
                  <td data-col="driver" data-label="driver">{driverText(e.driver)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function driverText(d: ExperimentLine['driver']): string {
  if (!d) return 'none';
  if (d.alive === false) return `died (pid ${d.pid})`;
  return d.alive ? `alive (pid ${d.pid})` : `on ${d.host} (pid ${d.pid})`;
}

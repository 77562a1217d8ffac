import { coverage, type CoverageReport, type MachineCoverage } from '../engine/coverage.js';
import { ANY_STATE, type GraphTransition } from '../engine/graph.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { UsageError } from '../util/errors.js';
import { paint, type Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface CoverageOptions {
  resultsDir: string;
  json?: boolean;
}

/**
 * `expctl coverage <id>...`: for each machine, which transitions of its
 * definition the recorded histories of these experiments took (engine/coverage.ts).
 * `--json` prints the documented CoverageReport.
 */
export async function coverageCommand(ids: string[], options: CoverageOptions, io: Io): Promise<void> {
  if (ids.length === 0) throw new UsageError('coverage needs at least one experiment id', 'e.g. `expctl coverage demo-001`; see `expctl status` for the ids');
  const store = openLogForReading(options.resultsDir);
  try {
    const keys = [...new Set(ids.map((id) => experimentKey(store, id)))];
    const report = coverage(store, lifecycleRegistry, keys);
    if (options.json) return io.out(`${JSON.stringify(report, null, 2)}\n`);
    printReport(io, report);
  } finally {
    store.close();
  }
}

/** A transition as the table prints it: `source --event [guard]--> target`. */
export function transitionLine(t: GraphTransition): string {
  return `${t.source} --${t.label}--> ${t.target ?? '(stays: internal)'}`;
}

export function printReport(io: Io, report: CoverageReport): void {
  io.out(`transition coverage of ${report.experiments.join(', ')} (${report.rows} rows)\n\n`);
  const header = ['machine', 'actors', 'taken', 'total', 'coverage'];
  const rows = report.machines.map((m) => [m.machine, String(m.actors), String(m.covered), String(m.total), `${m.percent.toFixed(1)}%`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  io.out(`${paint(io, 1, line(header))}\n`);
  for (const r of rows) io.out(`${line(r)}\n`);
  for (const m of report.machines) printMachine(io, m);
  io.out(`\n${ANY_STATE} = defined at the machine root, taken from any state; always = eventless, taken inside the step of the event before it\n`);
}

function printMachine(io: Io, m: MachineCoverage): void {
  io.out(`\n${paint(io, 1, m.machine)}: ${m.covered} of ${m.total} transitions taken (${m.percent.toFixed(1)}%)${m.unattributed ? `, ${m.unattributed} microsteps unattributed` : ''}\n`);
  const width = Math.max(1, ...m.taken.map((t) => String(t.count).length));
  if (m.taken.length > 0) io.out('  taken (times):\n');
  for (const t of m.taken) io.out(`    ${String(t.count).padStart(width)}  ${transitionLine(t)}\n`);
  if (m.notTaken.length > 0) io.out('  not taken:\n');
  for (const t of m.notTaken) io.out(`    ${' '.repeat(width)}  ${transitionLine(t)}\n`);
}

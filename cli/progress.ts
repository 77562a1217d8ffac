import { sameState, type CommittedRow, type ReplayedActor } from '../engine/index.js';
import { RUN_STEPS } from '../machines/run.machine.js';
import { RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED } from '../machines/run-states.js';
import { liveOutcomes } from '../observe/status.js';
import type { RunEntry, StatusTree } from '../observe/status-tree.js';
import type { EventStore } from '../store/types.js';
import { duration, groupLine, outcomeText, score2, truncate, usd } from './format.js';
import { paint, type Io } from './io.js';

export interface Progress {
  update(rows: readonly CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>): void;
  done(): void;
}

/**
 * Progress while an experiment runs. On a terminal: the experiment's results
 * and counts, a line per tier, the runs at work, redrawn in place (at most
 * every 100 ms; lines cut to the terminal's width, so a redraw never leaves
 * copies behind). Otherwise: a plain line for each experiment, tier and
 * subtest state change and each run that ends, with its outcome.
 */
export function createProgress(io: Io, options: { quiet: boolean; store: EventStore; now?: () => number }): Progress {
  if (options.quiet) return { update: () => {}, done: () => {} };
  const state = { outcomes: null as ReturnType<typeof liveOutcomes> | null };
  const outcomes = (rows: readonly CommittedRow[]) => (state.outcomes ??= liveOutcomes(options.store, rows[0]!.row.experiment));
  const feed = (rows: readonly CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>) => {
    if (rows.length === 0) return null;
    const live = outcomes(rows);
    for (const { row } of rows) live.add(row, actors.get(row.stream)!);
    return live;
  };
  return io.isTTY ? terminalProgress(io, feed, options.now ?? Date.now) : plainProgress(io, feed);
}

type Feed = (rows: readonly CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>) => ReturnType<typeof liveOutcomes> | null;

function plainProgress(io: Io, feed: Feed): Progress {
  return {
    update(rows, actors) {
      const live = feed(rows, actors);
      if (!live) return;
      let tree: StatusTree | null = null;
      for (const { row, before } of rows) {
        if (sameState(before, row.state)) continue;
        const depth = row.stream.split('/').length;
        const name = row.stream.split('/').slice(1).join('/') || row.stream;
        const state = String(row.state);
        const time = new Date(row.at).toISOString().slice(11, 19);
        if (depth !== 4) io.out(`${time} ${depth === 1 ? 'experiment' : name} → ${state}\n`);
        else if ([RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED].includes(state)) {
          tree ??= live.tree(actors);
          io.out(`${time} ${name} → ${state}${runSummary(io, findRun(tree, name))}\n`);
        }
      }
    },
    done() {},
  };
}

function findRun(tree: StatusTree, name: string): RunEntry | undefined {
  const [tier, subtest, run] = name.split('/');
  return tree.tiers.find((t) => t.id === tier)?.subtests.find((s) => s.id === subtest)?.runs.find((r) => r.run === Number(run));
}

/** `: passed, score 0.80, $0.0012, 3.1 s` or `: errored: runAgent failed: …`. */
function runSummary(io: Io, run: RunEntry | undefined): string {
  if (!run?.outcome) return '';
  if (run.outcome === 'errored') return `: ${outcomeText(io, run.outcome)}: ${run.error ?? 'unknown'}`;
  return `: ${outcomeText(io, run.outcome)}, score ${score2(run.score ?? 0)}, ${usd(run.costUsd)}, ${duration(run.durationMs)}`;
}

function terminalProgress(io: Io, feed: Feed, now: () => number): Progress {
  let drawn = 0;
  let last = 0;
  let live: ReturnType<typeof liveOutcomes> | null = null;
  let actors: ReadonlyMap<string, ReplayedActor> | null = null;
  const since = new Map<string, { state: string; at: number }>();
  const started = { at: now(), done: -1 };
  const draw = () => {
    if (!live || !actors) return;
    const tree = live.tree(actors);
    const finished = tree.runs.completed + tree.runs.failed;
    if (started.done < 0) started.done = finished;
    const width = Math.max(20, (io.columns?.() ?? 80) - 1);
    const lines = screen(io, tree, { since, now: now(), eta: eta(tree, started, now()) }).map((line) => truncate(line, width));
    io.out(`${drawn > 0 ? `\u001b[${drawn}F\u001b[0J` : ''}${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  return {
    update(rows, current) {
      const fed = feed(rows, current);
      if (!fed) return;
      live = fed;
      actors = current;
      for (const { row, before } of rows) if (!sameState(before, row.state)) since.set(row.stream, { state: String(row.state), at: Date.parse(row.at) });
      if (now() - last < 100) return;
      last = now();
      draw();
    },
    done() {
      draw();
      live = null;
    },
  };
}

/** Seconds left at this drive's pace (runs finished per second since it began); null before a run finished. */
function eta(tree: StatusTree, started: { at: number; done: number }, at: number): number | null {
  const finished = tree.runs.completed + tree.runs.failed;
  const done = finished - Math.max(0, started.done);
  const left = tree.runs.total - finished;
  if (done <= 0 || left <= 0) return null;
  return ((at - started.at) / done) * left;
}

const MAX_ACTIVE = 6;
/** What a run in an action state is doing: the effect the state performs. */
const EFFECT_OF = new Map<string, string>(RUN_STEPS);

/** The progress display's lines: results, counts, a line per tier, the runs at work (with how long, when known). */
export function screen(io: Io, tree: StatusTree, view: { since: Map<string, { state: string; at: number }>; now: number; eta: number | null }): string[] {
  const r = tree.runs;
  const counts = [`${r.completed + r.failed}/${r.total} runs done`, `${r.running} running`, `${r.pending} pending`, ...(r.rateLimited ? [`${r.rateLimited} rate-limited`] : []), ...(view.eta !== null ? [`ETA ${duration(view.eta)}`] : [])];
  const lines = [`${paint(io, 1, tree.experiment)}  ${groupLine(io, tree.results)}`, `  ${tree.state} · ${counts.join(' · ')}`];
  for (const tier of tree.tiers) {
    const runs = tier.subtests.flatMap((s) => s.runs);
    const done = runs.filter((run) => run.state === RUN_COMPLETED || run.state === RUN_FAILED).length;
    lines.push(`  ${tier.id}  ${tier.state.replace(/^tier_/, '')} · ${done}/${tier.results.runs} runs · ${groupLine(io, tier.results)}${tier.best ? ` · best ${tier.best}` : ''}`);
  }
  const active = tree.tiers.flatMap((t) => t.subtests.flatMap((s) => s.runs.filter((run) => !['not_started', 'run_pending', RUN_COMPLETED, RUN_FAILED].includes(run.state)).map((run) => ({ name: `${t.id}/${s.id}/${run.run}`, run }))));
  for (const { name, run } of active.slice(0, MAX_ACTIVE)) {
    const at = view.since.get(`${tree.experiment}/${name}`)?.at;
    lines.push(`    ${name}  ${EFFECT_OF.get(run.state) ?? run.state.replace(/^run_/, '')}${at ? ` ${duration(Math.max(0, view.now - at))}` : ''}${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}`);
  }
  if (active.length > MAX_ACTIVE) lines.push(`    … and ${active.length - MAX_ACTIVE} more at work`);
  return lines;
}

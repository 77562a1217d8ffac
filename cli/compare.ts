import { experimentStatus, type StatusJson } from '../observe/status.js';
import { compareExperiments, type Comparison, type GroupComparison, type Measure, type SubtestRuns, type Total, type Verdict } from '../analysis/compare.js';
import { experimentKey, generations } from '../runner/log-keys.js';
import type { EventStore } from '../store/types.js';
import { UsageError } from '../util/errors.js';
import { countDelta, pct, pctPoints, score2, scoreDelta, usd, usdDelta } from './format.js';
import { paint, type Io } from './io.js';
import { openLogForStates } from './log-file.js';

export interface CompareOptions {
  resultsDir: string;
  json?: boolean;
  /** Only these tiers (ids of A or B). */
  tier?: string[];
  /** Only these subtests (ids of A or B). */
  subtest?: string[];
}

/** One side of the comparison as `compare --json` names it: its log key, the name that selects it on the command line, its state and the runs of the whole experiment. */
export interface CompareSide {
  experiment: string;
  name: string;
  state: string;
  runs: { total: number; passed: number; notPassed: number; errored: number; withoutOutcome: number };
}

/** The documented `compare --json` object (README, "Compare two experiments"). */
export interface CompareJson extends Comparison {
  a: CompareSide;
  b: CompareSide;
}

/**
 * `expctl compare <A> <B>`: what B changed against A, per subtest, per tier
 * and overall, with 95% intervals of the differences; read from the recorded
 * states (no replay), so unfinished experiments compare too.
 */
export async function compareCommand(idA: string, idB: string, options: CompareOptions, io: Io): Promise<void> {
  const store = openLogForStates(options.resultsDir);
  try {
    const [a, b] = [sideOf(store, idA), sideOf(store, idB)];
    const keep = selection(options, a, b);
    const [runsA, runsB] = [a.subtests.filter(keep), b.subtests.filter(keep)];
    const comparison = compareExperiments(runsA, runsB);
    if (!comparison.overall) throw nothingInCommon(a, b, runsA, runsB, options);
    const result: CompareJson = { a: a.side, b: b.side, ...comparison };
    io.out(options.json ? `${JSON.stringify(result, null, 2)}\n` : compareText(io, result));
  } finally {
    store.close();
  }
}

interface Loaded {
  side: CompareSide;
  subtests: SubtestRuns[];
}

/** An experiment or generation (an unknown one is the usual not-found error, exit 2) with its runs by subtest. */
function sideOf(store: EventStore, id: string): Loaded {
  const key = experimentKey(store, id);
  const status = experimentStatus(store, key);
  const r = status.results;
  const side: CompareSide = {
    experiment: key, name: nameOf(store, key), state: status.state,
    runs: { total: r.runs, passed: r.passed, notPassed: r.notPassed, errored: r.errored, withoutOutcome: r.runs - r.judged - r.errored },
  };
  return { side, subtests: subtestsOf(status) };
}

/** The name that selects this generation: the key, or `<id>~1` for the first of several (whose key is the id, which names the latest). */
function nameOf(store: EventStore, key: string): string {
  if (key.includes('~')) return key;
  return generations(store, key).length > 1 ? `${key}~1` : key;
}

function subtestsOf(status: StatusJson): SubtestRuns[] {
  return status.tiers.flatMap((t) => t.subtests.map((s) => ({
    tier: t.id, subtest: s.id, expected: s.results.runs,
    runs: s.runs.map((run) => ({ outcome: run.outcome, score: run.score, costUsd: run.costUsd, tokens: run.tokens, durationMs: run.durationMs ?? 0 })),
  })));
}

/** `--tier` and `--subtest`: ids of A or B (a typo is an error, not an empty comparison). */
function selection(options: CompareOptions, a: Loaded, b: Loaded): (s: SubtestRuns) => boolean {
  const all = [...a.subtests, ...b.subtests];
  const check = (flag: string, ids: string[] | undefined, of: (s: SubtestRuns) => string, what: string) => {
    const known = [...new Set(all.map(of))];
    const unknown = (ids ?? []).filter((id) => !known.includes(id));
    if (unknown.length > 0) throw new UsageError(`${flag}: ${unknown.map((u) => `"${u}"`).join(', ')} is not a ${what} of ${a.side.name} or ${b.side.name}`, `their ${what}s: ${known.join(', ') || 'none yet'}`);
  };
  check('--tier', options.tier, (s) => s.tier, 'tier');
  check('--subtest', options.subtest, (s) => s.subtest, 'subtest');
  return (s) => (!options.tier || options.tier.includes(s.tier)) && (!options.subtest || options.subtest.includes(s.subtest));
}

/** Nothing to compare (exit 2): the two have no tier/subtest in common; names what each has. */
function nothingInCommon(a: Loaded, b: Loaded, runsA: SubtestRuns[], runsB: SubtestRuns[], options: CompareOptions): UsageError {
  const selected = options.tier || options.subtest ? ' (in the tiers and subtests selected)' : '';
  const has = (name: string, subtests: SubtestRuns[]) => {
    const tiers = [...new Set(subtests.map((s) => s.tier))];
    return `${name} has ${tiers.map((t) => `${t} (${subtests.filter((s) => s.tier === t).map((s) => s.subtest).join(', ')})`).join(', ') || 'no subtests yet'}`;
  };
  return new UsageError(
    `${a.side.name} and ${b.side.name} have no subtest in common${selected}: ${has(a.side.name, runsA)}; ${has(b.side.name, runsB)}`,
    'compare experiments or generations that ran tiers and subtests with the same ids' + (selected ? ', or select others with --tier and --subtest' : ''),
  );
}

/** The comparison for people: both sides, what only one has, then overall, each tier and its subtests in two lines each. */
export function compareText(io: Io, c: CompareJson): string {
  const sideLine = (label: string, s: CompareSide) => {
    const r = s.runs;
    return `${label}  ${paint(io, 1, s.name)}  ${s.state} · ${r.total} runs: ${r.passed} passed, ${r.notPassed} not passed, ${r.errored} errored${r.withoutOutcome ? `, ${r.withoutOutcome} without outcome yet` : ''}\n`;
  };
  const only = (label: string, u: Comparison['onlyInA']) => (u.tiers.length + u.subtests.length === 0 ? '' : `only in ${label}: ${[...u.tiers.map((t) => `tier ${t}`), ...u.subtests].join(', ')}\n`);
  const rows: [string, GroupComparison][] = [['overall', c.overall!]];
  for (const t of c.tiers) rows.push([t.tier, t], ...t.subtests.map((s): [string, GroupComparison] => [`  ${t.tier}/${s.subtest}`, s]));
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, g]) => groupLines(io, name.padEnd(width), ' '.repeat(width), g));
  return [sideLine('A', c.a), sideLine('B', c.b), only('A', c.onlyInA), only('B', c.onlyInB), 'Δ is B − A, with its 95% interval\n', ...lines].join('');
}

/** `overall  pass 50.0% → 100.0% Δ +50.0% [-22.4%, +85.5%] within noise · median …` and a second line with cost, tokens and runs. */
function groupLines(io: Io, name: string, indent: string, g: GroupComparison): string {
  const pass = measureText(io, g.passRate, pct, pctPoints, 'higher');
  const score = measureText(io, g.medianScore, score2, scoreDelta, 'higher');
  const perRun = measureText(io, g.meanCostUsd, usd, usdDelta, 'lower');
  const counts = [`judged ${g.a.judged} → ${g.b.judged}`];
  if (g.a.errored || g.b.errored) counts.push(`errored ${g.a.errored} → ${g.b.errored}`);
  if (g.a.withoutOutcome || g.b.withoutOutcome) counts.push(`without outcome ${g.a.withoutOutcome} → ${g.b.withoutOutcome}`);
  const first = `${name}  pass ${pass} · median ${score}`;
  const second = `${indent}  cost ${totalText(g.costUsd, usd, usdDelta)} · per run ${perRun} · tokens ${totalText(g.tokens, String, countDelta)} · ${counts.join(' · ')}`;
  return `${first}\n${second}\n`;
}

const VERDICT_WORDS: Record<'higher' | 'lower', Record<Verdict, string>> = {
  higher: { b_better: 'B better', b_worse: 'B worse', within_noise: 'within noise' },
  lower: { b_better: 'B cheaper', b_worse: 'B costlier', within_noise: 'within noise' },
};
const VERDICT_COLOURS: Record<Verdict, number> = { b_better: 32, b_worse: 31, within_noise: 2 };

/** `50.0% → 100.0% Δ +50.0% [-22.4%, +85.5%] within noise`; `—` for a side without values. */
function measureText(io: Io, m: Measure, value: (x: number) => string, delta: (x: number) => string, better: 'higher' | 'lower'): string {
  const sides = `${m.a === null ? '—' : value(m.a)} → ${m.b === null ? '—' : value(m.b)}`;
  if (m.delta === null) return `${sides} Δ —`;
  const deltaText = `Δ ${delta(m.delta)}`;
  if (!m.interval || !m.verdict) return `${sides} ${deltaText} (too few runs to tell)`;
  const verdict = paint(io, VERDICT_COLOURS[m.verdict], VERDICT_WORDS[better][m.verdict]);
  return `${sides} ${m.verdict === 'within_noise' ? deltaText : paint(io, VERDICT_COLOURS[m.verdict], deltaText)} [${delta(m.interval[0])}, ${delta(m.interval[1])}] ${verdict}`;
}

function totalText(t: Total, value: (x: number) => string, delta: (x: number) => string): string {
  return `${t.a === null ? '—' : value(t.a)} → ${t.b === null ? '—' : value(t.b)} Δ ${t.delta === null ? '—' : delta(t.delta)}`;
}

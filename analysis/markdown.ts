/**
 * Markdown reports (GitHub-flavoured) for runs, subtests, tiers and the
 * experiment (docs/design.md §6). Pure and deterministic: the caller chooses every
 * link path (relative to the report's own location) and writes the files.
 *
 * Untrusted text (judge reasoning, criteria) goes into code blocks and other
 * text is escaped, so the only links in a report are the ones the caller
 * passed in (the tests check it with a markdown parser).
 */
import type { ExperimentResult, RunResult, SubtestResult, TierResult } from '../schemas/results.js';

export interface RunLinks {
  prompt: string;
  agentStdout: string;
  agentStderr: string;
  diff: string;
  /** One path per judge, in the order of `result.judges`. */
  judges: string[];
  result: string;
}

/**
 * The report of one run: outcome, agent, diff, each judge's verdict and links to the raw files.
 *
 * @example runReport(result, { prompt: 'prompt.md', agentStdout: 'agent.stdout.log', agentStderr: 'agent.stderr.log', diff: 'diff.patch', judges: ['judge-1.json'], result: 'result.json' })
 */
export function runReport(result: RunResult, links: RunLinks): string {
  if (links.judges.length !== result.judges.length) {
    throw new Error(`runReport: ${result.judges.length} judges but ${links.judges.length} judge links`);
  }
  const { agent, diff } = result;
  return blocks([
    `# Run ${result.run}: ${text(result.tier)} / ${text(result.subtest)}`,
    `Experiment ${text(result.experiment)}. Result: ${link('result.json', links.result)}.`,
    '## Outcome',
    table(['Passed', 'Score', 'Grade', 'Duration'], [[yesNo(result.passed), score(result.score), result.grade ?? 'none', duration(result.durationMs)]]),
    '## Agent',
    table(
      ['Exit code', 'Timed out', 'Duration', 'Tokens', 'Cost', 'Spent in all (every attempt)'],
      [[agent.exitCode === null ? 'none' : String(agent.exitCode), yesNo(agent.timedOut), duration(agent.durationMs), tokens(agent.tokens), usd(agent.costUsd), spent(result.spend.costUsd, result.spend.tokens)]],
    ),
    `${link('prompt', links.prompt)} · ${link('stdout', links.agentStdout)} · ${link('stderr', links.agentStderr)}`,
    '## Diff',
    table(['Files changed', 'Insertions', 'Deletions'], [[String(diff.filesChanged), String(diff.insertions), String(diff.deletions)]]),
    link('diff', links.diff),
    '## Judges',
    table(
      ['Judge', 'Passed', 'Score', 'Grade', 'Output'],
      result.judges.map((j, i) => [String(i + 1), yesNo(j.passed), score(j.score), j.grade ?? 'none', link(`judge ${i + 1}`, links.judges[i]!)]),
    ),
    ...result.judges.flatMap((j, i) => judgeDetails(j, i + 1)),
  ]);
}

function judgeDetails(judge: RunResult['judges'][number], n: number): string[] {
  const details: string[] = [];
  if (judge.reasoning) details.push('Reasoning:', codeBlock(judge.reasoning, 'text'));
  if (judge.criteria && Object.keys(judge.criteria).length > 0) {
    details.push('Criteria:', codeBlock(JSON.stringify(judge.criteria, null, 2), 'json'));
  }
  return details.length === 0 ? [] : [`### Judge ${n}`, ...details];
}

/**
 * The report of one subtest: statistics and one row per run; a failed run
 * (report null) shows its state without a link.
 *
 * @example subtestReport(result, [{ run: 1, report: 'run-1/report.md', state: 'completed' }, { run: 2, report: null, state: 'failed' }])
 */
export function subtestReport(result: SubtestResult, runs: readonly { run: number; report: string | null; state: string }[]): string {
  const rows = [...runs].sort((a, b) => a.run - b.run).map((r) => [String(r.run), text(r.state), r.report === null ? '—' : link(`run ${r.run}`, r.report)]);
  return blocks([
    `# Subtest ${text(result.tier)} / ${text(result.subtest)}`,
    table(
      ['Runs', 'Completed', 'Failed', 'Pass rate (95% interval)', 'Mean cost', 'Total cost', 'Total tokens', 'Total duration', 'Mean duration'],
      [[String(result.runs), String(result.completedRuns), String(result.failedRuns), passRate(result), usd(result.meanCostUsd), usd(result.totalCostUsd), tokens(result.totalTokens), duration(result.durationMs.total), duration(result.durationMs.mean)]],
    ),
    '## Score',
    table(['Median (95% interval)', 'Mean (95% interval)', 'Stdev', 'Consistency'], [scoreCells(result, true)]),
    '## Runs',
    rows.length === 0 ? 'No runs.' : table(['Run', 'State', 'Report'], rows),
  ]);
}

/** Median, mean (with their bootstrap intervals), stdev and consistency; "n/a" when no run completed (the zeros would mislead). */
function scoreCells(s: SubtestResult, intervals = false): string[] {
  if (s.completedRuns === 0) return ['n/a', 'n/a', 'n/a', 'n/a'];
  const withInterval = (x: number, i: [number, number] | null) => (intervals && i ? `${score(x)} [${score(i[0])}, ${score(i[1])}]` : score(x));
  return [withInterval(s.score.median, s.score.medianInterval), withInterval(s.score.mean, s.score.meanInterval), score(s.score.stdev), score(s.consistency)];
}

/** `66.7% [20.8%, 93.9%] (2 of 3)`; `n/a` when no run completed. */
function passRate(s: SubtestResult): string {
  if (s.completedRuns === 0) return 'n/a';
  const i = s.passRateInterval;
  return `${percent(s.passRate)}${i ? ` [${percent(i[0])}, ${percent(i[1])}]` : ''} (${s.passedRuns} of ${s.completedRuns})`;
}

/**
 * The report of one tier: totals, the best subtest and why, one row per subtest linking to its report.
 *
 * @example tierReport(result, [{ subtest: '00-empty', report: '00-empty/report.md' }])
 */
export function tierReport(result: TierResult, subtests: readonly { subtest: string; report: string }[]): string {
  const rows = result.subtests.map((s) => {
    const report = subtests.find((l) => l.subtest === s.subtest)?.report;
    if (report === undefined) throw new Error(`tierReport: no report link for subtest ${s.subtest}`);
    const name = link(s.subtest, report) + (result.best?.subtest === s.subtest ? ' (best)' : '');
    return [name, String(s.runs), String(s.completedRuns), String(s.failedRuns), passRate(s), ...scoreCells(s, true), usd(s.meanCostUsd), tokens(s.totalTokens)];
  });
  return blocks([
    `# Tier ${text(result.tier)}`,
    table(['Outcome', 'Pass rate', 'Mean cost', 'Total cost', 'Total tokens', 'Cost of pass', 'Duration'], [[result.outcome, percent(result.passRate), usd(result.meanCostUsd), usd(result.totalCostUsd), tokens(result.totalTokens), costOfPass(result.costOfPass), duration(result.durationMs)]]),
    '## Best subtest',
    bestLine(result),
    ...(result.separation ? [separationLine(result.separation)] : []),
    '## Subtests',
    rows.length === 0
      ? 'No subtests.'
      : table(['Subtest', 'Runs', 'Completed', 'Failed', 'Pass rate (95% interval)', 'Median', 'Mean', 'Stdev', 'Consistency', 'Mean cost', 'Tokens'], rows),
    COST_OF_PASS,
  ]);
}

/** Whether the best subtest stands out from the runner-up, in a sentence. */
function separationLine(s: NonNullable<TierResult['separation']>): string {
  if (!s.withinNoise) return `${text(s.leader)} is ahead of ${text(s.runnerUp)} beyond noise: their 95% intervals do not overlap on pass rate or on median score.`;
  const more = s.runsToSeparate ? ` About ${s.runsToSeparate} judged runs each would tell them apart at the differences seen.` : ' They are tied.';
  return `Within noise: ${text(s.leader)} and ${text(s.runnerUp)} overlap within their 95% intervals (pass rate or median score), so the choice may be chance.${more}`;
}

/** What the two derived measures mean, said once per report that shows them. */
const COST_OF_PASS = '*Cost of pass*: what a tier spent (every agent execution, retries and errored runs included) per run that passed; ∞ when none passed.';
const FRONTIER = '*Frontier*: the tier with the lowest cost of pass, the cheapest way to a passing run.';

function bestLine(result: TierResult): string {
  return result.best === null ? 'None: no subtest completed a run.' : `${text(result.best.subtest)} (${text(result.best.reason)})`;
}

/**
 * A short summary of a tier: outcome, best subtest and reason, pass rate, cost of pass.
 *
 * @example tierSummary(result) // '# Tier T0: summary\n\n- Outcome: completed\n- Best subtest: 01-full (…)\n…'
 */
export function tierSummary(result: TierResult): string {
  return blocks([
    `# Tier ${text(result.tier)}: summary`,
    [
      `- Outcome: ${result.outcome}`,
      `- Best subtest: ${bestLine(result)}`,
      `- Pass rate: ${percent(result.passRate)} over all subtests${bestRate(result)}`,
      `- Cost of pass: ${costOfPass(result.costOfPass)}`,
    ].join('\n'),
  ]);
}

/**
 * The report of the experiment: config hash, frontier, one row per tier linking to its report and summary.
 *
 * @example experimentReport(result, [{ tier: 'T0', report: 'T0/report.md', summary: 'T0/summary.md' }])
 */
export function experimentReport(result: ExperimentResult, tiers: readonly { tier: string; report: string; summary: string }[]): string {
  const rows = result.tiers.map((t) => {
    const links = tiers.find((l) => l.tier === t.tier);
    if (links === undefined) throw new Error(`experimentReport: no report links for tier ${t.tier}`);
    const name = link(t.tier, links.report) + (result.frontier?.tier === t.tier ? ' (frontier)' : '');
    const best = bestOf(t);
    return [name, t.outcome, t.best === null ? 'none' : text(t.best.subtest) + (t.separation?.withinNoise ? ' (within noise)' : ''), best ? passRate(best) : 'n/a', usd(t.totalCostUsd), costOfPass(t.costOfPass), duration(t.durationMs), link('summary', links.summary)];
  });
  return blocks([
    `# Experiment ${text(result.experiment)}`,
    `Config hash: ${inlineCode(result.configHash)}`,
    `Spent: ${spent(result.totalCostUsd, result.totalTokens)} (every agent execution, retries and failed runs included).`,
    '## Frontier',
    frontierLine(result),
    '## Tiers',
    rows.length === 0 ? 'No tiers.' : table(['Tier', 'Outcome', 'Best subtest', 'Best subtest pass rate (95% interval)', 'Total cost', 'Cost of pass', 'Duration', 'Summary'], rows),
    `${COST_OF_PASS} ${FRONTIER}`,
  ]);
}

function bestOf(t: TierResult): SubtestResult | undefined {
  return t.best ? t.subtests.find((s) => s.subtest === t.best!.subtest) : undefined;
}

function bestRate(t: TierResult): string {
  const best = bestOf(t);
  return best ? `; best subtest ${text(best.subtest)}: ${passRate(best)}` : '';
}

function frontierLine(result: ExperimentResult): string {
  const f = result.frontier;
  return f === null ? 'None: no tier has a known, finite cost of pass.' : `${text(f.tier)} (cost of pass ${costOfPass(f.costOfPass)})`;
}

/**
 * A short summary of the experiment: the frontier and one line per tier.
 *
 * @example experimentSummary(result) // '# Experiment demo-001: summary\n\nFrontier: T1 (cost of pass $0.0150)\n\n- T0: …'
 */
export function experimentSummary(result: ExperimentResult): string {
  const lines = result.tiers.map(
    (t) =>
      `- ${text(t.tier)}: ${t.outcome}, best subtest ${t.best === null ? 'none' : `${text(t.best.subtest)}: pass rate ${passRate(bestOf(t)!)}`}` +
      `${t.separation?.withinNoise ? ` (within noise of ${text(t.separation.runnerUp)})` : ''}, cost of pass ${costOfPass(t.costOfPass)}`,
  );
  return blocks([`# Experiment ${text(result.experiment)}: summary`, `Frontier: ${frontierLine(result)}`, lines.length === 0 ? 'No tiers.' : lines.join('\n'), `${COST_OF_PASS} ${FRONTIER}`]);
}

// --- rendering helpers ------------------------------------------------------

function blocks(parts: readonly string[]): string {
  return parts.join('\n\n') + '\n';
}

/** `[label](path)` with the path as given except spaces → %20. */
function link(label: string, path: string): string {
  return `[${text(label)}](${path.replaceAll(' ', '%20')})`;
}

/** Cells are already rendered (escaped text or links). */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Text that cannot start a link, code span, HTML tag or break a table cell;
 * newlines become spaces so a value stays on its line.
 */
function text(value: string): string {
  return value.replace(/[\\`[\]<>|]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/** A fence longer than any backtick run in the content, so the content cannot close it. */
function codeBlock(content: string, lang: string): string {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(content) + 1));
  return `${fence}${lang}\n${content}\n${fence}`;
}

function inlineCode(content: string): string {
  const oneLine = content.replace(/\r?\n/g, ' ');
  const ticks = '`'.repeat(longestBacktickRun(oneLine) + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${oneLine}${pad}${ticks}`;
}

function longestBacktickRun(s: string): number {
  return Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length));
}

function score(x: number): string {
  return x.toFixed(2);
}

function usd(x: number | null): string {
  return x === null ? 'unknown' : `$${x.toFixed(4)}`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function costOfPass(c: TierResult['costOfPass']): string {
  return c === null ? 'unknown' : c === 'Infinity' ? '∞' : usd(c);
}

function spent(costUsd: number | null, n: number | null): string {
  return `${usd(costUsd)}, ${tokens(n)} tokens`;
}

function tokens(n: number | null): string {
  return n === null ? 'unknown' : String(n);
}

function duration(ms: number): string {
  return Math.round(ms) < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

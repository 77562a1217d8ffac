import { describe, expect, it } from 'vitest';
import { experimentReport, experimentSummary, runReport, subtestReport, tierReport, tierSummary, type RunLinks } from '../../analysis/markdown.js';
import { markdownLinks } from '../support/markdown-links.js';
import { experimentResult, selectBest, subtestResult, tierResult } from '../../analysis/aggregate.js';
import { ExperimentResult, RunResult, SubtestResult, TierResult } from '../../schemas/results.js';

function run(overrides: Partial<RunResult> = {}): RunResult {
  return RunResult.parse({
    experiment: 'demo-001',
    tier: 'T0',
    subtest: '01-full',
    run: 1,
    passed: true,
    score: 0.85,
    grade: 'A',
    judges: [
      { score: 0.9, passed: true, grade: 'A', reasoning: 'Fine, but see [this](http://example.com) and `code`.\n```\nnested fence\n```', criteria: { tests: 'pass' } },
      { score: 0.8, passed: true },
    ],
    agent: { exitCode: 0, timedOut: false, durationMs: 12_345, tokens: null, costUsd: 0.0123 },
    diff: { filesChanged: 2, insertions: 10, deletions: 4 },
    spend: { costUsd: 0.0123, tokens: null },
    durationMs: 15_000,
    ...overrides,
  });
}

const runLinks: RunLinks = {
  prompt: 'prompt.md',
  agentStdout: 'agent/stdout.log',
  agentStderr: 'agent/stderr.log',
  diff: 'workspace (final)/diff.patch',
  judges: ['judges/1.json', 'judges/2.json'],
  result: 'result.json',
};

function subtest(id: string, runs: RunResult[], failedRuns = 0): SubtestResult {
  return SubtestResult.parse(subtestResult({ tier: 'T0', subtest: id, runs, failedRuns }));
}

function tier(id = 'T0', outcome: TierResult['outcome'] = 'completed'): TierResult {
  const full = subtest('01-full', [run(), run({ run: 2, passed: false, score: 0.2 })], 1);
  const empty = subtest('00-empty', [], 2);
  return TierResult.parse(
    tierResult({
      tier: id,
      outcome,
      subtests: [{ result: { ...empty, tier: id }, knownCostRuns: 0 }, { result: { ...full, tier: id }, knownCostRuns: 2 }],
      best: selectBest([full, empty]),
      durationMs: 42_000,
    }),
  );
}

function experiment(): ExperimentResult {
  const failed: TierResult = { ...tier('T1', 'failed'), passRate: 0, costOfPass: 'Infinity' };
  return ExperimentResult.parse(experimentResult({ experiment: 'demo-001', configHash: 'sha256:ab`c', tiers: [tier('T0'), failed] }));
}

/** Every table row has as many cells as its header (unescaped pipes delimit cells). */
function expectWellFormedTables(markdown: string): void {
  const cells = (line: string) => line.replace(/\\\|/g, '').split('|').length;
  const lines = markdown.split('\n');
  let columns: number | null = null;
  for (const line of lines) {
    if (!line.startsWith('|')) columns = null;
    else if (columns === null) columns = cells(line);
    else expect(cells(line), line).toBe(columns);
  }
}

describe('runReport', () => {
  const report = runReport(run(), runLinks);

  it('links every file it was given, and nothing else', () => {
    expect(markdownLinks(report).sort()).toEqual(
      ['prompt.md', 'agent/stdout.log', 'agent/stderr.log', 'workspace (final)/diff.patch', 'judges/1.json', 'judges/2.json', 'result.json'].sort(),
    );
  });

  it('writes each path as given, spaces as %20', () => {
    expect(report).toContain('[diff](workspace%20(final)/diff.patch)');
    expect(report).toContain('[judge 2](judges/2.json)');
    expect(report).toContain('[result.json](result.json)');
  });

  it('formats score, grade, cost and unknown tokens', () => {
    expect(report).toContain('| yes | 0.85 | A | 15.0 s |');
    expect(report).toContain('| 0 | no | 12.3 s | unknown | $0.0123 |');
    expect(report).toContain('| 2 | yes | 0.80 | none | [judge 2](judges/2.json) |');
  });

  it('quotes judge reasoning and criteria verbatim in code blocks', () => {
    expect(report).toContain('````text\nFine, but see [this](http://example.com) and `code`.\n```\nnested fence\n```\n````');
    expect(report).toContain('```json\n{\n  "tests": "pass"\n}\n```');
    expect(markdownLinks(report)).not.toContain('http://example.com');
  });

  it('renders well-formed tables', () => {
    expectWellFormedTables(report);
  });

  it('is deterministic', () => {
    expect(runReport(run(), runLinks)).toBe(report);
  });

  it('throws when the judge links do not match the judges', () => {
    expect(() => runReport(run(), { ...runLinks, judges: ['judges/1.json'] })).toThrow(/judge links/);
  });

  it('shows a killed agent without an exit code', () => {
    const killed = runReport(run({ agent: { exitCode: null, timedOut: true, durationMs: 600_000, tokens: 5, costUsd: null } }), runLinks);
    expect(killed).toContain('| none | yes | 600.0 s | 5 | unknown |');
  });
});

describe('subtestReport', () => {
  const result = subtest('01-full', [run(), run({ run: 3, passed: false, score: 0.25 })], 1);
  const runs = [
    { run: 3, report: 'run-3/report.md', state: 'completed' },
    { run: 1, report: 'run 1/report.md', state: 'completed' },
    { run: 2, report: null, state: 'failed' },
  ];
  const report = subtestReport(result, runs);

  it('links the report of every completed run', () => {
    expect(markdownLinks(report)).toEqual(['run 1/report.md', 'run-3/report.md']);
  });

  it('shows a failed run’s state without a link', () => {
    expect(report).toContain('| 2 | failed | — |');
    expect(report).toContain('| 1 | completed | [run 1](run%201/report.md) |');
  });

  it('shows counts, pass rate, cost and score statistics', () => {
    expect(report).toContain('| 3 | 2 | 1 | 50.0% [9.5%, 90.5%] (1 of 2) | $0.0123 | $0.0246 | unknown | 30.0 s | 15.0 s |');
    // median and mean with their seeded 95% bootstrap intervals
    expect(report).toContain('| 0.55 [0.25, 0.85] | 0.55 [0.25, 0.85] | 0.42 | 0.23 |');
    expectWellFormedTables(report);
  });

  it('shows n/a score statistics when no run completed', () => {
    const none = subtestReport(subtest('00-empty', [], 2), [{ run: 1, report: null, state: 'failed' }, { run: 2, report: null, state: 'cancelled' }]);
    expect(none).toContain('| n/a | n/a | n/a | n/a |');
    expect(none).toContain('| 2 | 0 | 2 | n/a | unknown | unknown |');
    expect(markdownLinks(none)).toEqual([]);
  });
});

describe('tierReport and tierSummary', () => {
  const result = tier();
  const links = [
    { subtest: '00-empty', report: '00-empty/report.md' },
    { subtest: '01-full', report: '01-full/report.md' },
  ];
  const report = tierReport(result, links);

  it('links every subtest report', () => {
    expect(markdownLinks(report)).toEqual(['00-empty/report.md', '01-full/report.md']);
  });

  it('marks the best subtest and records why', () => {
    expect(report).toContain('[01-full](01-full/report.md) (best)');
    expect(report).toContain('01-full (01-full: highest median score 0.53)');
  });

  it('shows the tier totals', () => {
    expect(report).toContain('| completed | 50.0% | $0.0123 | $0.0246 | unknown | $0.0246 | 42.0 s |');
    expect(report).toContain('| [00-empty](00-empty/report.md) | 2 | 0 | 2 | n/a | n/a | n/a | n/a | n/a | unknown | unknown |');
    expect(report).toContain('| [01-full](01-full/report.md) (best) | 3 | 2 | 1 | 50.0% [9.5%, 90.5%] (1 of 2) | 0.53 [0.20, 0.85] |');
    expect(report).toContain('*Cost of pass*: what a tier spent');
    expectWellFormedTables(report);
  });

  it('escapes table-breaking characters in a reason', () => {
    const odd = { ...result, best: { subtest: '01-full', reason: 'a | b [c](d)' } };
    const md = tierReport(odd, links);
    expect(md).toContain('a \\| b \\[c\\](d)');
    expect(markdownLinks(md)).toEqual(['00-empty/report.md', '01-full/report.md']);
  });

  it('throws when a subtest has no report link', () => {
    expect(() => tierReport(result, links.slice(1))).toThrow(/00-empty/);
  });

  it('summarises outcome, best subtest, pass rate and cost of pass', () => {
    expect(tierSummary(result)).toBe(
      '# Tier T0: summary\n\n' +
        '- Outcome: completed\n' +
        '- Best subtest: 01-full (01-full: highest median score 0.53)\n' +
        '- Pass rate: 50.0% over all subtests; best subtest 01-full: 50.0% [9.5%, 90.5%] (1 of 2)\n' +
        '- Cost of pass: $0.0246\n',
    );
  });

  it('summarises a tier where nothing passed or completed', () => {
    const failed: TierResult = { ...result, outcome: 'failed', best: null, passRate: 0, costOfPass: 'Infinity' };
    const summary = tierSummary(failed);
    expect(summary).toContain('- Outcome: failed\n- Best subtest: None: no subtest completed a run.\n- Pass rate: 0.0% over all subtests\n- Cost of pass: ∞\n');
    expect(tierSummary({ ...failed, costOfPass: null })).toContain('- Cost of pass: unknown');
  });
});

describe('experimentReport and experimentSummary', () => {
  const result = experiment();
  const links = [
    { tier: 'T0', report: 'T0/report.md', summary: 'T0/summary.md' },
    { tier: 'T1', report: 'T1/report.md', summary: 'T1/summary.md' },
  ];
  const report = experimentReport(result, links);

  it('links every tier report and summary', () => {
    expect(markdownLinks(report)).toEqual(['T0/report.md', 'T0/summary.md', 'T1/report.md', 'T1/summary.md']);
  });

  it('names the frontier and shows each tier', () => {
    expect(report).toContain('## Frontier\n\nT0 (cost of pass $0.0246)');
    // the pass rate is the best subtest's (with its interval), not the tier's over all subtests
    expect(report).toContain('| [T0](T0/report.md) (frontier) | completed | 01-full | 50.0% [9.5%, 90.5%] (1 of 2) | $0.0246 | $0.0246 | 42.0 s | [summary](T0/summary.md) |');
    expect(report).toContain('| [T1](T1/report.md) | failed | 01-full | 50.0% [9.5%, 90.5%] (1 of 2) | $0.0246 | ∞ | 42.0 s | [summary](T1/summary.md) |');
    // the two derived measures are explained once
    expect(report.match(/\*Cost of pass\*/g)).toHaveLength(1);
    expect(report.match(/\*Frontier\*/g)).toHaveLength(1);
    expectWellFormedTables(report);
  });

  it('quotes the config hash as code, even with a backtick in it', () => {
    expect(report).toContain('Config hash: ``sha256:ab`c``');
  });

  it('throws when a tier has no links', () => {
    expect(() => experimentReport(result, links.slice(0, 1))).toThrow(/T1/);
  });

  it('summarises the frontier with one line per tier', () => {
    expect(experimentSummary(result)).toBe(
      '# Experiment demo-001: summary\n\n' +
        'Frontier: T0 (cost of pass $0.0246)\n\n' +
        '- T0: completed, best subtest 01-full: pass rate 50.0% [9.5%, 90.5%] (1 of 2), cost of pass $0.0246\n' +
        '- T1: failed, best subtest 01-full: pass rate 50.0% [9.5%, 90.5%] (1 of 2), cost of pass ∞\n\n' +
        '*Cost of pass*: what a tier spent (every agent execution, retries and errored runs included) per run that passed; ∞ when none passed. *Frontier*: the tier with the lowest cost of pass, the cheapest way to a passing run.\n',
    );
  });

  it('says when there is no frontier', () => {
    const none = { ...result, frontier: null };
    expect(experimentSummary(none)).toContain('Frontier: None: no tier has a known, finite cost of pass.');
    expect(experimentReport(none, links)).not.toContain('(frontier)');
  });
});

describe('markdownLinks', () => {
  it('returns link targets in order, each once, with %20 decoded', () => {
    expect(markdownLinks('[a](x.md) and [b](my%20dir/y.md)\n[again](x.md)')).toEqual(['x.md', 'my dir/y.md']);
  });

  it('keeps balanced parentheses in a target', () => {
    expect(markdownLinks('[d](out%20(1)/diff.patch).')).toEqual(['out (1)/diff.patch']);
  });

  it('ignores links in fenced code, code spans and escaped brackets', () => {
    const md = ['`[a](in-span.md)`', '```', '[b](in-fence.md)', '```', '~~~~md', '[c](in-tilde.md)', '```', '~~~~', '\\[d\\](escaped.md)', '[e](real.md)'].join('\n');
    expect(markdownLinks(md)).toEqual(['real.md']);
  });

  it('treats an unclosed backtick as literal text', () => {
    expect(markdownLinks('a ` b [e](real.md)')).toEqual(['real.md']);
  });
});

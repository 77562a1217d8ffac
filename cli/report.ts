import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { actorsFromStates, experimentResultOf, resultsAvailable } from '../runner/finalization/recorded.js';
import { experimentPaths } from '../runner/paths.js';
import { RUN_RECORD_FIELDS, runRecords, type RunRecord } from '../runner/run-records.js';
import { experimentReport } from '../analysis/markdown.js';
import type { ExperimentResult } from '../schemas/results.js';
import { ExpctlError, UsageError } from '../util/errors.js';
import { outcomeText, score2 } from './format.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';
import type { ReportFormat } from './options.js';
import { expctlCommand } from './shell.js';


export interface ReportOptions {
  resultsDir: string;
  json?: boolean;
  format?: ReportFormat;
  tier?: string[];
  subtest?: string[];
  /** Only the runs that did not pass (errored, or judged not passed). */
  failed?: boolean;
}

/**
 * `expctl report <id>`: the results tables of a finished experiment, computed
 * from its log (the same numbers the result files hold); `--format csv|jsonl`
 * one row per run, at any time. Result files that are missing (an imported
 * experiment, deleted files) are written again.
 */
export async function reportCommand(id: string, options: ReportOptions, io: Io): Promise<void> {
  const format = options.json ? 'json' : options.format ?? 'markdown';
  const resultsDir = resolve(io.cwd, options.resultsDir);
  const store = openLogForReading(resultsDir);
  try {
    const key = experimentKey(store, id);
    const scope = { key, store, actors: actorsFromStates(store.latestStates(key).streams) };
    const keep = selection(options, scope.actors, key);
    if (format === 'csv' || format === 'jsonl' || options.failed) {
      const runs = runRecords(store, key).filter((r) => keep.tier(r.tier) && keep.subtest(r.subtest) && (!options.failed || (r.outcome !== null && r.outcome !== 'passed')));
      return io.out(format === 'csv' ? csv(runs) : format === 'jsonl' ? runs.map((r) => `${JSON.stringify(r)}\n`).join('') : format === 'json' ? `${JSON.stringify(runs, null, 2)}\n` : failedRuns(io, runs, key, options));
    }
    const paths = experimentPaths(resultsDir, key);
    if (!resultsAvailable(scope)) {
      throw new ExpctlError('EXPCTL_NO_RESULTS', `experiment ${key} has no results yet: it is in ${String(scope.actors.get(key)?.snapshot.value ?? 'no state')}`, `see \`expctl status ${key}\`; results are written when all tiers are done (\`expctl report ${key} --format csv\` lists the runs so far)`);
    }
    const result = filtered(experimentResultOf(scope), keep);
    if (!existsSync(paths.result) || !existsSync(paths.report) || !existsSync(paths.summary)) {
      // only when files are missing: it loads the writers of every result file
      const { writeResultsFromLog } = await import('../runner/finalization/rebuild.js');
      writeResultsFromLog(scope, paths);
      io.err(`the result files of ${key} were missing; written again from its log into ${paths.dir}\n`);
    }
    if (format === 'json') return io.out(`${JSON.stringify(result, null, 2)}\n`);
    const rel = (file: string) => relative(paths.dir, file);
    io.out(experimentReport(result, result.tiers.map(({ tier }) => ({ tier, report: rel(paths.tier(tier).report), summary: rel(paths.tier(tier).summary) }))));
  } finally {
    store.close();
  }
}

type Keep = { tier: (id: string) => boolean; subtest: (id: string) => boolean };

/** `--tier` and `--subtest`: ids that must exist in the experiment (a typo is an error, not an empty report). */
function selection(options: ReportOptions, actors: ReadonlyMap<string, unknown>, key: string): Keep {
  const known = [...actors.keys()].filter((stream) => stream !== key).map((stream) => stream.slice(key.length + 1).split('/'));
  const check = (flag: string, ids: string[] | undefined, depth: number) => {
    if (!ids) return () => true;
    const existing = [...new Set(known.filter((parts) => parts.length === depth + 1).map((parts) => parts[depth]!))];
    const unknown = ids.filter((id) => !existing.includes(id));
    if (unknown.length > 0) throw new UsageError(`${flag}: ${unknown.map((u) => `"${u}"`).join(', ')} is not a ${depth === 0 ? 'tier' : 'subtest'} of ${key}`, `its ${depth === 0 ? 'tiers' : 'subtests'}: ${existing.join(', ') || 'none yet'}`);
    return (id: string) => ids.includes(id);
  };
  return { tier: check('--tier', options.tier, 0), subtest: check('--subtest', options.subtest, 1) };
}

function filtered(result: ExperimentResult, keep: Keep): ExperimentResult {
  const tiers = result.tiers.filter((t) => keep.tier(t.tier)).map((t) => ({ ...t, subtests: t.subtests.filter((s) => keep.subtest(s.subtest)) }));
  return { ...result, tiers };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; unknown is empty. */
function csv(runs: readonly RunRecord[]): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [RUN_RECORD_FIELDS.join(','), ...runs.map((r) => RUN_RECORD_FIELDS.map((f) => cell(r[f])).join(','))].map((line) => `${line}\r\n`).join('');
}

/** `report --failed`: each run that did not pass, why, and the command that shows it all. */
function failedRuns(io: Io, runs: readonly RunRecord[], key: string, options: ReportOptions): string {
  if (runs.length === 0) return `every judged run of ${key} passed${options.tier || options.subtest ? ' (in the tiers and subtests selected)' : ''}\n`;
  const lines = runs.map((r) => {
    const name = `${r.tier}/${r.subtest}/${r.run}`;
    const why = r.outcome === 'errored' ? r.error ?? 'unknown' : `score ${score2(r.score ?? 0)}`;
    return `${name}  ${outcomeText(io, r.outcome)}: ${why}\n  \`${expctlCommand(['show', key, name], options.resultsDir, io)}\`\n`;
  });
  return `${runs.length} runs of ${key} did not pass:\n${lines.join('')}`;
}

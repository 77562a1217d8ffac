import { resolve } from 'node:path';
import type { ExperimentOutcome } from '../runner/index.js';
import { ExpctlError } from '../util/errors.js';
import type { Io } from './io.js';
import { expctlCommand } from './shell.js';
import { raiseArgs } from './format.js';

/** The results of a finished `run`/`resume` fail a gate: runs errored, a tier failed, or the pass rate is below `--min-pass-rate` (exit 1). */
export class OutcomeGateError extends ExpctlError {
  constructor(code: 'EXPCTL_RUNS_ERRORED' | 'EXPCTL_GATE_FAILED' | 'EXPCTL_BUDGET_REACHED', message: string, hint: string) {
    super(code, message, hint);
  }
}

export interface OutcomeOptions {
  json: boolean;
  resultsDir: string;
  /** `--min-pass-rate`: fail (exit 1) when fewer runs passed (0..1). */
  minPassRate?: number;
}

const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const passRateText = (rate: number | null) => (rate === null ? 'no run judged' : `pass rate ${pct(rate)}`);
const usd = (x: number | null) => (x === null ? 'unknown' : `$${x.toFixed(4)}`);

/**
 * Print how a drive ended, then enforce the outcome: exit 0 only when no run
 * errored, no tier failed and the pass rate meets `--min-pass-rate`; a
 * judged run that did not pass is a result, not an error.
 */
export function reportOutcome(io: Io, outcome: ExperimentOutcome, options: OutcomeOptions): void {
  const command = (...args: string[]) => expctlCommand(args, options.resultsDir, io);
  const { summary } = outcome;
  const gate = outcome.budget ? budgetGate(outcome, command) : outcome.held > 0 ? null : gateOf(outcome, options.minPassRate, command);
  if (options.json) {
    const { key, state, dir, alreadyComplete, held, resets, budget } = outcome;
    io.out(`${JSON.stringify({ experiment: key, state, dir, alreadyComplete, held, resets, ...summary, budget, ok: gate === null })}\n`);
  } else printOutcome(io, outcome, command);
  if (gate) throw gate;
}

function printOutcome(io: Io, outcome: ExperimentOutcome, command: (...args: string[]) => string): void {
  const { summary } = outcome;
  const r = summary.runs;
  for (const line of outcome.resets) io.out(`re-executed: ${line}\n`);
  if (outcome.budget) {
    io.out(`experiment ${outcome.key} paused by its spending limit: ${r.passed} passed, ${r.notPassed} not passed, ${r.errored} errored, ${r.unfinished} waiting; spent ${usd(summary.spend.costUsd)}, ${summary.spend.tokens ?? 'unknown'} tokens\n`);
    return;
  }
  if (outcome.held > 0) {
    io.out(`experiment ${outcome.key} stopped as requested (${outcome.held} actor(s) wait at the --until state); \`${command('resume', outcome.key)}\` continues\n`);
    return;
  }
  const head = outcome.alreadyComplete ? `experiment ${outcome.key} is already complete; nothing to run` : `experiment ${outcome.key} ${outcome.state === 'exp_complete' ? 'complete' : `ended in ${outcome.state}`}`;
  io.out(`${head}: ${r.total} runs: ${r.passed} passed, ${r.notPassed} not passed, ${r.errored} errored${r.unfinished ? `, ${r.unfinished} unfinished` : ''} (${passRateText(summary.passRate)}); spent ${usd(summary.spend.costUsd)}, ${summary.spend.tokens ?? 'unknown'} tokens\n`);
  for (const t of summary.failedTiers) io.out(`  tier ${t.tier} failed: ${t.reason}\n`);
  for (const e of summary.erroredRuns) io.out(`  run ${e.run} errored in ${e.state}: ${e.reason}\n`);
  if (r.errored > summary.erroredRuns.length) io.out(`  … and ${r.errored - summary.erroredRuns.length} more errored runs: \`${command('status', outcome.key)}\`\n`);
  io.out(`reports: ${resolve(outcome.dir, 'report.md')}\n         ${resolve(outcome.dir, 'summary.md')}\n`);
  io.out(`status:  ${command('status', outcome.key)}\n`);
}

/** A budget stopped new agents: the experiment is paused (exit 1), and how to go on. */
function budgetGate(outcome: ExperimentOutcome, command: (...args: string[]) => string): OutcomeGateError {
  const b = outcome.budget!;
  const money = b.limit === 'maxCostUsd';
  const amount = (x: number) => (money ? usd(x) : `${Math.round(x)} tokens`);
  return new OutcomeGateError(
    'EXPCTL_BUDGET_REACHED',
    `experiment ${outcome.key} paused: the next agent would take it past limits.${b.limit} ${amount(b.max)} (${amount(b.spent)} spent, about ${amount(b.perAgent)} per agent); no agent was started past it, ${outcome.summary.runs.unfinished} runs wait`,
    `raise limits.${b.limit} in the config and run it again, or \`${command('resume', outcome.key, ...raiseArgs(b))}\``,
  );
}

function gateOf(outcome: ExperimentOutcome, minPassRate: number | undefined, command: (...args: string[]) => string): OutcomeGateError | null {
  const { summary, key } = outcome;
  const r = summary.runs;
  const problems = [
    ...(r.errored > 0 ? [`${r.errored} of ${r.total} runs errored`] : []),
    ...(summary.failedTiers.length > 0 ? [`tier${summary.failedTiers.length > 1 ? 's' : ''} ${summary.failedTiers.map((t) => t.tier).join(', ')} failed`] : []),
  ];
  if (problems.length > 0) {
    return new OutcomeGateError('EXPCTL_RUNS_ERRORED', `experiment ${key} finished, but ${problems.join(' and ')}`, `see \`${command('status', key)}\`; \`${command('resume', key)}\` retries what errored (judged runs that did not pass are results, and are not retried)`);
  }
  if (minPassRate !== undefined && (summary.passRate ?? 0) < minPassRate) {
    const rate = summary.passRate === null ? 'no run was judged, so the pass rate' : `pass rate ${pct(summary.passRate)} (${r.passed} of ${r.passed + r.notPassed} judged runs)`;
    return new OutcomeGateError('EXPCTL_GATE_FAILED', `experiment ${key}: ${rate} is below --min-pass-rate ${pct(minPassRate)}`, `see \`${command('report', key)}\``);
  }
  return null;
}

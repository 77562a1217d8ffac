import { resolve } from 'node:path';
import { startInspection, type Inspection } from '../observe/inspector/inspector.js';
import { createMetrics, metricsFileWatcher, metricsWatcher } from '../observe/metrics.js';
import {
  checkStateName, checkUntilState, driveExperiment, loadRunConfig, logFile, openExperimentLog, previewResets,
  type ExperimentRequest, type ExperimentWatcher, type FromSpec, type ResetLevel, type UntilSpec,
} from '../runner/index.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { openExistingLog } from './open-log.js';
import { reportOutcome } from './outcome.js';
import { createProgress } from './progress.js';

export interface RunOptions {
  resultsDir: string;
  fresh?: boolean;
  tiers?: string[];
  json?: boolean;
  signal?: AbortSignal;
  reason?: string;
  untilExperiment?: string;
  untilTier?: string;
  untilRun?: string;
  fromExperiment?: string;
  fromTier?: string;
  fromRun?: string;
  filterTier?: string[];
  filterSubtest?: string[];
  filterRun?: string[];
  filterStatus?: 'passed' | 'failed';
  dryRun?: boolean;
  /** Write Prometheus metrics here while running and at the end. */
  metricsFile?: string;
  /** Stream the run to the Stately inspector through a local relay (`--inspect-port` implies it). */
  inspect?: boolean;
  inspectPort?: number;
  /** `--min-pass-rate`: exit 1 when fewer runs passed (0..1). */
  minPassRate?: number;
  maxCostUsd?: number;
  maxTokens?: number;
}

/** `expctl run <config>`: start an experiment, or continue the one with the config's id. */
export async function runCommand(configFile: string, options: RunOptions, io: Io): Promise<void> {
  const flags = parseFlags(options);
  // validated before the log is even opened: a bad config creates nothing
  const config = loadRunConfig(resolve(io.cwd, configFile), options.tiers);
  for (const warning of config.warnings) io.err(`warning: ${warning}\n`);
  await drive(io, options, { config, fresh: options.fresh, ...flags });
}

/** `expctl resume <id>`: continue an experiment from its log. */
export async function resumeCommand(experiment: string, options: RunOptions, io: Io): Promise<void> {
  await drive(io, options, { experiment, ...parseFlags(options) });
}

type What = Pick<ExperimentRequest, 'config' | 'experiment' | 'fresh' | 'until' | 'from'>;

async function drive(io: Io, options: RunOptions, what: What): Promise<void> {
  const resultsDir = resolve(io.cwd, options.resultsDir);
  if (options.dryRun) return dryRun(io, resultsDir, what);
  // a closed output (`expctl run … | head`) must not stop the experiment: it goes on, silently
  io.keepGoingWhenClosed?.();
  // `run` may start the log; `resume` needs one (a failed resume creates nothing)
  const store = what.config ? openExperimentLog(logFile(resultsDir)) : openExistingLog(resultsDir);
  const progress = createProgress(io, { quiet: options.json ?? false, store });
  const metrics = createMetrics();
  const watchers: ExperimentWatcher[] = [{ rows: (rows, actors) => progress.update(rows, actors) }, metricsWatcher(metrics)];
  if (options.metricsFile) watchers.push(metricsFileWatcher(metrics, resolve(io.cwd, options.metricsFile)));
  let inspection: Inspection | null = null;
  try {
    if (options.inspect || options.inspectPort !== undefined) {
      inspection = await startInspection({ port: options.inspectPort, onError: (e) => io.err(`inspector: ${(e as Error)?.message ?? String(e)}\n`) });
      (options.json ? io.err : io.out)(`inspector: ${inspection.url} (open it in a browser to watch the run live; it closes when the run ends)\n`);
      watchers.push(inspection.watcher);
    }
    const limits = { ...(options.maxCostUsd !== undefined ? { maxCostUsd: options.maxCostUsd } : {}), ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}) };
    const outcome = await driveExperiment({ ...what, store, resultsDir, signal: options.signal, reason: options.reason, watchers, limits });
    progress.done();
    reportOutcome(io, outcome, { json: options.json ?? false, resultsDir, minPassRate: options.minPassRate });
  } finally {
    // the relay must close even when the run never started (config changed, already complete)
    await inspection?.stop();
    progress.done();
    store.close();
  }
}

function dryRun(io: Io, resultsDir: string, what: What): void {
  if (!what.from) throw new UsageError('--dry-run shows what a --from-* re-execution would reset', 'add --from-run, --from-tier or --from-experiment');
  const store = openExistingLog(resultsDir);
  try {
    const { key, steps } = previewResets({ ...what, from: what.from, store, resultsDir });
    io.out(steps.length === 0 ? `nothing in ${key} matches; nothing would be reset\n` : `would reset, in ${key}:\n${steps.map((s) => `  ${s}\n`).join('')}`);
  } finally {
    store.close();
  }
}

/** `--until-*` and `--from-*` with their filters, checked (unknown state names exit 2, listing the valid ones). */
function parseFlags(o: RunOptions): { until?: UntilSpec; from?: FromSpec } {
  const until: UntilSpec = {};
  if (o.untilExperiment) until.experiment = checkUntilState('--until-experiment', 'experiment', o.untilExperiment);
  if (o.untilTier) until.tier = checkUntilState('--until-tier', 'tier', o.untilTier);
  if (o.untilRun) until.run = checkUntilState('--until-run', 'run', o.untilRun);
  const froms = ([['experiment', o.fromExperiment], ['tier', o.fromTier], ['run', o.fromRun]] as const).filter(([, s]) => s);
  if (froms.length > 1) throw new UsageError('give one of --from-experiment, --from-tier, --from-run', 'run them one after the other');
  const filters = o.filterTier || o.filterSubtest || o.filterRun || o.filterStatus;
  if (filters && froms.length === 0) throw new UsageError('--filter-* selects what a --from-* re-execution resets', 'add --from-run, --from-tier or --from-experiment');
  const from = froms[0] ? fromSpec(froms[0][0], froms[0][1]!, o) : undefined;
  return { ...(Object.keys(until).length > 0 ? { until } : {}), ...(from ? { from } : {}) };
}

function fromSpec(level: ResetLevel, state: string, o: RunOptions): FromSpec {
  const runs = o.filterRun?.map((r) => {
    const n = Number(r);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--filter-run: "${r}" is not a run number`, 'runs are numbered from 1, e.g. --filter-run 1,3');
    return n;
  });
  return {
    level,
    state: checkStateName(`--from-${level}`, level, state),
    ...(o.filterTier ? { tiers: o.filterTier } : {}),
    ...(o.filterSubtest ? { subtests: o.filterSubtest } : {}),
    ...(runs ? { runs } : {}),
    ...(o.filterStatus ? { status: o.filterStatus } : {}),
  };
}

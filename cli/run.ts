import { resolve } from 'node:path';
import type { ReplayedActor, CommittedRow } from '../engine/index.js';
import { openStore } from '../store/index.js';
import { driveExperiment, loadRunConfig, type ExperimentOutcome, type ExperimentRequest } from '../runner/orchestrator.js';
import { logFile } from '../runner/paths.js';
import type { Io } from './io.js';
import { createProgress } from './progress.js';

export interface RunOptions {
  resultsDir: string;
  fresh?: boolean;
  tiers?: string[];
  json?: boolean;
  signal?: AbortSignal;
}

/** `expctl run <config>`: start an experiment, or continue the one with the config's id. */
export async function runCommand(configFile: string, options: RunOptions, io: Io): Promise<void> {
  // validated before the log is even opened: a bad config creates nothing
  const config = loadRunConfig(resolve(io.cwd, configFile), options.tiers);
  await drive(io, options, { config, fresh: options.fresh });
}

/** `expctl resume <id>`: continue an experiment from its log. */
export async function resumeCommand(experiment: string, options: RunOptions, io: Io): Promise<void> {
  await drive(io, options, { experiment });
}

async function drive(io: Io, options: RunOptions, what: Pick<ExperimentRequest, 'config' | 'experiment' | 'fresh'>): Promise<void> {
  const resultsDir = resolve(io.cwd, options.resultsDir);
  const store = openStore(logFile(resultsDir));
  const progress = createProgress(io, { quiet: options.json ?? false });
  try {
    const outcome = await driveExperiment({
      ...what,
      store,
      resultsDir,
      signal: options.signal,
      onProgress: (rows: CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>) => progress.update(rows, actors),
    });
    progress.done();
    report(io, outcome, options.json ?? false);
  } finally {
    progress.done();
    store.close();
  }
}

function report(io: Io, outcome: ExperimentOutcome, json: boolean): void {
  if (json) {
    io.out(`${JSON.stringify({ experiment: outcome.key, state: outcome.state, dir: outcome.dir, alreadyComplete: outcome.alreadyComplete })}\n`);
    return;
  }
  if (outcome.alreadyComplete) io.out(`experiment ${outcome.key} is already complete; nothing to run\n`);
  else io.out(`experiment ${outcome.key} complete\n`);
  io.out(`reports: ${resolve(outcome.dir, 'report.md')}\n         ${resolve(outcome.dir, 'summary.md')}\n`);
  io.out(`status:  expctl status ${outcome.key}\n`);
}

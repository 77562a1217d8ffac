import { contextOf, RUN_COMPLETED } from '../../machines/index.js';
import type { ExperimentPaths } from '../paths.js';
import { streams } from '../streams.js';
import { writeExperimentFiles, writeExperimentSummary, writeRunReport, writeRunResult, writeSubtestFiles, writeTierFiles } from './files.js';
import { experimentResultOf, resultsAvailable, runHistories, runResultOf, runStates, subtestOf, tierResultOf, type ResultScope } from './recorded.js';

/**
 * Every result file and report of an experiment, written again from its log
 * (the files the finalization effects write), for a results folder that lost
 * them: after an import, or when they were deleted. Each level's files are
 * written once it has finished. Returns how many actors' files were written.
 */
export function writeResultsFromLog(scope: ResultScope, paths: ExperimentPaths): number {
  const histories = runHistories(scope.store, scope.key);
  let written = 0;
  for (const actor of scope.actors.values()) {
    const state = String(actor.snapshot.value);
    if (actor.entry.id === 'run' && state === RUN_COMPLETED) {
      const { tier, subtest, run } = contextOf(actor, 'run');
      const result = runResultOf(scope.key, { tier, subtest, run }, histories.get(actor.stream) ?? [], actor.created);
      writeRunResult(paths, result);
      writeRunReport(paths, result);
      written += 1;
    } else if (actor.entry.id === 'subtest' && state === 'subtest_aggregated') {
      const { tier, subtest } = contextOf(actor, 'subtest');
      writeSubtestFiles(paths, subtestOf(scope, tier, subtest, histories).result, runStates(scope, tier, subtest));
      written += 1;
    } else if (actor.entry.id === 'tier' && state === 'tier_complete') {
      writeTierFiles(paths, tierResultOf(scope, contextOf(actor, 'tier').tier, 'completed', histories));
      written += 1;
    }
  }
  if (!resultsAvailable(scope)) return written;
  const result = experimentResultOf(scope, histories);
  for (const tier of result.tiers) if (tier.outcome === 'failed' && scope.actors.has(streams.tier(scope.key, tier.tier))) writeTierFiles(paths, tier);
  writeExperimentFiles(paths, result);
  if (String(scope.actors.get(scope.key)!.snapshot.value) !== 'exp_tiers_complete') writeExperimentSummary(paths, result);
  return written + 1;
}

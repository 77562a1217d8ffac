import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EffectFailure } from '../../engine/index.js';
import type { ExperimentConfig } from '../../schemas/config.js';
import { isRepoUrl, prepareTaskRepo } from '../../workspace/task-repo.js';
import { preparedRepo, type ExperimentLog, type PreparedRepo } from '../log.js';

/**
 * The experiment's task repository, ready to use: the recorded one, prepared
 * again from the task's source at the recorded commit when the results
 * folder lost it (imported, copied, or deleted). A source that is gone, or
 * that no longer gives the recorded commit, is named in the error.
 */
export async function readyRepo(scope: { key: string; store: ExperimentLog; config: ExperimentConfig; configDir: string }, deps: { prepareTaskRepo: typeof prepareTaskRepo } = { prepareTaskRepo }): Promise<PreparedRepo> {
  const recorded = preparedRepo(scope.store, scope.key);
  if (existsSync(recorded.repoDir)) return recorded;
  const { repo } = scope.config.task;
  const source = isRepoUrl(repo) ? repo : resolve(scope.configDir, repo);
  const again = await deps.prepareTaskRepo({ source, commit: recorded.commit, into: recorded.repoDir }).catch((error: unknown) => {
    throw new EffectFailure(`the task repository ${recorded.repoDir} is missing, and preparing it again from ${source} failed: ${(error as Error).message}`, false);
  });
  if (again.commit !== recorded.commit) {
    throw new EffectFailure(`the task repository ${recorded.repoDir} is missing, and ${source} no longer gives the recorded commit ${recorded.commit} (it gives ${again.commit})`, false);
  }
  return recorded;
}

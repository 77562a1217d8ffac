import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EffectFailure } from '../../engine/index.js';
import { tierGroups } from '../../schemas/tier-order.js';
import { isRepoUrl, prepareTaskRepo } from '../../workspace/task-repo.js';
import type { RunnerEffect } from '../session.js';
import { configFingerprint, fingerprintHash } from './fingerprint.js';
import { environmentIssues } from './preflight.js';

/** Setup (docs/design.md §4): the experiment directory, repository preparation, pre-flight. */
export interface Setup {
  initializeExperiment: RunnerEffect;
  prepareRepository: RunnerEffect;
  preflightChecks: RunnerEffect;
}

export interface SetupDeps {
  prepareTaskRepo: typeof prepareTaskRepo;
}

export function createSetup(deps: SetupDeps = { prepareTaskRepo }): Setup {
  return {
    async initializeExperiment(_ctx, session) {
      mkdirSync(session.paths.dir, { recursive: true });
      const fingerprint = configFingerprint(session.config, session.configDir);
      const configHash = fingerprintHash(fingerprint);
      const record = { experiment: session.key, configDir: session.configDir, configHash, config: session.config, fingerprint };
      writeFileSync(session.paths.config, `${JSON.stringify(record, null, 2)}\n`);
      return { output: { configHash, dir: session.paths.dir } };
    },

    async prepareRepository(_ctx, session) {
      const { repo, commit } = session.config.task;
      const source = isRepoUrl(repo) ? repo : resolve(session.configDir, repo);
      const prepared = await deps.prepareTaskRepo({ source, commit, into: session.paths.repo });
      return { output: prepared };
    },

    async preflightChecks(_ctx, session) {
      const issues = environmentIssues(session.config, session.configDir);
      if (issues.length > 0) {
        throw new EffectFailure(`pre-flight checks failed: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, false);
      }
      return { output: { groups: tierGroups(session.config.tiers) } };
    },
  };
}

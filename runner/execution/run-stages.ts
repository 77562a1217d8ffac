import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EffectFailure, outputOf } from '../../engine/index.js';
import { contextOf } from '../../machines/index.js';
import type { SubtestConfig } from '../../schemas/config.js';
import { addWorktree, captureDiff, commitAll } from '../../workspace/git.js';
import { destinationProblem, isInsideReal } from '../../workspace/inside.js';
import { subtestConfig, tierConfig, type RunnerEffect, type Session } from '../session.js';
import { streams } from '../streams.js';
import { runContext } from './run-context.js';

/** The workspace stages of a run (docs/design.md §2.4), each idempotent so a restarted effect is harmless. */
export const runStages: Record<'createRunDir' | 'createWorktree' | 'applyResources' | 'commitResources' | 'writePrompt' | 'commitChanges' | 'captureDiff', RunnerEffect> = {
  async createRunDir(ctx, session) {
    const { paths } = runContext(ctx, session);
    for (const dir of [paths.agentDir, paths.judgeDir]) mkdirSync(dir, { recursive: true });
    return { output: { runDir: paths.dir } };
  },

  async createWorktree(ctx, session) {
    const { paths } = runContext(ctx, session);
    const { repoDir, commit } = await session.repo();
    await addWorktree(repoDir, paths.workspace, commit);
    return { output: { workspace: paths.workspace, commit } };
  },

  async applyResources(ctx, session) {
    const run = runContext(ctx, session);
    const files = resourcesOf(session, run.tier, run.subtest);
    for (const { dest, source } of files.files) {
      const problem = destinationProblem(dest);
      if (problem) throw new EffectFailure(`resource destination "${dest}" ${problem}`, false);
      const target = resolve(run.paths.workspace, dest);
      mkdirSync(dirname(target), { recursive: true });
      // a symlink in the task (e.g. out -> /elsewhere) must not carry the copy out of the workspace
      if (!isInsideReal(run.paths.workspace, dirname(target))) {
        throw new EffectFailure(`resource destination "${dest}" goes through a symlink out of the workspace`, false);
      }
      cpSync(resolve(session.configDir, source), target, { recursive: true, force: true });
    }
    return { output: files };
  },

  async commitResources(ctx, session) {
    const run = runContext(ctx, session);
    const commit = await commitAll(run.paths.workspace, `expctl: resources for ${run.tier}/${run.subtest}`);
    return { output: { commit } };
  },

  async writePrompt(ctx, session) {
    const run = runContext(ctx, session);
    const task = readFileSync(resolve(session.configDir, session.config.task.prompt), 'utf8');
    const thinking = run.tierConfig.thinking ?? session.config.task.thinking;
    const prompt = thinking ? `${task.trimEnd()}\n\n${thinking}\n` : task;
    writeFileSync(run.paths.prompt, prompt);
    return { output: { promptFile: run.paths.prompt, bytes: Buffer.byteLength(prompt) } };
  },

  async commitChanges(ctx, session) {
    const run = runContext(ctx, session);
    return { output: { commit: await commitAll(run.paths.workspace, `expctl: agent changes for ${run.tier}/${run.subtest}/${run.run}`) } };
  },

  async captureDiff(ctx, session) {
    const run = runContext(ctx, session);
    const history = ctx.history();
    const from = outputOf<{ commit: string }>(history, 'commitResources')!.commit;
    const to = outputOf<{ commit: string }>(history, 'commitChanges')!.commit;
    return { output: { ...(await captureDiff(run.paths.workspace, from, to, run.paths.diff)), patch: run.paths.diff } };
  },
};

type ResourceFile = { dest: string; source: string };

/**
 * The files a subtest copies into the workspace: when it inherits the
 * baseline, first those of the best subtest of each tier its tier depends on
 * (recursively), then its own, which win.
 */
export function resourcesOf(session: Session, tier: string, subtest: string): { files: ResourceFile[]; baseline: { tier: string; subtest: string }[] } {
  const config: SubtestConfig = subtestConfig(session, tier, subtest);
  const files = new Map<string, string>();
  const baseline: { tier: string; subtest: string }[] = [];
  if (config.resources.inheritBaseline) {
    for (const dep of tierConfig(session, tier).dependsOn) {
      const tierActor = session.actors.get(streams.tier(session.key, dep));
      const best = tierActor ? contextOf(tierActor, 'tier').best : null;
      if (!best) continue;
      const inherited = resourcesOf(session, dep, best.subtest);
      baseline.push({ tier: dep, subtest: best.subtest }, ...inherited.baseline);
      for (const f of inherited.files) files.set(f.dest, f.source);
    }
  }
  for (const [dest, source] of Object.entries(config.resources.files)) files.set(dest, source);
  return { files: [...files].map(([dest, source]) => ({ dest, source })), baseline };
}

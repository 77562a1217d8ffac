import { cpSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { EffectFailure, outputOf } from '../../engine/effects.js';
import type { SubtestConfig } from '../../schemas/config.js';
import { addWorktree, captureDiff, commitAll } from '../../workspace/git.js';
import { runContext } from './run-context.js';
import { preparedRepo, subtestConfig, tierConfig, type RunnerEffect, type Session } from '../session.js';
import { streams } from '../paths.js';

/** SPEC §2.4: the workspace stages of a run, each idempotent so a restarted effect is harmless. */
export const runStages: Record<'createRunDir' | 'createWorktree' | 'applyResources' | 'commitResources' | 'writePrompt' | 'commitChanges' | 'captureDiff', RunnerEffect> = {
  async createRunDir(ctx, session) {
    const { paths } = runContext(ctx, session);
    for (const dir of [paths.agentDir, paths.judgeDir]) mkdirSync(dir, { recursive: true });
    return { output: { runDir: paths.dir } };
  },

  async createWorktree(ctx, session) {
    const { paths } = runContext(ctx, session);
    const { repoDir, commit } = preparedRepo(session);
    await addWorktree(repoDir, paths.workspace, commit);
    return { output: { workspace: paths.workspace, commit } };
  },

  async applyResources(ctx, session) {
    const run = runContext(ctx, session);
    const files = resourcesOf(session, run.tier, run.subtest);
    for (const { dest, source } of files.files) {
      const target = insideWorkspace(run.paths.workspace, dest);
      mkdirSync(dirname(target), { recursive: true });
      // a symlink in the task (e.g. out -> /elsewhere) must not carry the copy out of the workspace
      if (!isWithinReal(run.paths.workspace, dirname(target))) {
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
      const best = (session.actors.get(streams.tier(session.key, dep))?.snapshot.context as { best?: { subtest: string } | null } | undefined)?.best;
      if (!best) continue;
      const inherited = resourcesOf(session, dep, best.subtest);
      baseline.push({ tier: dep, subtest: best.subtest }, ...inherited.baseline);
      for (const f of inherited.files) files.set(f.dest, f.source);
    }
  }
  for (const [dest, source] of Object.entries(config.resources.files)) files.set(dest, source);
  return { files: [...files].map(([dest, source]) => ({ dest, source })), baseline };
}

function isWithinReal(dir: string, path: string): boolean {
  const rel = relative(realpathSync(dir), realpathSync(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function insideWorkspace(workspace: string, dest: string): string {
  const target = resolve(workspace, dest);
  const rel = relative(workspace, target);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('.git')) {
    throw new EffectFailure(`resource destination "${dest}" is outside the workspace or inside .git`, false);
  }
  return target;
}

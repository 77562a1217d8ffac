import type { EffectContext } from '../../engine/index.js';
import { contextOf } from '../../machines/index.js';
import { subtestConfig, tierConfig, type Session } from '../session.js';

/** Everything a run effect needs to know about its run: identity, config, files. */
export function runContext(ctx: EffectContext, session: Session) {
  const { tier, subtest, run } = contextOf(ctx.actor, 'run');
  return {
    tier,
    subtest,
    run,
    tierConfig: tierConfig(session, tier),
    subtestConfig: subtestConfig(session, tier, subtest),
    paths: session.paths.run(tier, subtest, run),
  };
}

export type RunEffectContext = ReturnType<typeof runContext>;

/** The environment both the agent and the judges get (their own `env` comes on top for the agent). */
export function runEnvironment(session: Session, run: RunEffectContext, effectKey: string): Record<string, string> {
  return {
    EXPCTL_EXPERIMENT: session.key,
    EXPCTL_TIER: run.tier,
    EXPCTL_SUBTEST: run.subtest,
    EXPCTL_RUN: String(run.run),
    EXPCTL_WORKSPACE: run.paths.workspace,
    EXPCTL_RUN_DIR: run.paths.dir,
    EXPCTL_PROMPT_FILE: run.paths.prompt,
    // lets a later driver find and stop this process even if it died before recording its pid
    EXPCTL_EFFECT_KEY: effectKey,
  };
}

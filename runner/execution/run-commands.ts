import { readFileSync, writeFileSync } from 'node:fs';
import { EffectFailure, outputOf, type EffectContext } from '../../engine/index.js';
import { formatPath } from '../../schemas/issues.js';
import { JudgeVerdict } from '../../schemas/results.js';
import { consensus } from '../../analysis/aggregate.js';
import { resetWorkspace } from '../../workspace/git.js';
import type { Executor } from '../../workspace/executor.js';
import { lastJsonLine, resolveCommand, type CommandResult } from '../../workspace/process.js';
import type { StoredRow } from '../../store/types.js';
import type { RunnerEffect, Session } from '../session.js';
import { failureExcerpt, redactFile, redactSecrets, tail, usageOf } from './command-output.js';
import { detectRateLimit, rateLimitCapReached } from './rate-limit.js';
import { runContext, runEnvironment, type RunEffectContext } from './run-context.js';

/**
 * The agent and judge steps of a run (docs/design.md §2.4): real commands,
 * argv only, in the run's workspace, handed to `executor` (by default under
 * supervisors that outlive the driver, so a resumed step collects them).
 */
export const commandStages = (executor: Executor): Record<'runAgent' | 'runJudges', RunnerEffect> => ({
  async runAgent(ctx, session) {
    const run = runContext(ctx, session);
    const { agent } = session.config;
    const result = await execute(ctx, session, run, agent.command, {
      executor, name: 'agent', stateFile: run.paths.agentCommand,
      // an agent started again starts from the committed resources, not from what a killed attempt left behind (one collected keeps its work);
      // a first attempt no earlier driver started finds it as commitResources left it (an operator's reset rebuilds it: reexecute.ts)
      prepare: ctx.resumed || ctx.request.attempt > 1 ? () => resetWorkspace(run.paths.workspace, outputOf<{ commit: string }>(ctx.history(), 'commitResources')!.commit) : undefined,
      env: { ...agent.env, ...secretValues(agent.secretEnv), ...runEnvironment(session, run, ctx.request.key) },
      timeoutSeconds: agent.timeoutSeconds,
      stdoutFile: run.paths.stdout,
      stderrFile: run.paths.stderr,
    });
    const stdout = tail(run.paths.stdout);
    const usage = usageOf(stdout);
    const now = session.clock();
    const rateLimit = detectRateLimit(session.config, result, `${stdout}\n${tail(run.paths.stderr)}`, lastJsonLine(stdout), now);
    if (rateLimit) {
      const cap = rateLimitCapReached(session.config, ctx, rateLimit, now);
      // the spend of a rate-limited attempt is recorded with its failure, so it counts
      if (cap) throw new EffectFailure(`agent rate limited (${rateLimit.reason}) and not retried: ${cap}`, false, undefined, usage);
      throw new EffectFailure(`agent rate limited (${rateLimit.reason}); retrying after ${new Date(rateLimit.retryAt).toISOString()}`, true, rateLimit, usage);
    }
    return { output: { exitCode: result.exitCode, timedOut: result.timedOut, durationMs: result.durationMs, ...usage } };
  },

  async runJudges(ctx, session) {
    const run = runContext(ctx, session);
    const verdicts: JudgeVerdict[] = [];
    const durationsMs: number[] = [];
    for (const [i, judge] of session.config.judges.entries()) {
      const env = { ...secretValues(judge.secretEnv), ...runEnvironment(session, run, ctx.request.key), EXPCTL_AGENT_STDOUT: run.paths.stdout, EXPCTL_DIFF: run.paths.diff };
      const result = await execute(ctx, session, run, judge.command, {
        executor, name: `judge-${i + 1}`, stateFile: run.paths.judgeCommand(i), env, timeoutSeconds: judge.timeoutSeconds, stdoutFile: run.paths.judgeStdout(i), stderrFile: run.paths.judgeStderr(i),
      });
      const verdict = verdictOf(session, run, i, result);
      writeFileSync(run.paths.judgeVerdict(i), `${JSON.stringify(verdict, null, 2)}\n`);
      verdicts.push(verdict);
      durationsMs.push(result.durationMs);
    }
    return { output: { ...consensus(verdicts), verdicts, durationsMs } };
  },
});

/** Judge `i`'s verdict, or why it gave none: its exit, the lines of its stderr that say why, or what is wrong with its JSON. */
function verdictOf(session: Session, run: RunEffectContext, i: number, result: CommandResult): JudgeVerdict {
  const judge = session.config.judges[i]!;
  const name = `judge ${i + 1}${judge.id ? ` (${judge.id})` : ''}`;
  const secrets = secretsOf(session);
  if (result.timedOut || result.exitCode !== 0) {
    const why = result.timedOut ? `timed out after ${judge.timeoutSeconds} s` : `exited with ${result.exitCode ?? result.signal}`;
    throw new EffectFailure(redactSecrets(`${name} ${why}: ${failureExcerpt(tail(run.paths.judgeStderr(i), 64 * 1024))}`, secrets), true);
  }
  const parsed = JudgeVerdict.safeParse(lastJsonLine(tail(run.paths.judgeStdout(i))));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EffectFailure(`${name} printed no valid verdict (${issue ? `${formatPath(issue.path)}: ${issue.message}` : 'no JSON line'}); see ${run.paths.judgeStdout(i)}`, true);
  }
  return JSON.parse(redactSecrets(JSON.stringify(parsed.data), secrets)) as JudgeVerdict;
}

interface ExecuteOptions {
  executor: Executor;
  /** Which command of the step: `agent`, `judge-1`, …; with the effect's key it names the execution. */
  name: string;
  stateFile: string;
  prepare?: () => Promise<void>;
  env: Record<string, string>;
  timeoutSeconds: number;
  stdoutFile: string;
  stderrFile: string;
}

async function execute(ctx: EffectContext, session: Session, run: RunEffectContext, template: string[], options: ExecuteOptions): Promise<CommandResult> {
  const vars = { prompt: readFileSync(run.paths.prompt, 'utf8'), promptFile: run.paths.prompt, workspace: run.paths.workspace, runDir: run.paths.dir };
  const result = await options.executor.run({
    key: `${ctx.request.key}#${options.name}`,
    argv: resolveCommand(template, { configDir: session.configDir, vars }),
    cwd: run.paths.workspace,
    env: options.env,
    timeoutMs: options.timeoutSeconds * 1000,
    stdoutFile: options.stdoutFile,
    stderrFile: options.stderrFile,
    stateFile: options.stateFile,
    hostDir: session.paths.executorHosts,
    prepare: options.prepare,
    resumed: ctx.resumed,
    notBefore: enteredAt(ctx.history()),
    signal: ctx.signal,
    // the template, not the expanded argv: the prompt text is in the run directory already
    onStart: (p) => ctx.recordStart({ pid: p.pid, pgid: p.pgid, startTicks: p.startTicks, command: template, supervisor: p.supervisor }),
    onAdopt: (a) => ctx.recordAdoption({ command: options.name, state: a.state, pgid: a.pgid, supervisor: a.supervisor, startedAt: a.startedAt }),
  });
  if (result.aborted) throw new Error('stopped');
  const secrets = secretsOf(session);
  for (const file of [options.stdoutFile, options.stderrFile]) redactFile(file, secrets);
  return result;
}

/** When the run entered the state of this attempt: its last row that is not a command's start or adoption (earlier executions are older). */
function enteredAt(history: readonly StoredRow[]): number {
  const entry = [...history].reverse().find((row) => row.event.type !== 'effect.started' && row.event.type !== 'effect.adopted');
  return entry ? Date.parse(entry.at) : 0;
}

/** The secret variables a command gets, from the driver's environment (pre-flight checked they are set). */
function secretValues(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
}

/** Every secret of the config with its value, to keep them out of what expctl records. */
function secretsOf(session: Session): Map<string, string> {
  const names = [...session.config.agent.secretEnv, ...session.config.judges.flatMap((j) => j.secretEnv)];
  return new Map(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]!] as const] : [])));
}

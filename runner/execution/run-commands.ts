import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { EffectFailure, outputOf, type EffectContext } from '../../engine/index.js';
import type { ExperimentConfig } from '../../schemas/config.js';
import { AgentUsage, JudgeVerdict } from '../../schemas/results.js';
import { formatPath } from '../../schemas/issues.js';
import { resetWorkspace } from '../../workspace/git.js';
import { lastJsonLine, resolveCommand, runCommand, type CommandResult, type StartedProcess } from '../../workspace/process.js';
import { consensus } from '../../results/aggregate.js';
import { runContext, runEnvironment, type RunEffectContext } from './run-context.js';
import type { RunnerEffect, Session } from '../session.js';

/** The agent and judge steps of a run (docs/design.md §2.4): real commands, argv only, in the run's workspace. */
export const commandStages: Record<'runAgent' | 'runJudges', RunnerEffect> = {
  async runAgent(ctx, session) {
    const run = runContext(ctx, session);
    const { agent } = session.config;
    // a restarted agent starts from the committed resources, not from what a killed attempt left behind
    await resetWorkspace(run.paths.workspace, outputOf<{ commit: string }>(ctx.history(), 'commitResources')!.commit);
    const result = await execute(ctx, session, run, agent.command, {
      env: { ...agent.env, ...runEnvironment(session, run, ctx.request.key) },
      timeoutSeconds: agent.timeoutSeconds,
      stdoutFile: run.paths.stdout,
      stderrFile: run.paths.stderr,
    });
    const stdout = tail(run.paths.stdout);
    const usageLine = lastJsonLine(stdout);
    const rateLimit = detectRateLimit(session.config, result, `${stdout}\n${tail(run.paths.stderr)}`, usageLine, session.clock());
    if (rateLimit) throw new EffectFailure(`agent rate limited (${rateLimit.reason}); retrying after ${new Date(rateLimit.retryAt).toISOString()}`, true, rateLimit);
    return { output: { exitCode: result.exitCode, timedOut: result.timedOut, durationMs: result.durationMs, ...usageOf(usageLine) } };
  },

  async runJudges(ctx, session) {
    const run = runContext(ctx, session);
    const env = { ...runEnvironment(session, run, ctx.request.key), EXPCTL_AGENT_STDOUT: run.paths.stdout, EXPCTL_DIFF: run.paths.diff };
    const verdicts: JudgeVerdict[] = [];
    const durationsMs: number[] = [];
    for (const [i, judge] of session.config.judges.entries()) {
      const name = `judge ${i + 1}${judge.id ? ` (${judge.id})` : ''}`;
      const result = await execute(ctx, session, run, judge.command, {
        env,
        timeoutSeconds: judge.timeoutSeconds,
        stdoutFile: run.paths.judgeStdout(i),
        stderrFile: run.paths.judgeStderr(i),
      });
      if (result.timedOut || result.exitCode !== 0) {
        const why = result.timedOut ? `timed out after ${judge.timeoutSeconds} s` : `exited with ${result.exitCode ?? result.signal}`;
        throw new EffectFailure(`${name} ${why}: ${lastLine(tail(run.paths.judgeStderr(i))) || 'no stderr'}`, true);
      }
      const parsed = JudgeVerdict.safeParse(lastJsonLine(tail(run.paths.judgeStdout(i))));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new EffectFailure(`${name} printed no valid verdict (${issue ? `${formatPath(issue.path)}: ${issue.message}` : 'no JSON line'}); see ${run.paths.judgeStdout(i)}`, true);
      }
      writeFileSync(run.paths.judgeVerdict(i), `${JSON.stringify(parsed.data, null, 2)}\n`);
      verdicts.push(parsed.data);
      durationsMs.push(result.durationMs);
    }
    return { output: { ...consensus(verdicts), verdicts, durationsMs } };
  },
};

interface ExecuteOptions {
  env: Record<string, string>;
  timeoutSeconds: number;
  stdoutFile: string;
  stderrFile: string;
}

async function execute(ctx: EffectContext, session: Session, run: RunEffectContext, template: string[], options: ExecuteOptions): Promise<CommandResult> {
  const vars = { prompt: readText(run.paths.prompt), promptFile: run.paths.prompt, workspace: run.paths.workspace, runDir: run.paths.dir };
  const result = await runCommand({
    argv: resolveCommand(template, { configDir: session.configDir, vars }),
    cwd: run.paths.workspace,
    env: options.env,
    timeoutMs: options.timeoutSeconds * 1000,
    stdoutFile: options.stdoutFile,
    stderrFile: options.stderrFile,
    signal: ctx.signal,
    // the template, not the expanded argv: the prompt text is in the run directory already
    onStart: (p: StartedProcess) => ctx.recordStart({ pid: p.pid, pgid: p.pgid, startTicks: p.startTicks, command: template }),
  });
  if (result.aborted) throw new Error('stopped');
  return result;
}

/** Tokens and cost from the agent's usage line; missing values are unknown (null), never zero (docs/design.md §6). */
function usageOf(line: Record<string, unknown> | null): { tokens: number | null; costUsd: number | null } {
  const usage = AgentUsage.safeParse(line ?? {});
  if (!usage.success) return { tokens: null, costUsd: null };
  const { tokens, costUsd } = usage.data;
  const total = typeof tokens === 'number' ? tokens : tokens ? (tokens.total ?? sum(tokens.input, tokens.output)) : null;
  return { tokens: total ?? null, costUsd: costUsd ?? null };
}

const sum = (a?: number, b?: number) => (a === undefined && b === undefined ? null : (a ?? 0) + (b ?? 0));

/**
 * docs/design.md §2.6: a rate limit is the configured exit code or output pattern. The
 * wait is the agent's `retryAfterSeconds` (usage line) or a "retry after N"
 * in its output, else the configured default.
 */
export function detectRateLimit(
  config: ExperimentConfig,
  result: CommandResult,
  output: string,
  usageLine: Record<string, unknown> | null,
  now: number,
): { retryAt: number; reason: string } | null {
  const rule = config.agent.rateLimit;
  if (!rule) return null;
  const byCode = rule.exitCode !== undefined && result.exitCode === rule.exitCode;
  const byPattern = rule.outputPattern !== undefined && new RegExp(rule.outputPattern, 'i').test(output);
  if (!byCode && !byPattern) return null;
  const stated = Number(usageLine?.retryAfterSeconds ?? /retry[- _]?after\D{0,10}(\d+(?:\.\d+)?)/i.exec(output)?.[1]);
  const seconds = Number.isFinite(stated) && stated > 0 ? stated : rule.defaultWaitSeconds;
  return { retryAt: now + seconds * 1000, reason: byCode ? `exit code ${result.exitCode}` : `output matched /${rule.outputPattern}/` };
}

const TAIL_BYTES = 1024 * 1024;

/** The last MiB of a file: enough for the usage line and rate-limit messages of any agent. */
function tail(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const readText = (file: string) => readFileSync(file, 'utf8');
const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

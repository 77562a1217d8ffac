import { existsSync } from 'node:fs';
import { isFinal, outputOf, stateMeta, type ReplayedActor } from '../../engine/index.js';
import { contextOf, experimentMachine, identityOf, parentOf, runMachine, tierMachine } from '../../machines/index.js';
import type { Operator } from '../../schemas/events.js';
import { UsageError } from '../../util/errors.js';
import { addWorktree, resetWorkspace } from '../../workspace/git.js';
import { positionOf, resumeTarget, stateIndex, waitingState } from '../actor-tree.js';
import type { ExperimentLog, PreparedRepo } from '../log.js';
import type { ExperimentPaths } from '../paths.js';
import { retriedNotice, type OperatorEvent } from './resume.js';

export type ResetLevel = 'experiment' | 'tier' | 'run';

/** `--from-run STATE` (or tier/experiment) with its filters. */
export interface FromSpec {
  level: ResetLevel;
  state: string;
  tiers?: string[];
  subtests?: string[];
  runs?: number[];
  status?: 'passed' | 'failed';
}

/** One recorded step of a re-execution: a parent forgets a child's outcome, or an actor goes back to a state. */
export type ResetStep =
  | { op: 'forget'; stream: string; child: string; kind: string; why: string }
  | { op: 'reset'; stream: string; to: string; why: string };

const MACHINES = { experiment: experimentMachine, tier: tierMachine, run: runMachine } as const;

export class UnknownStateError extends UsageError {
  constructor(flag: string, state: string, valid: string[]) {
    super(`${flag}: unknown state "${state}"`, `valid states: ${valid.join(', ')}`);
  }
}

/** The states a `--from-<level>` flag may send actors back to: every state of that level's machine. */
export function resettableStates(level: ResetLevel): string[] {
  return Object.keys(MACHINES[level].states);
}

/** The state names an `--until-<level>` / `--from-<level>` flag accepts; throws (exit 2) listing them otherwise. */
export function checkStateName(flag: string, level: ResetLevel, state: string): string {
  const valid = resettableStates(level);
  if (!valid.includes(state)) throw new UnknownStateError(flag, state, valid);
  return state;
}

/** What a re-execution plan reads: the live actors and the log. */
export interface ResetScope {
  key: string;
  store: ExperimentLog;
  actors: ReadonlyMap<string, ReplayedActor>;
}

/**
 * Plan a re-execution (pure): the selected actors go back to `spec.state`;
 * their parents forget their outcomes and, if already past waiting for them,
 * go back to their waiting state, up to the experiment. Earlier history stays.
 */
export function planResets(scope: ResetScope, spec: FromSpec): ResetStep[] {
  const selected = [...scope.actors.values()].filter((a) => a.entry.id === spec.level && matches(scope, a, spec));
  const steps: ResetStep[] = [];
  const parentTargets = new Map<string, string>();
  const forgotten = new Set<string>();
  for (const actor of selected) cascadeUp(scope.actors, actor, steps, parentTargets, forgotten);
  // parents go back first (top down), then the selected actors
  const parents = [...parentTargets].sort(([a], [b]) => a.split('/').length - b.split('/').length);
  for (const [stream, to] of parents) steps.push({ op: 'reset', stream, to, why: 'a child is redone' });
  for (const actor of selected) steps.push({ op: 'reset', stream: actor.stream, to: spec.state, why: 'selected' });
  return steps;
}

/** Whether a completed run passed, from its recorded result (null when it has none). */
export function runPassed(store: ExperimentLog, run: ReplayedActor): boolean | null {
  return outputOf<{ passed: boolean }>(store.readStream(run.stream), 'buildRunResult')?.passed ?? null;
}

function matches(scope: ResetScope, actor: ReplayedActor, spec: FromSpec): boolean {
  // only actors at or past the state go back; the others carry on as they are
  if (positionOf(actor) < stateIndex(actor, spec.state)) return false;
  const c = identityOf(actor);
  if (spec.tiers && !spec.tiers.includes(c.tier ?? '')) return false;
  if (spec.subtests && !spec.subtests.includes(c.subtest ?? '')) return false;
  if (spec.runs && !spec.runs.includes(c.run ?? -1)) return false;
  if (!spec.status) return true;
  const passed = () => runPassed(scope.store, actor);
  const failed = stateMeta(actor.snapshot).outcome === 'failed' || (spec.level === 'run' && isFinal(actor.snapshot) && passed() === false);
  const ok = isFinal(actor.snapshot) && (spec.level !== 'run' || passed() === true);
  return spec.status === 'failed' ? failed : ok;
}

function cascadeUp(actors: ReadonlyMap<string, ReplayedActor>, actor: ReplayedActor, steps: ResetStep[], targets: Map<string, string>, forgotten: Set<string>): void {
  if (!actor.parent) return;
  const parent = actors.get(actor.parent);
  if (!parent) return;
  const child = actor.stream.slice(parent.stream.length + 1);
  const { children } = parentOf(parent);
  if (children[child] !== undefined && !forgotten.has(actor.stream)) {
    forgotten.add(actor.stream);
    steps.push({ op: 'forget', stream: parent.stream, child, kind: actor.entry.id, why: `${actor.entry.id} ${child} is redone` });
  }
  if (isPastWaiting(parent) && !targets.has(parent.stream)) {
    targets.set(parent.stream, waitingState(parent)!);
    cascadeUp(actors, parent, steps, targets, forgotten);
  }
}

/** Whether a parent has moved on from waiting for its children (or ended while waiting). */
function isPastWaiting(parent: ReplayedActor): boolean {
  const awaiting = waitingState(parent)!;
  const order = Object.keys(parent.entry.machine.states);
  const at = (state: string) => order.indexOf(state);
  const state = String(parent.snapshot.value);
  const resumeTo = resumeTarget(parent);
  if (state === awaiting) return false;
  if (isFinal(parent.snapshot)) return true;
  if (resumeTo) return at(resumeTo) >= at(awaiting);
  return at(state) > at(awaiting) && at(state) < order.length;
}

/**
 * The plan as one decision (one append: forgets, then resets, each an
 * operator event), after restoring the workspace of every run sent back past
 * its workspace steps, so only the work after the state is redone.
 */
export async function resetEvents(scope: ResetScope & { paths: ExperimentPaths; operator: Operator; repo: () => Promise<PreparedRepo> }, steps: ResetStep[]): Promise<{ applied: ResetStep[]; events: OperatorEvent[] }> {
  const applied: ResetStep[] = [];
  for (const step of steps) {
    const actor = scope.actors.get(step.stream)!;
    const to = step.op === 'reset' && actor.entry.id === 'run' ? await restoreWorkspace(scope, actor, step.to) : null;
    applied.push(step.op === 'reset' ? { ...step, to: to ?? step.to } : step);
  }
  const events = applied.map((step): OperatorEvent => ({
    stream: step.stream,
    event: step.op === 'forget' ? retriedNotice(scope.actors.get(`${step.stream}/${step.child}`)!) : { type: 'operator.reset', data: { to: step.to, operator: scope.operator } },
    cause: 'operator',
  }));
  return { applied, events };
}

const RUN_ORDER = Object.keys(runMachine.states);
const after = (state: string, than: string) => RUN_ORDER.indexOf(state) >= RUN_ORDER.indexOf(than);

/** Run states between the worktree's creation and its diff: a run there needs its workspace as it was. */
export const MID_WORKSPACE_STATES = RUN_ORDER.filter((s) => after(s, 'run_worktree_created') && !after(s, 'run_judge_complete'));

/**
 * Give a run going back to `to` the workspace that state expects: the task
 * commit, the committed resources, or the agent's committed changes. A state
 * whose workspace cannot be rebuilt falls back to the nearest earlier one that
 * can (uncommitted resources: re-apply them; the agent's uncommitted changes of
 * a lost workspace: run the agent again). Returns the state to reset to.
 */
export async function restoreWorkspace(scope: { key: string; store: ExperimentLog; paths: ExperimentPaths; repo: () => Promise<PreparedRepo> }, run: ReplayedActor, to: string): Promise<string> {
  if (!after(to, 'run_worktree_created')) return to;
  const history = scope.store.readStream(run.stream);
  const commit = (effect: string) => outputOf<{ commit: string }>(history, effect)?.commit;
  const { tier, subtest, run: n } = contextOf(run, 'run');
  const workspace = scope.paths.run(tier, subtest, n).workspace;
  const present = existsSync(workspace);
  if (to === 'run_agent_complete' && !commit('commitChanges')) return present ? to : restoreWorkspace(scope, run, 'run_prompt_written');
  const target = after(to, 'run_agent_complete') ? commit('commitChanges') : after(to, 'run_config_committed') ? commit('commitResources') : commit('createWorktree');
  if (!target) return restoreWorkspace(scope, run, 'run_dir_created');
  if (present) await resetWorkspace(workspace, target);
  else await addWorktree((await scope.repo()).repoDir, workspace, target);
  return to === 'run_resources_applied' ? 'run_worktree_created' : to;
}

/** A readable line per step, for `--dry-run` and the run's own output. */
export function describeResets(steps: ResetStep[], key: string): string[] {
  const name = (stream: string) => stream.slice(key.length + 1) || 'experiment';
  return steps.map((s) => (s.op === 'forget' ? `${name(s.stream)} forgets ${s.kind} ${s.child} (${s.why})` : `${name(s.stream)} → ${s.to} (${s.why})`));
}

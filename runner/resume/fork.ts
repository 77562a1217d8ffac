import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyMachineSnapshot } from 'xstate';
import { createStep, eventStep, lookupMachine, verifyLog, type Registry, type ReplayedActor } from '../../engine/index.js';
import { lifecycleRegistry } from '../../machines/index.js';
import { Id } from '../../schemas/ids.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import type { AppendRow, EventStore, StoredRow } from '../../store/types.js';
import { ExpctlError } from '../../util/errors.js';
import { currentOperator } from '../operator.js';
import { experimentPaths } from '../paths.js';
import { restoreWorkspace } from './reexecute.js';
import { createResume } from './resume.js';

export interface ForkRequest {
  store: EventStore;
  resultsDir: string;
  /** The source experiment key. */
  source: string;
  /** Keep the source's rows up to and including this seq. */
  at: number;
  /** The new experiment's id (default `<source>-fork-<seq>`). */
  id?: string;
  reason?: string;
  registry?: Registry;
}

export interface ForkResult {
  key: string;
  rows: number;
  from: { experiment: string; seq: number };
  /** Runs whose workspace could not be kept as it was at the fork point, and where they go back to. */
  reset: string[];
}

/**
 * A new experiment whose history is the source's prefix up to `at`: every
 * event re-applied through the machines under the new key (so every row
 * verifies), then `experiment.forked` naming the parent. The source's files
 * are copied (worktrees re-linked to the copy); the source is not changed.
 */
export async function forkExperiment(request: ForkRequest): Promise<ForkResult> {
  const registry = request.registry ?? lifecycleRegistry;
  const { store, source, at } = request;
  const key = request.id ?? `${source.replaceAll('~', '-')}-fork-${at}`;
  checkFork(store, source, at, key);
  const from = experimentPaths(request.resultsDir, source);
  const to = experimentPaths(request.resultsDir, key);
  const operator = currentOperator(request.reason);
  const actors = new Map<string, { snapshot: AnyMachineSnapshot; version: number; machine: string; parent: string | null }>();
  const rows: AppendRow[] = [];
  for (const row of store.readExperiment(source, { toSeq: at })) rows.push(copyRow(row, actors, registry, { source, key, fromDir: from.dir, toDir: to.dir }));
  const forked: LifecycleEvent = { type: 'experiment.forked', data: { from: { experiment: source, seq: at }, operator } };
  rows.push(step(actors, registry, key, forked, new Date().toISOString(), 'operator'));
  copyFiles(from.dir, to.dir);
  store.append(key, rows);
  const reset = await keepWorkspacesConsistent(store, registry, key, request.resultsDir, operator);
  const report = verifyLog(store, registry, key);
  if (!report.ok) throw new ExpctlError('EXPCTL_FORK_INVALID', `the fork ${key} does not verify: ${report.problem!.message}`, 'this is a bug; please report it');
  return { key, rows: report.rows, from: { experiment: source, seq: at }, reset };
}

function checkFork(store: EventStore, source: string, at: number, key: string): void {
  const head = store.head(source)!;
  const rows = [...store.readExperiment(source, { fromSeq: at, toSeq: at })];
  if (!Number.isInteger(at) || rows.length === 0) {
    throw new ExpctlError('EXPCTL_USAGE', `--at ${at} is not a row of experiment ${source}`, `pick a seq from \`expctl history ${source}\` (its last row is ${head.headSeq})`);
  }
  if (!Id.safeParse(key).success) throw new ExpctlError('EXPCTL_USAGE', `"${key}" is not a valid experiment id`, 'use letters, digits, ".", "_" and "-" (--id NEW)');
  if (store.head(key)) throw new ExpctlError('EXPCTL_EXISTS', `experiment ${key} already exists`, 'choose another id with --id NEW');
}

type Actors = Map<string, { snapshot: AnyMachineSnapshot; version: number; machine: string; parent: string | null }>;

/** The same event under the new key; paths into the source's directory now point into the fork's. */
function copyRow(row: StoredRow, actors: Actors, registry: Registry, names: { source: string; key: string; fromDir: string; toDir: string }): AppendRow {
  const rename = (stream: string) => names.key + stream.slice(names.source.length);
  let event = JSON.parse(JSON.stringify(row.event).replaceAll(JSON.stringify(names.fromDir).slice(1, -1), JSON.stringify(names.toDir).slice(1, -1))) as LifecycleEvent;
  if (event.type === 'effect.started') {
    // the source's processes are not the fork's: a resumed fork must never stop them
    const { pid: _pid, pgid: _pgid, startTicks: _ticks, ...data } = event.data;
    event = { type: 'effect.started', data };
  }
  if (event.type === 'actor.created') {
    const input = row.stream === names.source ? { ...(event.data.input as object), experiment: names.key } : event.data.input;
    event = { type: 'actor.created', data: { input, parent: event.data.parent === null ? null : rename(event.data.parent) } };
  }
  if (!actors.has(rename(row.stream))) actors.set(rename(row.stream), { snapshot: null as never, version: 0, machine: row.machine, parent: null });
  return step(actors, registry, rename(row.stream), event, row.at, row.cause);
}

function step(actors: Actors, registry: Registry, stream: string, event: LifecycleEvent, at: string, cause: AppendRow['cause']): AppendRow {
  const actor = actors.get(stream)!;
  const entry = lookupMachine(registry, actor.machine, stream);
  const next = event.type === 'actor.created'
    ? createStep(entry, stream, event.data.input, event.data.parent, { at, cause })
    : eventStep(entry, stream, { snapshot: actor.snapshot, version: actor.version }, event, { at, cause });
  actors.set(stream, { ...actor, snapshot: next.snapshot, version: actor.version + 1 });
  return next.row;
}

/** Copy the experiment's directory and re-link each git worktree to the copied repository (two small files each). */
function copyFiles(fromDir: string, toDir: string): void {
  if (!existsSync(fromDir)) return;
  cpSync(fromDir, toDir, { recursive: true, verbatimSymlinks: true });
  const admin = join(toDir, 'repo', '.git', 'worktrees');
  if (!existsSync(admin)) return;
  for (const name of readdirSync(admin)) {
    const gitdirFile = join(admin, name, 'gitdir');
    if (!existsSync(gitdirFile)) continue;
    const workspaceGit = readFileSync(gitdirFile, 'utf8').trim().replace(fromDir, toDir);
    writeFileSync(gitdirFile, `${workspaceGit}\n`);
    if (existsSync(workspaceGit)) writeFileSync(workspaceGit, `gitdir: ${join(admin, name)}\n`);
  }
}

/**
 * A run caught mid-way at the fork point needs its workspace as it was then;
 * the copy has the source's current one (or none). Rebuild it from recorded
 * commits, or send the run back to where it can be rebuilt.
 */
async function keepWorkspacesConsistent(store: EventStore, registry: Registry, key: string, resultsDir: string, operator: ReturnType<typeof currentOperator>): Promise<string[]> {
  const { actors } = createResume({ registry }).load(store, key);
  const session = { key, store, paths: experimentPaths(resultsDir, key) };
  const moved: string[] = [];
  for (const run of [...actors.values()].filter((a: ReplayedActor) => a.entry.id === 'run')) {
    const state = String(run.snapshot.value);
    if (!['run_worktree_created', 'run_resources_applied', 'run_config_committed', 'run_prompt_written', 'run_agent_complete', 'run_changes_committed', 'run_diff_captured'].includes(state)) continue;
    const target = await restoreWorkspace(session, run, state);
    if (target === state) continue;
    const next = eventStep(run.entry, run.stream, run, { type: 'operator.reset', data: { to: target, operator } }, { at: new Date().toISOString(), cause: 'operator' });
    store.append(key, [next.row]);
    moved.push(`${run.stream.slice(key.length + 1)} → ${target}`);
  }
  return moved;
}

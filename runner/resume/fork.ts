import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyMachineSnapshot } from 'xstate';
import { createStep, eventStep, lookupMachine, stateMeta, verifyLog, type Registry } from '../../engine/index.js';
import type { LifecycleEvent } from '../../schemas/events.js';
import { Id } from '../../schemas/ids.js';
import type { AppendRow, StoredRow } from '../../store/types.js';
import { ExpctlError, UsageError } from '../../util/errors.js';
import { loadVerified, preparedRepo, type ExperimentLog } from '../log.js';
import { currentOperator } from '../operator.js';
import { experimentPaths } from '../paths.js';
import { lifecycleRegistry } from '../registry.js';
import { MID_WORKSPACE_STATES, restoreWorkspace } from './reexecute.js';

export interface ForkRequest {
  store: ExperimentLog;
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
  const actors: Actors = new Map();
  const rows: AppendRow[] = [];
  for (const row of store.readExperiment(source, { toSeq: at })) rows.push(copyRow(row, actors, registry, { source, key, fromDir: from.dir, toDir: to.dir }));
  rows.push(...missingNotices(actors, registry, rows.at(-1)!.at));
  const forked: LifecycleEvent = { type: 'experiment.forked', data: { from: { experiment: source, seq: at }, operator } };
  rows.push(step(actors, registry, key, forked, new Date().toISOString(), 'operator'));
  copyFiles(from.dir, to.dir);
  store.append(key, rows);
  const reset = await keepWorkspacesConsistent(store, registry, key, request.resultsDir, operator);
  const report = verifyLog(store, registry, key);
  if (!report.ok) throw new ExpctlError('EXPCTL_FORK_INVALID', `the fork ${key} does not verify: ${report.problem!.message}`, 'this is a bug; please report it');
  return { key, rows: report.rows, from: { experiment: source, seq: at }, reset };
}

function checkFork(store: ExperimentLog, source: string, at: number, key: string): void {
  const head = store.head(source)!;
  const rows = [...store.readExperiment(source, { fromSeq: at, toSeq: at })];
  if (!Number.isInteger(at) || rows.length === 0) {
    throw new UsageError(`--at ${at} is not a row of experiment ${source}`, `pick a seq from \`expctl history ${source}\` (its last row is ${head.headSeq})`);
  }
  if (!Id.safeParse(key).success) throw new UsageError(`"${key}" is not a valid experiment id`, 'use letters, digits, ".", "_" and "-" (--id NEW)');
  if (store.head(key)) throw new ExpctlError('EXPCTL_EXISTS', `experiment ${key} already exists`, 'choose another id with --id NEW');
}

type Actors = Map<string, { snapshot: AnyMachineSnapshot | null; version: number; machine: string; parent: string | null }>;

/**
 * A row of the source may be cut from the rest of its append: a child's
 * transition to an outcome and the notice to its parent are one append, and
 * `--at` can fall between them. The notices the engine would have appended
 * with it are appended here (up the tree, as the engine does), so no parent
 * waits for a child that already ended.
 */
function missingNotices(actors: Actors, registry: Registry, at: string): AppendRow[] {
  const rows: AppendRow[] = [];
  for (let found = true; found; ) {
    found = false;
    for (const [stream, actor] of actors) {
      const parent = actor.parent ? actors.get(actor.parent) : undefined;
      const outcome = actor.snapshot ? stateMeta(actor.snapshot).outcome : undefined;
      const notice = lookupMachine(registry, actor.machine, stream).notices?.finished;
      if (!parent?.snapshot || !outcome || !notice) continue;
      const child = stream.slice(actor.parent!.length + 1);
      const { expected, children } = parent.snapshot.context as { expected: string[]; children: Record<string, string> };
      if (!expected.includes(child) || children[child] === outcome) continue;
      rows.push(step(actors, registry, actor.parent!, { type: notice, data: { child, outcome } } as LifecycleEvent, at, 'child'));
      found = true;
    }
  }
  return rows;
}

/** Every string in a JSON value with `from` replaced by `to` (paths into the source's folder, wherever they appear). */
function rebased<T>(value: T, from: string, to: string): T {
  if (typeof value === 'string') return value.replaceAll(from, to) as T;
  if (Array.isArray(value)) return value.map((v) => rebased(v, from, to)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rebased(v, from, to)])) as T;
}

/** The same event under the new key; paths into the source's directory now point into the fork's. */
function copyRow(row: StoredRow, actors: Actors, registry: Registry, names: { source: string; key: string; fromDir: string; toDir: string }): AppendRow {
  const rename = (stream: string) => names.key + stream.slice(names.source.length);
  let event = rebased(row.event as LifecycleEvent, names.fromDir, names.toDir);
  if (event.type === 'effect.started') {
    // the source's processes are not the fork's: a resumed fork must never stop them
    const { pid: _pid, pgid: _pgid, startTicks: _ticks, ...data } = event.data;
    event = { type: 'effect.started', data };
  }
  if (event.type === 'actor.created') {
    const input = row.stream === names.source ? { ...(event.data.input as object), experiment: names.key } : event.data.input;
    event = { type: 'actor.created', data: { input, parent: event.data.parent === null ? null : rename(event.data.parent) } };
  }
  if (!actors.has(rename(row.stream))) actors.set(rename(row.stream), { snapshot: null, version: 0, machine: row.machine, parent: event.type === 'actor.created' ? event.data.parent : null });
  return step(actors, registry, rename(row.stream), event, row.at, row.cause);
}

function step(actors: Actors, registry: Registry, stream: string, event: LifecycleEvent, at: string, cause: AppendRow['cause']): AppendRow {
  const actor = actors.get(stream)!;
  const entry = lookupMachine(registry, actor.machine, stream);
  const next = event.type === 'actor.created'
    ? createStep(entry, stream, event.data.input, event.data.parent, { at, cause })
    : eventStep(entry, stream, { snapshot: actor.snapshot!, version: actor.version }, event, { at, cause });
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
async function keepWorkspacesConsistent(store: ExperimentLog, registry: Registry, key: string, resultsDir: string, operator: ReturnType<typeof currentOperator>): Promise<string[]> {
  const { actors } = loadVerified(store, key, registry);
  const scope = { key, store, paths: experimentPaths(resultsDir, key), repo: async () => preparedRepo(store, key) };
  const moved: string[] = [];
  for (const run of [...actors.values()].filter((a) => a.entry.id === 'run')) {
    const state = String(run.snapshot.value);
    if (!MID_WORKSPACE_STATES.includes(state)) continue;
    const target = await restoreWorkspace(scope, run, state);
    if (target === state) continue;
    const next = eventStep(run.entry, run.stream, run, { type: 'operator.reset', data: { to: target, operator } }, { at: new Date().toISOString(), cause: 'operator' });
    store.append(key, [next.row]);
    moved.push(`${run.stream.slice(key.length + 1)} → ${target}`);
  }
  return moved;
}

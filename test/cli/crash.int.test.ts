/**
 * A driver crash costs no agent work (docs/design.md §4, the executor): the
 * built CLI is killed at hundreds of seeded moments and resumed each time.
 * Its agents and judges record every execution (start and end, with times)
 * in a counter file, so the test can tell a repeated execution from a lost
 * one, and can say where each kill landed.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { numericProcEntries } from '../../util/procfs.js';
import { cli, isAlive, startCli } from '../support/cli.js';
import { parseCounter, writeCountingExperiment, type CounterLine } from '../support/cli-experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

/** mulberry32: the kill moments are the same on every run of the test. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<null>((r) => setTimeout(() => r(null), ms));

const EXPERIMENT = {
  runsPerSubtest: 2,
  limits: { maxConcurrentRuns: 3, maxConcurrentAgents: 2 },
  tiers: [
    { id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] },
    { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a' }, { id: 'b', resources: { files: { 'HINT.md': './hint.md' } } }] },
  ],
};
const RUNS = 8;
const env = (counter: string) => ({ COUNTER_FILE: counter, AGENT_SLEEP_MS: '400', JUDGE_SLEEP_MS: '150' });

/** What must not depend on interruptions: every run's outcome, scores, usage and diff. */
function runResults(results: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const file of readdirSync(join(results, 'exp-1'), { recursive: true }).map(String).filter((f) => /run-\d+\/result\.json$/.test(f)).sort()) {
    const r = JSON.parse(readFileSync(join(results, 'exp-1', file), 'utf8'));
    out[file] = { passed: r.passed, score: r.score, grade: r.grade, tokens: r.agent.tokens, costUsd: r.agent.costUsd, exitCode: r.agent.exitCode, diff: r.diff };
  }
  return out;
}

type Row = { stream: string; type: string; data: string; state: string; at: string };

function logRows(results: string): Row[] {
  const file = join(results, 'expctl.db');
  if (!existsSync(file)) return [];
  // not readonly: right after a SIGKILL the WAL may need recovering, which a read-only connection cannot do
  // ("attempt to write a readonly database"); no driver runs while the test reads
  const db = new Database(file, { fileMustExist: true });
  try {
    // killed while the log was being created: no table yet
    if (!db.prepare("SELECT name FROM sqlite_master WHERE name = 'events'").get()) return [];
    return db.prepare("SELECT stream, type, data, state, at FROM events WHERE experiment = 'exp-1' ORDER BY seq").all() as Row[];
  } finally {
    db.close();
  }
}

/** How many rows the log holds now (0 before it exists). */
function rowCount(results: string): number {
  const file = join(results, 'expctl.db');
  if (!existsSync(file)) return 0;
  const db = new Database(file, { fileMustExist: true });
  try {
    if (!db.prepare("SELECT name FROM sqlite_master WHERE name = 'events'").get()) return 0;
    return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Resolves once the log has more rows than `rows` (the drive has begun), or the drive has ended. */
async function grown(results: string, rows: number, ended: Promise<unknown>): Promise<void> {
  let done = false;
  void ended.then(() => (done = true));
  while (!done && rowCount(results) <= rows) await sleep(15);
}

const counterOf = (file: string): CounterLine[] => (existsSync(file) ? parseCounter(readFileSync(file, 'utf8')) : []);

const STEPS = [['agent', 'runAgent', '"run_prompt_written"'], ['judge', 'runJudges', '"run_diff_captured"']] as const;

/** Where a kill landed, for each run: read from the log and the counter right after it. */
function moments(results: string, counter: string): Set<string> {
  const rows = logRows(results);
  const lines = counterOf(counter);
  const found = new Set<string>();
  const runs = new Set(rows.filter((r) => r.stream.split('/').length === 4).map((r) => r.stream));
  for (const stream of runs) {
    const run = stream.slice('exp-1/'.length);
    const own = rows.filter((r) => r.stream === stream);
    const state = own.at(-1)!.state;
    for (const [who, effect, actionState] of STEPS) {
      const about = own.filter((r) => (JSON.parse(r.data) as { effect?: string }).effect === effect);
      const recorded = about.some((r) => r.type === 'effect.started' || r.type === 'effect.adopted');
      const completed = about.some((r) => r.type === 'effect.completed');
      const starts = lines.filter((l) => l.run === run && l.who === who && l.what === 'start').length;
      const ends = lines.filter((l) => l.run === run && l.who === who && l.what === 'end').length;
      if (state === actionState && starts === 0) found.add('between the append that starts the step and the spawn');
      if (starts > 0 && !recorded && !completed) found.add('between the spawn and the record of its start');
      if (starts > ends) found.add(who === 'agent' ? 'while the agent runs' : 'while judging');
      if (ends > 0 && !completed) found.add('between the command\'s exit and the append of its completion');
    }
    if (state === '"run_finalized"' || state === '"run_report_written"') found.add('during cleanup');
  }
  return found;
}

/** Processes that belong to this results directory (a command or supervisor of one of its runs). */
function processesOf(results: string): number[] {
  return numericProcEntries().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`EXPCTL_RUN_DIR=${results}`);
    } catch {
      return false;
    }
  });
}

interface Storm { kills: number; moments: Map<string, number> }

/** Drive one experiment to its end, killing the driver (`kill`) at seeded moments, at most `limit` times. */
async function stormed(results: string, config: string, counter: string, random: () => number, limit: number, kill: (child: ReturnType<typeof startCli>) => Promise<void>, wrap?: (args: string[]) => string[]): Promise<Storm> {
  const storm: Storm = { kills: 0, moments: new Map() };
  for (let attempt = 0; ; attempt++) {
    expect(attempt, 'the experiment should finish').toBeLessThan(limit + 40);
    const args = ['--results-dir', results, 'run', config];
    const child = wrap ? startRaw(wrap(args), counter) : startCli(args, { env: env(counter) });
    if (storm.kills >= limit) {
      await expectCompleted(await child.result, results);
      return storm;
    }
    // a quarter of the kills land at a moment of the process's start-up, the rest at a moment of its drive (after
    // its first row): how long start-up takes varies with the machine, and must not decide whether kills reach the runs
    const delay = 60 + random() * 900;
    const early = random() < 0.25;
    const rows = rowCount(results);
    const ended = await Promise.race([child.result, early ? sleep(delay) : grown(results, rows, child.result).then(() => sleep(delay - 60))]);
    if (ended) {
      await expectCompleted(ended, results);
      return storm;
    }
    await kill(child);
    storm.kills += 1;
    for (const m of moments(results, counter)) storm.moments.set(m, (storm.moments.get(m) ?? 0) + 1);
  }
}

/** The drive completed; if not, say why each run that did not pass did not. */
async function expectCompleted(result: { code: number | null; stderr: string }, results: string): Promise<void> {
  if (result.code === 0) return;
  const failed = await cli(['--results-dir', results, 'report', 'exp-1', '--failed']);
  expect(result.code, `${result.stderr}\n${failed.stdout}`).toBe(0);
}

function startRaw(argv: string[], counter: string): ReturnType<typeof startCli> {
  return startCli(argv.slice(1), { env: env(counter), program: argv[0] });
}

describe('a driver crash costs no agent work', () => {
  it('killed with SIGKILL at 200+ seeded moments (agents left alive): no agent or judge runs twice, none is lost, the results are those of an uninterrupted run', async () => {
    const dir = tempDir();
    const config = writeCountingExperiment(dir, EXPERIMENT);
    const baseline = await cli(['--results-dir', join(dir, 'baseline'), 'run', config], { env: env(join(dir, 'baseline.counter')) });
    expect(baseline.code, baseline.stderr).toBe(0);
    const want = runResults(join(dir, 'baseline'));

    const total: Storm = { kills: 0, moments: new Map() };
    const instance = async (i: number) => {
      const results = join(dir, `storm-${i}`);
      const counter = join(dir, `storm-${i}.counter`);
      const storm = await stormed(results, config, counter, seeded(20261201 + i), 30, async (child) => {
        child.kill('SIGKILL');
        await child.result;
      });
      total.kills += storm.kills;
      for (const [m, n] of storm.moments) total.moments.set(m, (total.moments.get(m) ?? 0) + n);
      // every agent and judge ran exactly once: none repeated, none lost
      const lines = counterOf(counter);
      for (const who of ['agent', 'judge']) {
        const starts = lines.filter((l) => l.who === who && l.what === 'start');
        const ends = lines.filter((l) => l.who === who && l.what === 'end');
        expect(starts.map((l) => l.run).sort(), `${who} executions in ${results}`).toEqual([...new Set(starts.map((l) => l.run))].sort());
        expect(starts).toHaveLength(RUNS);
        const lost = starts.filter((st) => !ends.some((e) => e.run === st.run)).map((st) => {
          const [tier, subtest, run] = st.run.split('/');
          const at = join(results, 'exp-1', tier!, subtest!, `run-0${run}`, who === 'agent' ? 'agent' : 'judge');
          const read = (f: string) => (existsSync(join(at, f)) ? readFileSync(join(at, f), 'utf8') : null);
          const rows = logRows(results).filter((r) => r.stream === `exp-1/${st.run}`).map((r) => `${r.at.slice(11)} ${r.type} ${r.data.slice(0, 200)}`);
          return { ...st, rows, alive: isAlive(st.pid), outcome: read(who === 'agent' ? 'command.outcome.json' : 'judge-1.command.outcome.json'), stderr: read(who === 'agent' ? 'stderr.log' : 'judge-1.stderr.log') };
        });
        expect(ends, JSON.stringify(lost)).toHaveLength(RUNS);
      }
      expect(runResults(results)).toEqual(want);
      const verify = await cli(['--results-dir', results, 'verify', 'exp-1']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      // what was collected after a driver change is in the history
      for (const line of lines) expect(isAlive(line.pid), `process ${line.pid} (${line.run} ${line.who}) is still running`).toBe(false);
      expect(processesOf(results)).toEqual([]);
    };
    for (let i = 0; total.kills < 200; i += 2) await Promise.all([instance(i), instance(i + 1)]);
    expect(total.kills).toBeGreaterThanOrEqual(200);
    console.info(`driver-only storm: ${total.kills} kills; where they landed: ${JSON.stringify(Object.fromEntries(total.moments))}`);
    // the kills landed everywhere the issue names
    expect([...total.moments.keys()].sort()).toEqual([
      'between the append that starts the step and the spawn',
      'between the command\'s exit and the append of its completion',
      'between the spawn and the record of its start',
      'during cleanup',
      'while judging',
      'while the agent runs',
    ]);
  }, 900_000);
});

const FREEZER = '/sys/fs/cgroup/freezer';

/** A freezer cgroup: everything a driver starts stays in it, and can be stopped at one instant. */
function freezerGroup(name: string) {
  const path = join(FREEZER, name);
  mkdirSync(path);
  const tasks = () => readFileSync(join(path, 'tasks'), 'utf8').split('\n').filter(Boolean).map(Number);
  return {
    wrap: (args: string[]) => ['sh', '-c', `echo $$ > ${join(path, 'cgroup.procs')} && exec "$0" "$@"`, process.execPath, join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js'), ...args],
    /** The machine goes down: every process of the group stops at the same instant, then all are killed. */
    async crash(): Promise<void> {
      writeFileSync(join(path, 'freezer.state'), 'FROZEN');
      while (readFileSync(join(path, 'freezer.state'), 'utf8').trim() !== 'FROZEN') await sleep(5);
      for (const pid of tasks()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      writeFileSync(join(path, 'freezer.state'), 'THAWED');
      while (tasks().length > 0) await sleep(10);
    },
    /** After the last drive: its executor host exits once idle (about a second), then the group goes. */
    async remove(): Promise<void> {
      const deadline = Date.now() + 15_000;
      while (tasks().length > 0 && Date.now() < deadline) await sleep(50);
      rmdirSync(path);
    },
  };
}

describe('a machine crash', () => {
  it('with the driver and every command stopped at the same instant at 50+ seeded moments: no command whose completion is in the log runs again, unfinished ones restart, the results are equal', async () => {
    expect(existsSync(join(FREEZER, 'freezer.state')) || existsSync(FREEZER), `this test stops a whole process tree at once with the cgroup freezer (${FREEZER}); it needs root and cgroup v1's freezer`).toBe(true);
    const dir = tempDir();
    const config = writeCountingExperiment(dir, EXPERIMENT);
    const baseline = await cli(['--results-dir', join(dir, 'baseline'), 'run', config], { env: env(join(dir, 'baseline.counter')) });
    expect(baseline.code, baseline.stderr).toBe(0);
    const want = runResults(join(dir, 'baseline'));
    let kills = 0;
    for (let i = 0; kills < 50; i++) {
      const group = freezerGroup(`expctl-test-${process.pid}-${i}`);
      const results = join(dir, `machine-${i}`);
      const counter = join(dir, `machine-${i}.counter`);
      try {
        const storm = await stormed(results, config, counter, seeded(1201 + i), 15, async (child) => {
          await group.crash();
          await child.result;
        }, group.wrap);
        kills += storm.kills;
      } finally {
        await group.remove();
      }
      const rows = logRows(results);
      const lines = counterOf(counter);
      for (const stream of new Set(rows.filter((r) => r.stream.split('/').length === 4).map((r) => r.stream))) {
        const run = stream.slice('exp-1/'.length);
        for (const [who, effect] of STEPS) {
          const completion = rows.filter((r) => r.stream === stream && r.type === 'effect.completed' && (JSON.parse(r.data) as { effect: string }).effect === effect);
          expect(completion, `${stream} ${effect} completed once`).toHaveLength(1);
          // I3 and more: once its completion is in the log, it never runs again (an outcome on disk is collected, not run again)
          const after = lines.filter((l) => l.run === run && l.who === who && l.what === 'start' && l.at > Date.parse(completion[0]!.at));
          expect(after, `${run} ${who} ran after its completion was recorded`).toEqual([]);
          expect(lines.filter((l) => l.run === run && l.who === who && l.what === 'end').length, `${run} ${who} ended`).toBeGreaterThanOrEqual(1);
        }
      }
      expect(runResults(results)).toEqual(want);
      expect((await cli(['--results-dir', results, 'verify', 'exp-1'])).code).toBe(0);
    }
    expect(kills).toBeGreaterThanOrEqual(50);
    console.info(`machine crashes: ${kills}`);
  }, 900_000);
});


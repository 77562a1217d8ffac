import { jsonDifferences, replay, type ReplayedActor } from '../engine/index.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface DiffOptions {
  resultsDir: string;
  json?: boolean;
}

/** The documented `diff --json` entry: an actor whose state or context differs between the two rows. */
export interface ActorDiff {
  stream: string;
  before: string | null;
  after: string | null;
  changes: { path: string; before: unknown; after: unknown }[];
}

/** `expctl diff <id> SEQ_A SEQ_B`: the actors whose state or context changed between two rows, with the changes. */
export async function diffCommand(id: string, seqA: string, seqB: string, options: DiffOptions, io: Io): Promise<void> {
  const store = openLogForReading(options.resultsDir);
  try {
    const key = experimentKey(store, id);
    const [a, b] = [seq(seqA), seq(seqB)];
    const before = replay(store, lifecycleRegistry, key, { toSeq: a }).actors;
    const after = replay(store, lifecycleRegistry, key, { toSeq: b }).actors;
    const diffs = actorDiffs(before, after);
    if (options.json) return io.out(`${JSON.stringify(diffs, null, 2)}\n`);
    if (diffs.length === 0) return io.out(`no actor changed between rows ${a} and ${b}\n`);
    for (const d of diffs) {
      const name = d.stream.slice(key.length + 1) || 'experiment';
      io.out(`${name}: ${d.before ?? '(not created)'} → ${d.after ?? '(not created)'}\n`);
      for (const c of d.changes) io.out(`    ${c.path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}\n`);
    }
  } finally {
    store.close();
  }
}

export function actorDiffs(before: Map<string, ReplayedActor>, after: Map<string, ReplayedActor>): ActorDiff[] {
  const streams = [...new Set([...before.keys(), ...after.keys()])];
  return streams.flatMap((stream) => {
    const x = before.get(stream)?.snapshot;
    const y = after.get(stream)?.snapshot;
    const changes = jsonDifferences(x?.context ?? null, y?.context ?? null).map((d) => ({ path: d.path, before: d.expected, after: d.actual }));
    const [s1, s2] = [x ? String(x.value) : null, y ? String(y.value) : null];
    return s1 === s2 && changes.length === 0 ? [] : [{ stream, before: s1, after: s2, changes }];
  });
}

function seq(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`"${text}" is not a row number`, 'see `expctl history <id>` for row numbers (seq)');
  return n;
}

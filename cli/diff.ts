import { jsonDifferences } from '../engine/index.js';
import type { StreamState } from '../store/types.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';
import { openLogForStates } from './log-file.js';
import { experimentKey } from '../runner/log-keys.js';

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
  const store = openLogForStates(options.resultsDir);
  try {
    const key = experimentKey(store, id);
    const [a, b] = [seq(seqA), seq(seqB)];
    // each row records its actor's state and context: the latest rows as of A and B, no replay
    const states = (seq: number) => new Map(store.latestStates(key, seq).streams.map((s) => [s.stream, s]));
    const diffs = actorDiffs(states(a), states(b));
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

export function actorDiffs(before: ReadonlyMap<string, StreamState>, after: ReadonlyMap<string, StreamState>): ActorDiff[] {
  const streams = [...new Set([...before.keys(), ...after.keys()])];
  return streams.flatMap((stream) => {
    const x = before.get(stream);
    const y = after.get(stream);
    const changes = jsonDifferences(x?.context ?? null, y?.context ?? null).map((d) => ({ path: d.path, before: d.expected, after: d.actual }));
    const [s1, s2] = [x ? String(x.state) : null, y ? String(y.state) : null];
    return s1 === s2 && changes.length === 0 ? [] : [{ stream, before: s1, after: s2, changes }];
  });
}

function seq(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`"${text}" is not a row number`, 'see `expctl history <id>` for row numbers (seq)');
  return n;
}

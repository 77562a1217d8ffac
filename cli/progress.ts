import { sameState, type CommittedRow, type ReplayedActor } from '../engine/index.js';
import { RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED } from '../machines/run-states.js';
import { actorsTree } from '../observe/status.js';
import { paint, type Io } from './io.js';

export interface Progress {
  update(rows: readonly CommittedRow[], actors: ReadonlyMap<string, ReplayedActor>): void;
  done(): void;
}

/**
 * Progress while an experiment runs. On a terminal: one line per tier,
 * redrawn in place (at most every 100 ms). Otherwise: a plain line for each
 * experiment, tier and subtest state change and each run that ends.
 */
export function createProgress(io: Io, options: { quiet: boolean }): Progress {
  if (options.quiet) return { update: () => {}, done: () => {} };
  return io.isTTY ? terminalProgress(io) : plainProgress(io);
}

function plainProgress(io: Io): Progress {
  return {
    update(rows) {
      for (const { row, before } of rows) {
        if (sameState(before, row.state)) continue;
        const depth = row.stream.split('/').length;
        const name = row.stream.split('/').slice(1).join('/') || row.stream;
        const state = String(row.state);
        if (depth === 4 && ![RUN_COMPLETED, RUN_FAILED, RUN_RATE_LIMITED].includes(state)) continue;
        io.out(`${new Date(row.at).toISOString().slice(11, 19)} ${depth === 1 ? 'experiment' : name} → ${state}\n`);
      }
    },
    done() {},
  };
}

function terminalProgress(io: Io): Progress {
  let drawn = 0;
  let last = 0;
  let latest: ReadonlyMap<string, ReplayedActor> | null = null;
  let key = '';
  const draw = () => {
    if (!latest) return;
    const tree = actorsTree(key, latest);
    const lines = [`${paint(io, 1, tree.experiment)} ${tree.state}  runs ${tree.runs.completed}/${tree.runs.total} done, ${tree.runs.running} running, ${tree.runs.failed} failed${tree.runs.rateLimited ? `, ${tree.runs.rateLimited} rate-limited` : ''}`];
    for (const tier of tree.tiers) {
      const runs = tier.subtests.flatMap((s) => s.runs);
      const done = runs.filter((r) => r.state === RUN_COMPLETED).length;
      lines.push(`  ${tier.id.padEnd(8)} ${tier.state.padEnd(24)} ${done}/${runs.length} runs${tier.best ? `  best ${tier.best}` : ''}`);
    }
    io.out(`${drawn > 0 ? `\u001b[${drawn}F\u001b[0J` : ''}${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  return {
    update(rows, actors) {
      latest = actors;
      key ||= rows[0]?.row.experiment ?? '';
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw();
    },
    done() {
      if (latest) draw();
      latest = null;
    },
  };
}

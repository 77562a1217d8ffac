import { join } from 'node:path';
import { initialTransition, transition } from 'xstate';
import { replay, verifyLog } from '../engine/index.js';
import { pureInitial, pureTransition } from '../engine/pure.js';
import { runMachine } from '../machines/index.js';
import { openExperimentLog as openLog } from '../runner/log.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { EXPERIMENT, runLifecycleRows, withTempDir } from './fixtures.js';
import { bestOfBoth, result, type BenchResult } from './result.js';

/**
 * Replay throughput (read from SQLite, decode and check each event,
 * transition, compare the stored texts and snapshot hash) next to bare
 * transition() over the same events already in memory, taken in turns; and
 * full verification (hash chain + replay + head + checkpoints). The log is
 * read through its own connection, as a resume reads it. `replay.checks`
 * sets replay beside the engine's own pure step (engine/pure.ts: XState's
 * transition without its per-call actor set-up) on the same events: what
 * reading, decoding and checking each row cost on top of the transitions.
 */
export function replayBench(full: boolean): BenchResult[] {
  const { rows, streams } = runLifecycleRows(full ? 8000 : 2000); // 104,000 or 26,000 rows
  return withTempDir((dir) => {
    const file = join(dir, 'expctl.db');
    const writer = openLog(file, { synchronous: 'NORMAL' });
    for (let i = 0; i < rows.length; i += 5000) writer.append(EXPERIMENT, rows.slice(i, i + 5000));
    writer.close();
    const store = openLog(file, { readonly: true });
    const bare = () => {
      for (const { input, events } of streams) {
        let [snapshot] = initialTransition(runMachine, input as never);
        for (const event of events) [snapshot] = transition(runMachine, snapshot, event);
      }
    };
    const barePure = () => {
      for (const { input, events } of streams) {
        let [snapshot] = pureInitial(runMachine, input);
        for (const event of events) [snapshot] = pureTransition(runMachine, snapshot, event);
      }
    };
    const repeat = full ? 5 : 3;
    const [replayed, bare1] = bestOfBoth(repeat, () => replay(store, lifecycleRegistry, EXPERIMENT), bare);
    const [verified, bare2] = bestOfBoth(repeat, () => verifyLog(store, lifecycleRegistry, EXPERIMENT), bare);
    const [checked, pure] = bestOfBoth(repeat, () => replay(store, lifecycleRegistry, EXPERIMENT), barePure);
    store.close();
    const n = rows.length;
    return [
      result('replay', 'replay from SQLite, checked per row', n / replayed, 'rows/s', n / bare1, 'bare transition()'),
      result('verify', 'verifyLog (chain + replay + head)', n / verified, 'rows/s', n / bare2, 'bare transition()'),
      result('replay.checks', 'replay from SQLite, checked per row', n / checked, 'rows/s', n / pure, 'the engine\'s pure step'),
    ];
  });
}

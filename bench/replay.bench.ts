import { join } from 'node:path';
import { initialTransition, transition } from 'xstate';
import { replay, verifyLog } from '../engine/index.js';
import { runMachine } from '../machines/index.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { EXPERIMENT, line, rate, runLifecycleRows, withTempDir } from './fixtures.js';
import { openExperimentLog as openLog } from '../runner/log.js';

/**
 * Replay throughput (read from SQLite, decode + validate each row, transition,
 * compare state and snapshot hash) next to bare transition() over the same
 * events already in memory; and full verification (hash chain + replay).
 */
export function replayBench(): string[] {
  const { rows, streams } = runLifecycleRows(8000); // 104,000 rows
  return withTempDir((dir) => {
    const file = join(dir, 'expctl.db');
    const store = openLog(file, { synchronous: 'NORMAL' });
    for (let i = 0; i < rows.length; i += 5000) store.append(EXPERIMENT, rows.slice(i, i + 5000));
    const bare = rate(rows.length, 3, () => {
      for (const { input, events } of streams) {
        let [snapshot] = initialTransition(runMachine, input as never);
        for (const event of events) [snapshot] = transition(runMachine, snapshot, event);
      }
    });
    const replayed = rate(rows.length, 3, () => replay(store, lifecycleRegistry, EXPERIMENT));
    const verified = rate(rows.length, 3, () => verifyLog(store, lifecycleRegistry, EXPERIMENT));
    store.close();
    return [
      line('replay from SQLite, verified per row', replayed, bare, 'bare transition()'),
      line('verifyLog (chain + replay + head)', verified, bare, 'bare transition()'),
    ];
  });
}

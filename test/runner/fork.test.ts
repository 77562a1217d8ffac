import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driveExperiment, forkExperiment, loadRunConfig } from '../../runner/index.js';
import { writeExperiment } from '../support/experiment.js';
import { fakes } from '../support/fake-collaborators.js';
import { memoryLog } from '../support/stores.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

describe('fork --at a row inside an append', () => {
  it('at every row where an actor reaches an outcome (its parent hears of it in the same append), the fork resumes to completion', async () => {
    const dir = tempDir();
    const resultsDir = join(dir, 'results');
    const store = memoryLog();
    const config = loadRunConfig(writeExperiment(dir, { runsPerSubtest: 1, tiers: [{ id: 'T0', subtests: [{ id: 'a' }, { id: 'b' }] }, { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a' }] }] }));
    await driveExperiment({ store, resultsDir, config, collaborators: fakes([]) });
    const rows = [...store.readExperiment('exp-1')];
    // the rows after which a notice follows in the same append: a child's transition into an outcome
    const cuts = rows.filter((row, i) => rows[i + 1]?.cause === 'child' && row.stream === `${rows[i + 1]!.stream}/${(rows[i + 1]!.event.data as { child: string }).child}`);
    expect(cuts.length).toBeGreaterThanOrEqual(6);
    for (const cut of cuts) {
      const id = `fork-${cut.seq}`;
      const fork = await forkExperiment({ store, resultsDir, source: 'exp-1', at: cut.seq, id });
      expect(fork.key).toBe(id);
      const outcome = await driveExperiment({ store, resultsDir, experiment: id, collaborators: fakes([]) });
      expect(outcome.state, `fork at seq ${cut.seq} (${cut.stream} → ${String(cut.state)})`).toBe('exp_complete');
      expect(outcome.summary.runs).toMatchObject({ total: 3, errored: 0, unfinished: 0 });
    }
    // the source is untouched
    expect([...store.readExperiment('exp-1')].length).toBe(rows.length);
  }, 60_000);
});

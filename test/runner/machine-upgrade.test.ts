import { join } from 'node:path';
import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../engine/index.js';
import { lifecycleMachines, runMachine } from '../../machines/index.js';
import { lifecycleRegistry } from '../../runner/registry.js';
import { driveExperiment, loadRunConfig } from '../../runner/index.js';
import { writeExperiment } from '../support/experiment.js';
import { fakes } from '../support/fake-collaborators.js';
import { useTempDir } from '../support/temp.js';
import { memoryLog } from '../support/stores.js';

const tempDir = useTempDir();
const config = runMachine.config as Record<string, any>;
const withRun = (run: unknown) => createRegistry(lifecycleMachines.map((d) => (d.machine.id === 'run' ? { ...d, machine: run as typeof runMachine } : d)));

/** An experiment interrupted with runs in flight, in a memory store. */
async function interrupted() {
  const dir = tempDir();
  const store = memoryLog();
  const controller = new AbortController();
  const first = driveExperiment({ store, resultsDir: join(dir, 'results'), config: loadRunConfig(writeExperiment(dir)), signal: controller.signal, collaborators: fakes([], { agentDelayMs: 40 }) });
  setTimeout(() => controller.abort('SIGINT'), 30);
  await expect(first).rejects.toMatchObject({ code: 'EXPCTL_INTERRUPTED' });
  return { store, resultsDir: join(dir, 'results') };
}

describe('resuming with changed machines (I5)', () => {
  it('continues under a compatible change and records the new definition with the resume', async () => {
    const { store, resultsDir } = await interrupted();
    const extended = createMachine({ ...config, states: { ...config.states, run_archived: { meta: { final: true } } } } as never, runMachine.implementations as never);
    const registry = withRun(extended);
    const before = [...store.readExperiment('exp-1')].length;
    const outcome = await driveExperiment({ store, resultsDir, experiment: 'exp-1', registry, collaborators: fakes([]) });
    expect(outcome.state).toBe('exp_complete');
    const rows = [...store.readExperiment('exp-1')];
    const resumed = rows.slice(before).find((r) => r.stream === 'exp-1' && r.event.type === 'operator.resumed')!;
    expect(resumed.event.data).toMatchObject({ upgraded: [{ recorded: lifecycleRegistry.get('run')!.ref, current: registry.get('run')!.ref }] });
    const runRows = rows.slice(before).filter((r) => /\/\d+$/.test(r.stream));
    expect(runRows.length).toBeGreaterThan(0);
    expect(new Set(runRows.map((r) => r.machine))).toEqual(new Set([registry.get('run')!.ref]));
  });

  it('refuses an incompatible change, naming the first diverging row and the fork that keeps the rest', async () => {
    const { store, resultsDir } = await interrupted();
    const skipping = createMachine({
      ...config,
      states: {
        ...config.states,
        run_dir_created: { ...config.states.run_dir_created, on: { ...config.states.run_dir_created.on, 'effect.completed': { ...config.states.run_dir_created.on['effect.completed'], target: 'run_resources_applied' } } },
      },
    } as never, runMachine.implementations as never);
    const diverging = [...store.readExperiment('exp-1')].find((r) => r.state === 'run_worktree_created')!;
    await expect(driveExperiment({ store, resultsDir, experiment: 'exp-1', registry: withRun(skipping), collaborators: fakes([]) })).rejects.toMatchObject({
      code: 'EXPCTL_MACHINE_INCOMPATIBLE',
      message: expect.stringContaining(`seq ${diverging.seq}`),
      hint: expect.stringContaining(`expctl fork exp-1 --at ${diverging.seq - 1}`),
    });
  });
});

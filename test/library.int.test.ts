import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importExperiment, lifecycleRegistry, openExperimentLog, openStore, replay, verifyLog } from '../index.js';
import { useTempDir } from './support/temp.js';

const tempDir = useTempDir();
const FIXTURE = join(import.meta.dirname, 'fixtures', 'logs', 'current.jsonl');

describe('the library API, as the README shows it', () => {
  it('opens a results log read-only, verifies an experiment and replays its actors', () => {
    const file = join(tempDir(), 'expctl.db');
    const imported = importExperiment(FIXTURE, file);
    expect(imported).toMatchObject({ experiment: 'current-log' });

    // the README's snippet
    const store = openStore(file, { readonly: true });
    const report = verifyLog(store, lifecycleRegistry, 'current-log');
    expect(report).toMatchObject({ ok: true, problem: null, rows: imported.rows });
    const { actors } = replay(store, lifecycleRegistry, 'current-log');
    expect(actors.get('current-log')!.snapshot.value).toBe('exp_complete');
    expect([...actors.values()].filter((a) => a.entry.id === 'run').map((a) => a.snapshot.value)).toEqual(Array(6).fill('run_worktree_cleaned'));
    store.close();

    // the experiment log checks every event against the lifecycle's schemas
    const log = openExperimentLog(file, { readonly: true });
    expect(verifyLog(log, lifecycleRegistry, 'current-log').headHash).toBe(report.headHash);
    expect(JSON.parse(readFileSync(FIXTURE, 'utf8').split('\n')[0]!)).toMatchObject({ headHash: report.headHash });
    log.close();
  });
});

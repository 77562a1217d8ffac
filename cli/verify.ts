import { verifyLog } from '../engine/index.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { ExpctlError } from '../util/errors.js';
import type { Io } from './io.js';
import { experimentKey, openLogForReading } from './open-log.js';

export interface VerifyOptions {
  resultsDir: string;
  json?: boolean;
}

/** `expctl verify <id>`: hash chain + full replay; exit 1 naming the first bad row. */
export async function verifyCommand(id: string, options: VerifyOptions, io: Io): Promise<void> {
  const store = openLogForReading(options.resultsDir);
  try {
    const report = verifyLog(store, lifecycleRegistry, experimentKey(store, id));
    if (options.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
    if (!report.ok) throw new ExpctlError('EXPCTL_VERIFY_FAILED', `log of ${report.experiment} does not verify: ${report.problem!.message}`, 'the log was changed outside expctl or is damaged; restore it from a backup, or keep the rows before the bad one with `expctl fork`');
    if (options.json) return;
    io.out(`ok: ${report.experiment}: ${report.rows} rows in ${report.streams} streams verify (hash chain, replay of every stream, head, checkpoints and snapshots)\n`);
    io.out(`head hash ${report.headHash}\n`);
    for (const change of report.machineChanges) io.out(`note: ${change.streams} stream(s) written by ${change.recorded} replay under ${change.current}\n`);
  } finally {
    store.close();
  }
}

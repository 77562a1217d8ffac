import { setTimeout as sleep } from 'node:timers/promises';
import { experimentStatus, type StatusJson } from '../observe/status.js';
import { experimentKey } from '../runner/log-keys.js';
import { truncate } from './format.js';
import type { Io } from './io.js';
import { openLogForStates } from './log-file.js';
import { screen } from './progress.js';
import { expctlCommand } from './shell.js';

export interface WatchOptions {
  resultsDir: string;
  /** Seconds between looks at the log. */
  interval?: number;
  signal?: AbortSignal;
}

const FINAL = new Set(['exp_complete', 'exp_failed']);

/**
 * `expctl watch <id>`: follow an experiment another terminal drives, from its
 * log (read-only): on a terminal the progress display, redrawn; otherwise a
 * line each time the counts change. Ends when the experiment ends, or when no
 * live driver holds it (paused, interrupted, or its driver died).
 */
export async function watchCommand(id: string, options: WatchOptions, io: Io): Promise<void> {
  const store = openLogForStates(options.resultsDir);
  const where = (args: string[]) => `\`${expctlCommand(args, options.resultsDir, io)}\``;
  let drawn = 0;
  let lastLine = '';
  try {
    const key = experimentKey(store, id);
    for (let idle = 0; ; ) {
      const status = experimentStatus(store, key);
      if (io.isTTY) {
        const width = Math.max(20, (io.columns?.() ?? 80) - 1);
        const lines = screen(io, status, { since: new Map(), now: Date.now(), eta: null }).map((line) => truncate(line, width));
        io.out(`${drawn > 0 ? `\u001b[${drawn}F\u001b[0J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      } else {
        const line = countsLine(status);
        if (line !== lastLine) io.out(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
        lastLine = line;
      }
      if (FINAL.has(status.state)) return void io.out(`experiment ${key} ${status.state === 'exp_complete' ? 'complete' : 'failed'}; ${where(['report', key])} for the results\n`);
      const live = status.driver !== null && status.driver.alive !== false;
      idle = live ? 0 : idle + 1;
      // a driver may be about to take the lease (a resume starting): give it two looks
      if (idle >= 3) return void io.out(`no driver is running ${key}${status.paused ? ` (paused: ${status.paused.reason})` : status.driver?.alive === false ? ` (its driver, pid ${status.driver.pid}, is gone)` : ''}; ${where(['resume', key])} continues it\n`);
      try {
        await sleep((options.interval ?? 1) * 1000, undefined, { signal: options.signal });
      } catch {
        return;
      }
    }
  } finally {
    store.close();
  }
}

function countsLine(s: StatusJson): string {
  const r = s.runs;
  const results = s.results.judged === 0 ? 'no verdict yet' : `${s.results.passed}/${s.results.judged} passed`;
  return `${s.experiment} ${s.state}: ${r.completed + r.failed}/${r.total} runs done, ${r.running} running, ${r.pending} pending, ${results}${s.results.errored ? `, ${s.results.errored} errored` : ''}`;
}

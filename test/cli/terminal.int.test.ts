/**
 * The progress display on a real (pseudo) terminal, as narrow as a split
 * pane: the built CLI runs under `script`, and its output is played back
 * through a small terminal model that wraps long lines as a terminal does.
 * A redraw that miscounted its lines would leave stale copies on screen.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir();

/** What a terminal `columns` wide shows after `output`: CR, LF, ESC[nF (up n lines, column 0), ESC[0J (clear below), and wrapping. */
function screenAfter(output: string, columns: number): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    if (col >= columns) {
      row += 1;
      col = 0;
    }
    while (lines.length <= row) lines.push('');
    const line = lines[row]!.padEnd(col, ' ');
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col += 1;
  };
  // eslint-disable-next-line no-control-regex
  const tokens = output.match(/\u001b\[(\d*)([A-Za-z])|\r|\n|[^\u001b\r\n]/gu) ?? [];
  for (const token of tokens) {
    if (token === '\r') col = 0;
    else if (token === '\n') {
      row += 1;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else if (token.startsWith('\u001b[')) {
      const [, n, code] = /\u001b\[(\d*)([A-Za-z])/.exec(token)!;
      if (code === 'F') {
        row = Math.max(0, row - Number(n || 1));
        col = 0;
      } else if (code === 'J') lines.splice(row + 1), (lines[row] = lines[row]!.slice(0, col));
    } else put(token);
  }
  return lines.map((l) => l.trimEnd()).filter((l, i, all) => l !== '' || i < all.length - 1);
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('the progress display on a narrow terminal', () => {
  it('redraws in place at 40 columns: one copy of each line, none longer than the terminal, the final counts true', async () => {
    expect(hasScript, '`script` (util-linux) runs the CLI on a pseudo-terminal; install bsdutils').toBe(true);
    const dir = tempDir();
    writeExperiment(dir, {
      agent: { command: ['node', '-e', "setTimeout(() => console.log(JSON.stringify({ costUsd: 0.01, tokens: 100 })), 150)"] },
      runsPerSubtest: 3,
      tiers: [{ id: 'T0', subtests: [{ id: 'a-long-subtest-name' }, { id: 'b' }] }, { id: 'T1', subtests: [{ id: 'a' }] }],
      limits: { maxConcurrentRuns: 3, maxConcurrentAgents: 2 },
    });
    const command = `stty cols 40 rows 30; exec node ${CLI} run experiment.yaml`;
    const output = execFileSync('script', ['-qfec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '' }, timeout: 60_000 });
    const screen = screenAfter(output, 40);
    const progress = screen.slice(0, screen.findIndex((l) => l.startsWith('experiment exp-1 complete')));
    // the last drawing, once: the header, the counts, a line per tier; nothing left over from earlier drawings
    expect(progress).toEqual([
      'exp-1  9/9 passed 100.0% [70.1%, 100.0…',
      '  exp_complete · 9/9 runs done · 0 run…',
      '  T0  complete · 6/6 runs · 6/6 passed…',
      '  T1  complete · 3/3 runs · 3/3 passed…',
    ]);
    // every line any drawing printed fits (the outcome printed after the last drawing may wrap: it is never redrawn)
    // eslint-disable-next-line no-control-regex
    const drawn = output.slice(0, output.indexOf('experiment exp-1 complete')).replace(/\u001b\[\d*[A-Za-z]/g, '\n').split(/\r?\n/);
    for (const line of drawn) expect(line.length, line).toBeLessThanOrEqual(39);
    expect(output).toContain('experiment exp-1 complete: 9 runs: 9 passed');
    // while it ran, runs were shown at work, and colours were on
    expect(output).toMatch(/T0\/b\/\d {2}runAgent \d+ ms/);
    expect(output).toContain('\u001b[32m');
  }, 90_000);
});

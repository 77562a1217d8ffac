/**
 * Placeholders in commands reach the program verbatim, through the built CLI:
 * no shell ever sees them. The agent and the judge are a script that records
 * its argv; the prompt file and the argv templates are full of shell
 * metacharacters, command substitutions and placeholder look-alikes.
 *
 * The prompt differs from the issue's `$(rm -rf ~); …` in one respect: the
 * substitution removes a path under ~ that does not exist, and another one
 * touches a marker file, so that if a shell were ever involved, the test
 * fails (the marker appears) without destroying anything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { writeExperiment } from '../support/experiment.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-placeholders-');
const RECORDER = join(import.meta.dirname, 'fixtures', 'hostile', 'record-argv.mjs');

describe('placeholders with shell metacharacters reach the program verbatim (no shell)', () => {
  it('the agent and the judge get exactly the substituted strings; nothing is executed', async () => {
    const dir = tempDir();
    const token = randomBytes(6).toString('hex');
    const marker = (what: string) => join(tmpdir(), `pwned-${token}-${what}`);
    const argvFile = join(dir, 'argv');
    const agentTemplate = [
      'node', RECORDER, '{prompt}', '--ws={workspace}', `$(touch ${marker('argv')})`, '`id`', 'a;b|c&&d > e',
      `; touch ${marker('semicolon')}`, '{promptFile}', '{runDir}|{configDir}', '{unknown}', '{"a": 1}', '{}', '$HOME', "'quoted'", '"double"', '*', '~', '\\n',
    ];
    const judgeTemplate = ['node', RECORDER, '{prompt}', `$(touch ${marker('judge')})`, '&&', 'echo', '>', join(dir, 'redirected')];
    const config = writeExperiment(dir, {
      agent: { command: agentTemplate },
      judges: [{ command: judgeTemplate }],
      runsPerSubtest: 1,
      tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }],
    });
    const prompt = [
      `$(rm -rf ~/expctl-nonexistent-${token}); $(touch ${marker('prompt')}); echo "pwned" \`date\` 'quotes' $HOME`,
      ' second line with {workspace}, {prompt}, $& and $1',
      '\ttabs, a literal backslash-n \\n, unicode ü 🙂 and a trailing newline',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'prompt.md'), prompt);

    const resultsDir = join(dir, 'results');
    const result = await cli(['--results-dir', resultsDir, 'run', config], { env: { ARGV_FILE: argvFile } });
    expect(result.code, result.stderr).toBe(0);

    const runDir = join(resultsDir, 'exp-1', 'T0', 'a', 'run-01');
    const agentArgv = JSON.parse(readFileSync(`${argvFile}.agent`, 'utf8')) as string[];
    expect(agentArgv).toEqual([
      prompt,
      `--ws=${join(runDir, 'workspace')}`,
      `$(touch ${marker('argv')})`,
      '`id`',
      'a;b|c&&d > e',
      `; touch ${marker('semicolon')}`,
      join(runDir, 'prompt.md'),
      `${runDir}|${dir}`,
      '{unknown}',
      '{"a": 1}',
      '{}',
      '$HOME',
      "'quoted'",
      '"double"',
      '*',
      '~',
      '\\n',
    ]);
    const judgeArgv = JSON.parse(readFileSync(`${argvFile}.judge`, 'utf8')) as string[];
    expect(judgeArgv).toEqual([prompt, `$(touch ${marker('judge')})`, '&&', 'echo', '>', join(dir, 'redirected')]);

    // nothing ran: no marker file, no redirection target, nothing named pwned-<token> anywhere in the temp dir
    for (const what of ['argv', 'semicolon', 'prompt', 'judge']) expect(existsSync(marker(what)), marker(what)).toBe(false);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`pwned-${token}`))).toEqual([]);
    expect(existsSync(join(dir, 'redirected'))).toBe(false);

    // the log records the template, not the expanded argv (the prompt text is in the run directory already)
    const history = await cli(['--results-dir', resultsDir, 'history', 'exp-1', '--json', '--type', 'effect.started']);
    expect(history.code, history.stderr).toBe(0);
    const started = (JSON.parse(history.stdout) as { data: { effect: string; command?: string[] } }[]).filter((r) => r.data.command);
    expect(started.find((r) => r.data.effect === 'runAgent')?.data.command).toEqual(agentTemplate);
    expect(started.find((r) => r.data.effect === 'runJudges')?.data.command).toEqual(judgeTemplate);
  }, 60_000);
});

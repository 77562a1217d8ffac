/**
 * `expctl serve` as a process: what it prints, how it refuses bad flags, a
 * taken port and a folder without a log, that its API answers what `status`
 * and `history --at` say, that nothing it answers changes the log, and that
 * it stops cleanly on SIGINT and SIGTERM.
 */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { writeCountingExperiment } from '../support/cli-experiment.js';
import { startServe } from '../support/serve.js';
import { useTempDir } from '../support/temp.js';

const tempDir = useTempDir('expctl-serve-');

async function experiment() {
  const dir = tempDir();
  const config = writeCountingExperiment(dir, { runsPerSubtest: 2, tiers: [{ id: 'T0', subtests: [{ id: 'a' }] }] });
  const results = join(dir, 'results');
  const env = { COUNTER_FILE: join(dir, 'counter.log'), AGENT_SLEEP_MS: '10' };
  const run = await cli(['--results-dir', results, 'run', config], { env });
  expect(run.code).toBe(0);
  return { dir, results, run: (...args: string[]) => cli(['--results-dir', results, ...args], { env }) };
}

describe('expctl serve', () => {
  it('prints its URL on 127.0.0.1, answers what status and history --at say, changes nothing, and ends with exit 0 on SIGINT', async () => {
    const { results, run } = await experiment();
    const before = JSON.parse((await run('verify', 'exp-1', '--json')).stdout) as { headHash: string; rows: number };
    const served = await startServe(results);
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(served.stderr()).toContain('(read-only); press Ctrl+C to stop');

    const status = JSON.parse((await run('status', '--json')).stdout) as { experiment: string }[];
    const list = await served.json<{ experiment: string; results: unknown; runs: unknown; driver: unknown }[]>('/api/experiments');
    expect(list.status).toBe(200);
    expect(list.body).toEqual(status);

    const rows = JSON.parse((await run('history', 'exp-1', '--json')).stdout) as { seq: number }[];
    const mid = rows[Math.floor(rows.length / 2)]!.seq;
    const at = await served.json<Record<string, unknown>>(`/api/experiments/exp-1/at/${mid}`);
    const { counts, ...tree } = at.body;
    expect(counts).toBeTypeOf('object');
    expect(tree).toEqual(JSON.parse((await run('history', 'exp-1', '--at', String(mid), '--json')).stdout));

    const page = await served.json<{ total: number; rows: { tier: string; subtest: string; run: number }[] }>('/api/experiments/exp-1/runs?limit=1&offset=1');
    expect(page.body.total).toBe(2);
    expect(page.body.rows.map((r) => `${r.tier}/${r.subtest}/${r.run}`)).toEqual(['T0/a/2']);
    const history = await served.json<{ rows: { seq: number }[]; more: boolean }>(`/api/experiments/exp-1/history?limit=5&before=${mid}`);
    expect(history.body.rows.map((r) => r.seq)).toEqual(rows.map((r) => r.seq).filter((s) => s < mid).slice(-5));
    expect(history.body.more).toBe(true);

    // unknown things are 404s with a message, never internal error text
    expect(await served.json('/api/experiments/nope')).toEqual({ status: 404, body: { error: 'no experiment nope in this results folder', hint: 'known experiments: exp-1 (see `expctl status`)' } });
    expect((await served.json<{ error: string }>('/api/experiments/exp-1/runs/T0/a/9')).body).toEqual({ error: 'experiment exp-1 has no run T0/a/9' });
    expect((await served.json<{ error: string }>('/api/experiments/exp-1/at/abc')).status).toBe(400);
    expect((await fetch(new URL('/e/nope', served.url))).status).toBe(404);
    expect((await fetch(new URL('/e/exp-1/r/T0/a/1', served.url))).status).toBe(200);
    expect((await fetch(new URL('/e/exp-1/r/T0/a/9', served.url))).status).toBe(404);
    expect((await fetch(new URL('/e/exp-1/history?seq=3', served.url))).status).toBe(200);
    expect((await fetch(new URL('/nowhere', served.url))).status).toBe(404);
    // every route is read-only: nothing but GET is answered
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) expect((await fetch(new URL('/api/experiments/exp-1', served.url), { method })).status).toBe(404);
    // a page of another site whose DNS name points at 127.0.0.1 gets nothing
    const asHost = (host: string) => new Promise<number>((resolve, reject) => {
      const r = request(new URL('/api/experiments', served.url), { headers: { host } }, (res) => { res.resume(); resolve(res.statusCode!); });
      r.on('error', reject).end();
    });
    expect(await asHost('attacker.example:80')).toBe(403);
    expect(await asHost(`localhost:${new URL(served.url).port}`)).toBe(200);
    const verified = await served.json<{ ok: boolean; headHash: string }>('/api/experiments/exp-1/verify');
    expect(verified.body).toMatchObject({ ok: true, headHash: before.headHash });

    const ended = await served.stop('SIGINT');
    expect(ended.code).toBe(0);
    expect(ended.stderr).toContain('SIGINT: stopping the server');
    expect(JSON.parse((await run('verify', 'exp-1', '--json')).stdout)).toMatchObject({ headHash: before.headHash, rows: before.rows });
  });

  it('refuses a bad --port, a non-loopback --host without --allow-remote, a taken port and a folder without a log', async () => {
    const { results, dir } = await experiment();
    const serve = (...args: string[]) => cli(['--results-dir', results, 'serve', ...args]);
    const notNumber = await serve('--port', 'abc');
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain("option '--port <port>' argument 'abc' is invalid. \"abc\" is not a whole number");
    const tooBig = await serve('--port', '70000');
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toBe('error: --port 70000 is not a port\nhint: give a number from 1 to 65535 (default 7575), or 0 for a free one\n');
    const remote = await serve('--host', '0.0.0.0');
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('error: --host 0.0.0.0 is not a loopback address');
    expect(remote.stderr).toContain('hint: add --allow-remote to serve on 0.0.0.0 anyway, or leave --host out for 127.0.0.1');

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const busy = await serve('--port', String(port));
      expect(busy.code).toBe(1);
      expect(busy.stderr).toBe(`error: port ${port} on 127.0.0.1 is already in use\nhint: pass another port with --port N (e.g. --port ${port + 1}), or --port 0 for a free one\n`);
    } finally {
      taken.close();
    }
    const empty = await cli(['--results-dir', join(dir, 'nothing'), 'serve', '--port', '0']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('error: no event log in');
  });

  it('binds elsewhere only with --allow-remote, warning that anyone who reaches it can read everything; SIGTERM ends it with exit 0', async () => {
    const { results } = await experiment();
    const served = await startServe(results, ['--host', '0.0.0.0', '--allow-remote']);
    expect(served.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
    expect(served.stderr()).toContain('warning: serving on 0.0.0.0, not only this machine');
    const ended = await served.stop('SIGTERM');
    expect(ended.code).toBe(0);
    expect(ended.stderr).toContain('SIGTERM: stopping the server');
  });
});

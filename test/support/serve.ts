import { startCli, until, type CliResult } from './cli.js';

export interface Served {
  /** The URL `serve` printed, e.g. http://127.0.0.1:40123/ */
  url: string;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Send the signal and wait for it to end. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
  json<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
}

/** `expctl --results-dir DIR serve --port 0 …` as a real process (the built CLI), once it printed its URL. */
export async function startServe(results: string, args: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const child = startCli(['--results-dir', results, 'serve', '--port', '0', ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  let ended: CliResult | undefined;
  void child.result.then((r) => (ended = r));
  const url = await until(() => {
    if (ended) throw new Error(`serve ended (exit ${ended.code}) before printing its URL: ${ended.stderr}`);
    return /^(http:\/\/\S+\/)$/m.exec(stdout)?.[1];
  }, 20_000, 'serve to print its URL');
  return {
    url,
    stderr: () => stderr,
    stop: async (signal = 'SIGINT') => {
      if (!ended) child.kill(signal);
      return child.result;
    },
    json: async <T>(path: string, init?: RequestInit) => {
      const response = await fetch(new URL(path, url), init);
      return { status: response.status, body: (await response.json()) as T };
    },
  };
}

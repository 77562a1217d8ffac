/// <reference lib="dom" />
/*
 * The page's side of the API (observe/serve/app.ts): JSON over fetch from the
 * server that served the page, and a hook that refetches when the log moved.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export type { ExperimentLine, ExperimentSummary, RunRow, HistoryRow } from '../data.js';
export type { RunPage, LogText } from '../run.js';
export type { Head } from '../live.js';
export type { StatusJson } from '../../status.js';
export type { ViewerGraph, StateKind } from '../../viewer/layout.js';

/** A failed request: the server's `{ error, hint }`, and its status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly hint?: string) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }))) as T & { error?: string; hint?: string };
  if (!response.ok) throw new ApiError(response.status, body.error ?? `${response.status}`, body.hint);
  return body;
}

export interface Loaded<T> {
  data: T | null;
  error: ApiError | Error | null;
  loading: boolean;
}

/**
 * GET `path` (null: nothing to get), again whenever `version` changes (the
 * log moved). The last answer stays on screen while the next one comes, so
 * live updates do not flicker; answers that come back out of order are dropped.
 */
export function useJson<T>(path: string | null, version: unknown = 0): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null, loading: true });
  const [pathShown, setPathShown] = useState<string | null>(path);
  // the first version known (the live feed's first message) is what was just fetched: no need to fetch again
  const seen = useRef<{ version: string; changes: number }>({ version: 'null', changes: 0 });
  const text = JSON.stringify(version ?? null);
  if (text !== seen.current.version) seen.current = { version: text, changes: seen.current.version === 'null' ? seen.current.changes : seen.current.changes + 1 };
  useEffect(() => {
    if (path === null) return;
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(path).then(
      (data) => { if (current) { setState({ data, error: null, loading: false }); setPathShown(path); } },
      (error: Error) => { if (current) { setState({ data: null, error, loading: false }); setPathShown(path); } },
    );
    return () => { current = false; };
  }, [path, seen.current.changes]);
  // a new path shows nothing of the old one's answer
  return pathShown === path ? state : { data: null, error: null, loading: true };
}

export const enc = encodeURIComponent;
export const api = {
  experiments: () => '/api/experiments',
  machines: () => '/api/machines',
  experiment: (id: string) => `/api/experiments/${enc(id)}`,
  runs: (id: string, query: Record<string, string | number | undefined>) => `/api/experiments/${enc(id)}/runs${qs(query)}`,
  history: (id: string, query: Record<string, string | number | undefined>) => `/api/experiments/${enc(id)}/history${qs(query)}`,
  at: (id: string, seq: number) => `/api/experiments/${enc(id)}/at/${seq}`,
  verify: (id: string) => `/api/experiments/${enc(id)}/verify`,
  run: (id: string, path: string) => `/api/experiments/${enc(id)}/runs/${path.split('/').map(enc).join('/')}`,
  output: (id: string, path: string, who: string, stream: string) => `${api.run(id, path)}/output/${enc(who)}/${stream}`,
};

function qs(query: Record<string, string | number | undefined>): string {
  const parts = Object.entries(query).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

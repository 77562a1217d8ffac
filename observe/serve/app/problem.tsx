import { ApiError } from './api.js';

/** A request that failed: "not found" for a 404, else the server's message. */
export function Problem({ error }: { error: Error }) {
  if (error instanceof ApiError && error.status === 404) return <NotFound what={error.message} hint={error.hint} />;
  return <p class="page error" id="problem">{error.message}{error instanceof ApiError && error.hint ? ` (${error.hint})` : ''}</p>;
}

/** What a page shows for something that is not there (the server answered 404 too). */
export function NotFound({ what, hint }: { what: string; hint?: string | undefined }) {
  return (
    <div class="notfound" id="not-found">
      <h1>Not found</h1>
      <p>{what}</p>
      {hint ? <p class="muted">{hint}</p> : null}
      <p><a href="/">all experiments</a></p>
    </div>
  );
}


/// <reference lib="dom" />
/* The page's paths: which page a path shows, and moving between them without a reload. */

export type Route =
  | { page: 'list' }
  | { page: 'experiment'; id: string }
  | { page: 'history'; id: string; seq: number | null }
  | { page: 'run'; id: string; path: string }
  | { page: 'missing'; path: string };

export function routeOf(pathname: string, search = ''): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'list' };
  if (parts[0] === 'e' && parts.length === 2) return { page: 'experiment', id: parts[1]! };
  if (parts[0] === 'e' && parts.length === 3 && parts[2] === 'history') {
    const seq = Number(new URLSearchParams(search).get('seq'));
    return { page: 'history', id: parts[1]!, seq: Number.isInteger(seq) && seq > 0 ? seq : null };
  }
  if (parts[0] === 'e' && parts.length === 6 && parts[2] === 'r' && /^\d+$/.test(parts[5]!)) return { page: 'run', id: parts[1]!, path: parts.slice(3).join('/') };
  return { page: 'missing', path: pathname };
}

/** Go to a path of the page without reloading it. */
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}


/// <reference lib="dom" />
/*
 * The live web UI's script (bundled by scripts/bundle.mjs into
 * dist/observe/serve/app.bundle.js): a router over the page's paths, the
 * live feed of the log's heads (server-sent events), and the pages.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Head } from './api.js';
import { ExperimentPage } from './experiment.js';
import { HistoryPage } from './history.js';
import { ListPage } from './list.js';
import { RunPage } from './run.js';
import { NotFound } from './problem.js';
import { loadMachines } from './chart.js';
import { navigate, routeOf, type Route } from './router.js';

/** The heads of the log, as the server tells them (null until the first), and whether the feed is connected. */
function useLive(): { heads: Head[] | null; connected: boolean } {
  const [heads, setHeads] = useState<Head[] | null>(null);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/live');
    source.addEventListener('heads', (event) => {
      setHeads(JSON.parse((event as MessageEvent<string>).data) as Head[]);
      setConnected(true);
    });
    source.onerror = () => setConnected(false);
    return () => source.close();
  }, []);
  return { heads, connected };
}

function App() {
  const [route, setRoute] = useState<Route>(() => routeOf(location.pathname, location.search));
  const live = useLive();
  useEffect(() => {
    const onPop = () => setRoute(routeOf(location.pathname, location.search));
    addEventListener('popstate', onPop);
    // links to the page's own paths move without a reload
    const onClick = (event: MouseEvent) => {
      const a = (event.target as HTMLElement).closest('a');
      if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || a.target) return;
      const href = a.getAttribute('href');
      if (!href || !href.startsWith('/') || href.startsWith('/api/')) return;
      event.preventDefault();
      navigate(href);
    };
    document.addEventListener('click', onClick);
    return () => { removeEventListener('popstate', onPop); document.removeEventListener('click', onClick); };
  }, []);
  const head = 'id' in route ? live.heads?.find((h) => h.experiment === route.id || h.experiment.startsWith(`${route.id}~`)) : undefined;
  // links to an experiment's pages only once the log is known to have it
  const id = 'id' in route && (live.heads === null || head) ? route.id : null;
  const version = head ? [head.lastSeq, head.driver] : live.heads;
  return (
    <>
      <nav class="top">
        <a class="brand" href="/">expctl</a>
        <a href="/">experiments</a>
        {id ? <a href={`/e/${encodeURIComponent(id)}`}>{id}</a> : null}
        {id ? <a href={`/e/${encodeURIComponent(id)}/history`}>history</a> : null}
        <span id="live" class={`live${live.connected ? '' : ' off'}`} title="changes to the log appear within a second">{live.connected ? '● live' : '○ reconnecting…'}</span>
      </nav>
      <Page route={route} version={version} />
    </>
  );
}

function Page({ route, version }: { route: Route; version: unknown }) {
  switch (route.page) {
    case 'list': return <ListPage version={version} />;
    case 'experiment': return <ExperimentPage id={route.id} version={version} />;
    case 'history': return <HistoryPage id={route.id} seq={route.seq} version={version} />;
    case 'run': return <RunPage id={route.id} path={route.path} version={version} />;
    default: return <NotFound what={`no page ${route.path}`} hint="the pages are the experiments list (/), an experiment (/e/ID), its history and its runs" />;
  }
}

if (typeof document !== 'undefined' && document.getElementById('app')) {
  // the statecharts are the same for every page: asked for at once
  void loadMachines();
  const root = document.getElementById('app')!;
  root.textContent = '';
  render(<App />, root);
}

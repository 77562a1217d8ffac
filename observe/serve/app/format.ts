/* Numbers as the CLI prints them (cli/format.ts), for the page. */

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
export const interval = (i: [number, number] | null | undefined, f: (x: number) => string = pct) => (i ? `[${f(i[0])}, ${f(i[1])}]` : '');
export const usd = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `$${x.toFixed(4)}`);
export const score2 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(2));
export const tokens = (x: number | null | undefined) => (x === null || x === undefined ? '–' : String(x));

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const OUTCOME_TEXT: Record<string, string> = { passed: '✓ passed', not_passed: '✗ not passed', errored: '! errored' };
export const outcomeText = (o: string | null) => (o ? OUTCOME_TEXT[o] ?? o : 'no outcome yet');
/** A state without its machine's prefix (`run_agent_complete` → `agent_complete`). */
export const bare = (state: string) => state.replace(/^(exp|tier|subtest|run)_/, '');

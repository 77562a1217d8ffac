/**
 * One measurement, as `npm run bench -- --json` prints it: `ratio` is
 * value / baseline (rates: higher is better; seconds and MB: lower is
 * better), null where there is no baseline.
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  /** The human table's line: what was measured, and against what. */
  label: string;
  baselineName: string | null;
}

export function result(name: string, label: string, value: number, unit: string, baseline: number | null = null, baselineName: string | null = null): BenchResult {
  const round = (x: number) => Number(x.toPrecision(4));
  return { name, label, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio: baseline && Number.isFinite(baseline) ? Number((value / baseline).toFixed(3)) : null, baselineName };
}

/** A line of the human table. */
export function line(r: BenchResult): string {
  const fmt = (x: number) => (r.unit === 'rows/s' ? Math.round(x).toLocaleString('en-US') : String(x)).padStart(10);
  const base = r.baseline === null || r.ratio === null ? '' : `   ${(r.baselineName ?? 'baseline').padEnd(24)} ${fmt(r.baseline)} ${r.unit.padEnd(6)}   ratio ${r.ratio!.toFixed(2)}`;
  return `${r.label.padEnd(44)} ${fmt(r.value)} ${r.unit.padEnd(6)}${base}`;
}

/** The best (lowest) of `repeat` timings of `fn`, in seconds. */
export function bestSeconds(repeat: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return best;
}

/**
 * The best of `repeat` timings of each of two functions, taken in turns (a,
 * b, a, b, …) so both see the same machine: a shared machine's load comes and
 * goes.
 */
export function bestOfBoth(repeat: number, a: () => void, b: () => void): [number, number] {
  let [bestA, bestB] = [Infinity, Infinity];
  for (let i = 0; i < repeat; i++) {
    bestA = Math.min(bestA, bestSeconds(1, a));
    bestB = Math.min(bestB, bestSeconds(1, b));
  }
  return [bestA, bestB];
}

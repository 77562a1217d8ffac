import type { StatusTree } from '../../observe/status-tree.js';

type Tree = Pick<StatusTree, 'experiment' | 'state'> & { tiers: { id: string; state: string; subtests: { id: string; state: string; runs: { run: number; state: string }[] }[] }[] };

/** [stream, state] of every actor of a status tree, depth first: what the viewer page lists, in order. */
export function flattenTree(tree: Tree): [string, string][] {
  const out: [string, string][] = [[tree.experiment, tree.state]];
  for (const t of tree.tiers) {
    out.push([`${tree.experiment}/${t.id}`, t.state]);
    for (const s of t.subtests) {
      out.push([`${tree.experiment}/${t.id}/${s.id}`, s.state]);
      for (const r of s.runs) out.push([`${tree.experiment}/${t.id}/${s.id}/${r.run}`, r.state]);
    }
  }
  return out;
}

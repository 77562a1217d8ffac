export interface TierDependency {
  id: string;
  dependsOn: readonly string[];
}

/**
 * Group tiers for execution: each group holds the tiers whose dependencies are
 * all in earlier groups. Tiers within a group may run concurrently. Tiers left
 * out (a cycle) are simply not returned; config validation rejects that earlier.
 *
 * @example tierGroups([{ id: 'T0', dependsOn: [] }, { id: 'T5', dependsOn: ['T0'] }]) // [['T0'], ['T5']]
 */
export function tierGroups(tiers: readonly TierDependency[]): string[][] {
  const groups: string[][] = [];
  const done = new Set<string>();
  let remaining = [...tiers];
  while (remaining.length > 0) {
    const ready = remaining.filter((t) => t.dependsOn.every((d) => done.has(d)));
    if (ready.length === 0) break;
    groups.push(ready.map((t) => t.id));
    for (const t of ready) done.add(t.id);
    remaining = remaining.filter((t) => !done.has(t.id));
  }
  return groups;
}

/** The first dependency cycle found, as a closed list of tier ids (`[a, b, a]`), or null. */
export function dependencyCycle(tiers: readonly TierDependency[]): string[] | null {
  const deps = new Map(tiers.map((t) => [t.id, t.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of deps.get(id) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const t of tiers) {
    const cycle = visit(t.id);
    if (cycle) return cycle;
  }
  return null;
}

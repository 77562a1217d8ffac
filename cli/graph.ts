import { toDot, toMermaid } from '../observe/diagram.js';
import { machineGraph, type MachineGraph } from '../engine/graph.js';
import { lifecycleRegistry } from '../runner/registry.js';
import { UsageError } from '../util/errors.js';
import type { Io } from './io.js';

import { GRAPH_FORMATS, type GraphFormat } from './options.js';

export { GRAPH_FORMATS, type GraphFormat };

export interface GraphOptions {
  format: GraphFormat;
}

/**
 * `expctl graph [machine] --format mermaid|dot|json`: a lifecycle machine's
 * definition as a diagram. Without a machine, all four in registry order:
 * Mermaid and DOT one after the other (a blank line between), JSON as one
 * array of graphs; with one, JSON is that machine's graph object (the
 * documented MachineGraph of engine/diagram.ts).
 */
export async function graphCommand(machine: string | undefined, options: GraphOptions, io: Io): Promise<void> {
  const format = options.format ?? 'mermaid';
  if (!GRAPH_FORMATS.includes(format)) {
    throw new UsageError(`unknown format "${String(format)}"`, `valid formats: ${GRAPH_FORMATS.join(', ')}`);
  }
  const valid = [...lifecycleRegistry.keys()];
  if (machine !== undefined && !lifecycleRegistry.has(machine)) {
    throw new UsageError(`unknown machine "${machine}"`, `valid machines: ${valid.join(', ')}`);
  }
  const graphs = (machine === undefined ? valid : [machine]).map((id) => machineGraph(lifecycleRegistry.get(id)!.machine));
  if (format === 'json') return io.out(`${JSON.stringify(machine === undefined ? graphs : graphs[0], null, 2)}\n`);
  const render: (g: MachineGraph) => string = format === 'dot' ? toDot : toMermaid;
  io.out(graphs.map(render).join('\n'));
}

/**
 * Writes docs/machines/<id>.mmd, the Mermaid diagram of each lifecycle
 * machine, from its definition (the same text as `expctl graph <id> --format
 * mermaid`). test/engine/diagram.test.ts fails when a file is out of date.
 *
 *   npx tsx docs/write-diagrams.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { toMermaid } from '../observe/diagram.js';
import { machineGraph } from '../engine/graph.js';
import { lifecycleRegistry } from '../runner/registry.js';

const dir = join(import.meta.dirname, 'machines');
mkdirSync(dir, { recursive: true });
for (const { id, machine } of lifecycleRegistry.values()) {
  const file = join(dir, `${id}.mmd`);
  const text = toMermaid(machineGraph(machine));
  let old: string | null = null;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // a new machine
  }
  if (old === text) {
    process.stdout.write(`${relative(process.cwd(), file)} is up to date\n`);
    continue;
  }
  writeFileSync(file, text);
  process.stdout.write(`wrote ${relative(process.cwd(), file)}\n`);
}

import { ANY_STATE, metaLines, type GraphTransition, type MachineGraph } from '../engine/graph.js';

/** Mermaid (stateDiagram-v2) and Graphviz DOT renderings of a machine graph: deterministic, escaped. */

function internalLine(t: GraphTransition): string {
  return `${t.label}${t.actions ? ` / ${t.actions.map((a) => a.type).join(', ')}` : ''}`;
}

// ---------------------------------------------------------------- Mermaid

const MERMAID_RESERVED = new Set(['state', 'note', 'end', 'as', 'direction', 'class', 'classdef', 'style', 'hide', 'scale', 'left', 'right', 'of', 'tb', 'bt', 'lr', 'rl', 'fork', 'join', 'choice', 'accTitle', 'accDescr', 'default'].map((w) => w.toLowerCase()));

/**
 * Mermaid text: a description (after `:`) ends at `:`, `;` or a newline, a
 * quoted state name at `"`, and `<…>` is read as HTML; those are replaced
 * by look-alikes (꞉ ； ' ‹ ›) and spaces.
 */
export function mermaidText(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/:/g, '\uA789') // ꞉ modifier letter colon
    .replace(/;/g, '\uFF1B') // ； fullwidth semicolon
    .replace(/"/g, "'")
    .replace(/</g, '\u2039') // ‹
    .replace(/>/g, '\u203A'); // ›
}

/** Mermaid node ids: a state id that is a plain word (not a keyword) as itself, any other as `s1`, `s2` … with its label. */
function mermaidIds(graph: MachineGraph): { ids: Map<string, string>; aliased: Set<string>; any: string } {
  const ids = new Map<string, string>();
  const aliased = new Set<string>();
  const taken = new Set<string>();
  const plain = (id: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(id) && !MERMAID_RESERVED.has(id.toLowerCase());
  for (const s of graph.states) if (plain(s.id)) ids.set(s.id, s.id), taken.add(s.id);
  let n = 0;
  const fresh = (base: string) => {
    let id = base;
    while (taken.has(id)) id = `${base}_${++n}`;
    taken.add(id);
    return id;
  };
  for (const s of graph.states) if (!ids.has(s.id)) ids.set(s.id, fresh(`s${graph.states.indexOf(s) + 1}`)), aliased.add(s.id);
  return { ids, aliased, any: fresh('any_state') };
}

/**
 * Mermaid stateDiagram-v2. Root-level transitions come from one pseudo-state
 * "any state" (drawing them from every state would multiply them by the
 * number of states); targetless transitions are written inside their state
 * as `event [guard] / actions` lines (UML internal transitions), as is the
 * state's meta.
 */
export function toMermaid(graph: MachineGraph): string {
  const { ids, aliased, any } = mermaidIds(graph);
  const id = (state: string) => (state === ANY_STATE ? any : ids.get(state)!);
  const lines = [`%% state machine "${mermaidText(graph.id)}", generated from its definition (expctl graph); do not edit`, 'stateDiagram-v2'];
  const internal = graph.transitions.filter((t) => t.target === null);
  const rootInternal = internal.filter((t) => t.source === ANY_STATE);
  const hasRoot = graph.transitions.some((t) => t.source === ANY_STATE);

  const declare = (parent: string | null, indent: string) => {
    for (const s of graph.states.filter((x) => x.parent === parent)) {
      const children = graph.states.some((x) => x.parent === s.id);
      if (children) {
        lines.push(`${indent}state "${mermaidText(s.label)}" as ${id(s.id)} {`);
        for (const c of graph.states.filter((x) => x.parent === s.id && x.initial)) lines.push(`${indent}  [*] --> ${id(c.id)}`);
        declare(s.id, `${indent}  `);
        for (const c of graph.states.filter((x) => x.parent === s.id && x.final)) lines.push(`${indent}  ${id(c.id)} --> [*]`);
        lines.push(`${indent}}`);
      } else if (aliased.has(s.id)) {
        lines.push(`${indent}state "${mermaidText(s.label)}" as ${id(s.id)}`);
      }
      for (const line of metaLines(s.meta)) lines.push(`${indent}${id(s.id)} : ${mermaidText(line)}`);
      for (const t of internal.filter((x) => x.source === s.id)) lines.push(`${indent}${id(s.id)} : ${mermaidText(internalLine(t))}`);
    }
  };
  if (hasRoot) {
    lines.push(`  state "any state" as ${any}`);
    for (const t of rootInternal) lines.push(`  ${any} : ${mermaidText(internalLine(t))}`);
  }
  declare(null, '  ');
  for (const s of graph.states.filter((x) => x.parent === null && x.initial)) lines.push(`  [*] --> ${id(s.id)}`);
  for (const t of graph.transitions) {
    if (t.target === null) continue;
    lines.push(`  ${id(t.source)} --> ${id(t.target)} : ${mermaidText(t.label)}`);
  }
  for (const s of graph.states.filter((x) => x.final && x.parent === null)) lines.push(`  ${id(s.id)} --> [*]`);
  if (hasRoot) lines.push('  classDef anyState fill:none,stroke-dasharray:5 5', `  class ${any} anyState`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- DOT

/** A DOT double-quoted string: backslashes and quotes escaped, newlines as `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n|\r/g, '\\n')}"`;
}

/**
 * Graphviz DOT, same conventions as toMermaid: a dashed "any state" node for
 * root-level transitions, internal transitions and meta inside the node
 * label, final states with a double border, compound states as clusters.
 */
export function toDot(graph: MachineGraph): string {
  const stateIds = new Set(graph.states.map((s) => s.id));
  const fresh = (base: string) => {
    let id = base;
    while (stateIds.has(id)) id = `_${id}`;
    return id;
  };
  const start = fresh('__initial');
  const any = fresh('__any_state');
  const compound = new Set(graph.states.filter((s) => graph.states.some((x) => x.parent === s.id)).map((s) => s.id));
  const internal = graph.transitions.filter((t) => t.target === null);
  const hasRoot = graph.transitions.some((t) => t.source === ANY_STATE);
  const lines = [
    `digraph ${dotString(graph.id)} {`,
    ...(compound.size > 0 ? ['  compound=true;'] : []),
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
    `  ${dotString(start)} [shape=point, label=""];`,
  ];
  const label = (name: string, extra: string[]) => dotString([name, ...extra].join('\n'));
  if (hasRoot) {
    const rootLines = internal.filter((t) => t.source === ANY_STATE).map(internalLine);
    lines.push(`  ${dotString(any)} [label=${label('any state', rootLines)}, style="rounded,dashed"];`);
  }
  // an edge to or from a compound state is drawn to its initial descendant (or first child), clipped at the cluster
  const anchor = (state: string): string => {
    if (!compound.has(state)) return state;
    const children = graph.states.filter((x) => x.parent === state);
    return anchor((children.find((c) => c.initial) ?? children[0])!.id);
  };
  const declare = (parent: string | null, indent: string) => {
    for (const s of graph.states.filter((x) => x.parent === parent)) {
      const extra = [...metaLines(s.meta), ...internal.filter((t) => t.source === s.id).map(internalLine)];
      if (compound.has(s.id)) {
        lines.push(`${indent}subgraph ${dotString(`cluster_${s.id}`)} {`, `${indent}  label=${label(s.label, extra)};`);
        declare(s.id, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${dotString(s.id)} [label=${label(s.label, extra)}${s.final ? ', peripheries=2' : ''}];`);
      }
    }
  };
  declare(null, '  ');
  const edge = (from: string, to: string, attrs: string[]) => {
    const clip = [...(compound.has(from) ? [`ltail=${dotString(`cluster_${from}`)}`] : []), ...(compound.has(to) ? [`lhead=${dotString(`cluster_${to}`)}`] : [])];
    const all = [...attrs, ...clip];
    return `  ${dotString(from === ANY_STATE ? any : anchor(from))} -> ${dotString(anchor(to))}${all.length > 0 ? ` [${all.join(', ')}]` : ''};`;
  };
  for (const s of graph.states.filter((x) => x.parent === null && x.initial)) lines.push(edge(start, s.id, []));
  for (const t of graph.transitions) {
    if (t.target === null) continue;
    lines.push(edge(t.source, t.target, [`label=${dotString(t.label)}`, ...(t.source === ANY_STATE ? ['style=dashed'] : [])]));
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * Path coverage: which transitions of each machine's definition the recorded
 * histories took. The universe is the definition's edges, exactly as the
 * diagrams draw them (engine/diagram.ts: one per transition and target,
 * identity (source, event, target), root-level ones with source `*`).
 *
 * Attribution, row by row, from the state before the row as the stream's
 * previous row records it (its state and context; nothing is replayed, so a
 * big log is read fast; `verify` checks that the records replay):
 * - the row's event: the transitions XState selects for it in the state
 *   before the row (`machine.getTransitionData`, guards evaluated as the
 *   step did). A root-level transition is an edge from `*`, so it matches in
 *   any state; a targetless one is its own edge (target null).
 * - eventless (`always`) transitions XState takes inside the same step, after
 *   the event (e.g. `run.finished` recorded at the root, then
 *   `subtest_runs_in_progress --always [allChildrenFinished]-->
 *   subtest_runs_complete`): every further microstep of the step
 *   (`getMicrosteps`) is attributed to the first `always` transition, in
 *   XState's selection order, of the states active before it whose target is
 *   active after it. Both the event's edge and the eventless one count as
 *   taken; no edge "run.finished → subtest_runs_complete" is invented, since
 *   the definition has none. The same holds for `actor.created`: the initial
 *   state is not an edge, eventless transitions right after it are.
 * - rows whose event no transition handles (effect.started, lease.taken_over …)
 *   take nothing, unless an eventless transition fires.
 */

import { getInitialMicrosteps, getMicrosteps, getNextTransitions, type AnyMachineSnapshot, type AnyStateMachine, type AnyStateNode, type AnyTransitionDefinition } from 'xstate';
import type { EventStore, TransitionRow } from '../store/types.js';
import { CorruptRowError } from '../store/errors.js';
import type { StateValue } from '../store/types.js';
import { mayTakeEventless, recordedStep, stayedWithoutEventless } from './coverage-steps.js';
import { isEvent } from './events.js';
import { indexedGraph, type GraphTransition } from './graph.js';
import { lookupMachine, type RegisteredMachine, type Registry } from './registry.js';

/** Where a transition was first taken. */
export interface FirstTaken {
  experiment: string;
  stream: string;
  seq: number;
}

export interface TakenTransition extends GraphTransition {
  /** How many times the histories took it. */
  count: number;
  first: FirstTaken;
}

/** The documented `coverage --json` entry of one machine. */
export interface MachineCoverage {
  machine: string;
  /** `id@version#hash` of the definition the coverage is measured against. */
  ref: string;
  /** Actors (streams) of this machine in the histories. */
  actors: number;
  /** Edges in the definition. */
  total: number;
  /** Edges taken at least once. */
  covered: number;
  /** covered / total × 100, one decimal (100 for a machine without transitions). */
  percent: number;
  /** In definition order. */
  taken: TakenTransition[];
  /** In definition order. */
  notTaken: GraphTransition[];
  /** Microsteps no definition transition explains (raised events); 0 for the lifecycle machines. */
  unattributed: number;
}

/** The documented `coverage --json` object. */
export interface CoverageReport {
  /** The experiment keys (`id` or `id~N`) whose histories were read. */
  experiments: string[];
  rows: number;
  /** Every machine of the registry, in registry order. */
  machines: MachineCoverage[];
}

/** What a row took: from the definition and the recorded states where they say (engine/coverage-steps.ts), else by evaluating the step from the recorded state before it. */
function stepOf(machine: AnyStateMachine, previous: TransitionRow | null, row: TransitionRow, exact: boolean): { taken: GraphTransition[]; unattributed: number } {
  if (!previous) return transitionsTaken(machine, null, row.event, isEvent(row.event, 'actor.created') ? row.event.data.input : undefined);
  const recorded = typeof previous.state === 'string' && !exact
    ? recordedStep(machine, { before: previous.state, beforeContext: previous.contextText, event: row.event.type, after: row.state, afterContext: row.contextText })
    : null;
  if (recorded) return { taken: recorded.flatMap((t) => indexedGraph(machine).edgesOf.get(t) ?? []), unattributed: 0 };
  let context: Record<string, unknown>;
  try {
    context = JSON.parse(previous.contextText) as Record<string, unknown>;
  } catch {
    throw new CorruptRowError(previous.seq, previous.stream, previous.version, 'its context is not valid JSON');
  }
  return transitionsTaken(machine, machine.resolveState({ value: previous.state as never, context }), row.event, undefined, row.state);
}

/** A stream's machine and latest row so far. */
interface Recorded {
  entry: RegisteredMachine;
  row: TransitionRow;
}

interface Tally {
  actors: number;
  unattributed: number;
  taken: Map<string, { count: number; first: FirstTaken }>;
}

/**
 * The definition edges a step took: from `before` (null for the row that
 * creates the actor, with `input`) on `event`.
 */
export function transitionsTaken(machine: AnyStateMachine, before: AnyMachineSnapshot | null, event: { type: string; data?: unknown }, input?: unknown, after?: StateValue): { taken: GraphTransition[]; unattributed: number } {
  const { edgesOf } = indexedGraph(machine);
  const taken: GraphTransition[] = [];
  let steps: AnyMachineSnapshot[];
  if (before === null) {
    if (!mayTakeEventless(machine, machine.root.initial?.target ?? [])) return { taken, unattributed: 0 };
    steps = getInitialMicrosteps(machine, input).map(([s]) => s);
  } else {
    const selected = machine.getTransitionData(before as never, event as never) as AnyTransitionDefinition[];
    for (const t of selected) taken.push(...(edgesOf.get(t) ?? []));
    if (!mayTakeEventless(machine, [...(before._nodes as AnyStateNode[]), ...selected.flatMap((t) => t.target ?? [])])) return { taken, unattributed: 0 };
    if (after !== undefined && stayedWithoutEventless(machine, before, selected, after)) return { taken, unattributed: 0 };
    steps = [before, ...getMicrosteps(machine, before as never, event as never).map(([s]) => s as AnyMachineSnapshot)];
  }
  // steps[0] is the state the event met (or the initial state), steps[1] the event's microstep; the rest are eventless
  let unattributed = 0;
  for (let i = before === null ? 1 : 2; i < steps.length; i++) {
    const t = eventlessTransition(steps[i - 1]!, steps[i]!);
    if (t) taken.push(...(edgesOf.get(t) ?? []));
    else unattributed += 1;
  }
  return { taken, unattributed };
}

function eventlessTransition(from: AnyMachineSnapshot, to: AnyMachineSnapshot): AnyTransitionDefinition | null {
  const candidates = getNextTransitions(from).filter((t) => t.eventType === '');
  const active = new Set(to._nodes as AnyStateNode[]);
  return candidates.find((t) => t.target && t.target.length > 0 && t.target.every((n: AnyStateNode) => active.has(n))) ?? candidates.find((t) => !t.target || t.target.length === 0) ?? null;
}

/** Collects the transitions taken by the histories of one or more experiments. */
export class CoverageCollector {
  private readonly tallies = new Map<string, Tally>();
  private readonly experiments: string[] = [];
  private rows = 0;

  /** `exact`: evaluate every step (no shortcuts from the recorded states); the shortcuts give the same report, faster. */
  constructor(private readonly registry: Registry, private readonly options: { exact?: boolean } = {}) {
    for (const id of registry.keys()) this.tallies.set(id, { actors: 0, unattributed: 0, taken: new Map() });
  }

  /** Read one experiment's log and record what each step took. */
  addExperiment(store: EventStore, experiment: string): this {
    const streams = new Map<string, Recorded>();
    for (const row of store.readTransitions(experiment, {})) this.addRow(streams, experiment, row);
    this.experiments.push(experiment);
    return this;
  }

  /** One row: the transitions it took from the state its stream's previous row records (`streams`: the latest of each). */
  addRow(streams: Map<string, Recorded>, experiment: string, row: TransitionRow): void {
    const previous = streams.get(row.stream);
    const entry = previous?.entry ?? lookupMachine(this.registry, row.machine, row.stream);
    streams.set(row.stream, { entry, row });
    const tally = this.tallies.get(entry.id)!;
    if (!previous) tally.actors += 1;
    const { taken, unattributed } = stepOf(entry.machine, previous?.row ?? null, row, this.options.exact ?? false);
    tally.unattributed += unattributed;
    for (const edge of taken) {
      const seen = tally.taken.get(edge.id);
      if (seen) seen.count += 1;
      else tally.taken.set(edge.id, { count: 1, first: { experiment, stream: row.stream, seq: row.seq } });
    }
    this.rows += 1;
  }

  report(): CoverageReport {
    const machines = [...this.registry.values()].map((entry): MachineCoverage => {
      const tally = this.tallies.get(entry.id)!;
      const all = indexedGraph(entry.machine).graph.transitions;
      const taken = all.flatMap((t) => {
        const seen = tally.taken.get(t.id);
        return seen ? [{ ...t, count: seen.count, first: seen.first }] : [];
      });
      const notTaken = all.filter((t) => !tally.taken.has(t.id));
      const percent = all.length === 0 ? 100 : Math.round((1000 * taken.length) / all.length) / 10;
      return { machine: entry.id, ref: entry.ref, actors: tally.actors, total: all.length, covered: taken.length, percent, taken, notTaken, unattributed: tally.unattributed };
    });
    return { experiments: [...this.experiments], rows: this.rows, machines };
  }
}

/**
 * @example const report = coverage(store, lifecycleRegistry, ['demo-001']);
 */
export function coverage(store: EventStore, registry: Registry, experiments: readonly string[]): CoverageReport {
  const collector = new CoverageCollector(registry);
  for (const experiment of experiments) collector.addExperiment(store, experiment);
  return collector.report();
}

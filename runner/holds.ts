import { isFinal, type EffectRequest, type ReplayedActor } from '../engine/index.js';
import { experimentMachine, runMachine, tierMachine } from '../machines/index.js';
import { positionOf, stateIndex } from './actor-tree.js';
import { UsageError } from '../util/errors.js';

/** `--until-<level> STATE`: where each level's actors stop. */
export interface UntilSpec {
  experiment?: string;
  tier?: string;
  run?: string;
}

type UntilLevel = keyof UntilSpec;

const MACHINES = { experiment: experimentMachine, tier: tierMachine, run: runMachine } as const;

/**
 * The states an `--until-<level>` flag may name: where an actor can be
 * stopped, inclusive (an action state: its effect does not start; a waiting
 * state: nothing below it moves; the rate-limit wait: its timer does not
 * fire; a completion state: the actor completes). Failure and interrupt
 * states are where an actor ends up, not where it can be stopped.
 */
export function stoppableStates(level: UntilLevel): string[] {
  const states = MACHINES[level].states as Record<string, { meta?: { effect?: string; awaits?: string; timer?: unknown; final?: boolean } }>;
  return Object.keys(states).filter((name) => {
    const meta = states[name]?.meta ?? {};
    return Boolean(meta.effect || meta.awaits || meta.timer || meta.final);
  });
}

/** Checks an `--until-*` state name; throws (exit 2) listing the valid ones otherwise. */
export function checkUntilState(flag: string, level: UntilLevel, state: string): string {
  const valid = stoppableStates(level);
  if (!valid.includes(state)) throw new UsageError(`${flag}: "${state}" is not a state ${level}s can be stopped at`, `valid states: ${valid.join(', ')}`);
  return state;
}

/** The early stops of one drive, as pure questions about the live actors. */
export interface Holds {
  /** Whether this actor is at or past its level's stop state (it must not move). */
  isHeld(actor: ReplayedActor): boolean;
  /** Whether an effect (or, for `request` null, a timer) of this actor must wait: it, or an actor above it, is held. */
  holds(request: EffectRequest | null, actor: ReplayedActor, actors: ReadonlyMap<string, ReplayedActor>): boolean;
  /** Actors that are not done and are held: the ones waiting for a later `resume`. */
  heldActors(actors: ReadonlyMap<string, ReplayedActor>): ReplayedActor[];
}

export function createHolds(until: UntilSpec): Holds {
  const isHeld = (actor: ReplayedActor): boolean => {
    const level = actor.entry.id as UntilLevel;
    const stop = until[level];
    return stop !== undefined && level in MACHINES && positionOf(actor) >= stateIndex(actor, stop);
  };
  const ancestors = (actor: ReplayedActor, actors: ReadonlyMap<string, ReplayedActor>): ReplayedActor[] => {
    const above: ReplayedActor[] = [];
    for (let parent = actor.parent ? actors.get(actor.parent) : undefined; parent; parent = parent.parent ? actors.get(parent.parent) : undefined) above.push(parent);
    return above;
  };
  return {
    isHeld,
    holds: (_request, actor, actors) => isHeld(actor) || ancestors(actor, actors).some(isHeld),
    heldActors: (actors) => [...actors.values()].filter((a) => !isFinal(a.snapshot) && isHeld(a)),
  };
}

/*
 * The rows of the viewer's page and the actors as of any of them. Runs in
 * the browser (bundled into the page's script) and in tests alike: pure, it
 * sees only the page's data and a way to read a chunk's text.
 */
import type { RunPlan, TreeNode } from '../status-tree.js';
import type { FinalActor, TreeChange, ViewerChunk, ViewerData } from './data.js';

/** An actor as of a row: its tree node, its machine, its previous state and the index of its latest row. */
export interface ActorAt extends TreeNode {
  machine: string;
  previous: string | null;
  row: number;
}

/** One row as the page shows it. */
export interface RowAt {
  seq: number;
  at: string;
  stream: string;
  type: string;
  state: string;
}

type Actors = Map<string, ActorAt>;

/**
 * Rows are decoded a chunk at a time, when first needed. The actors as of
 * the last row come with the data (the page opens there); as of any other
 * row, they are folded from the actors at the start of its chunk, which are
 * kept once computed (so moving back and forth folds each row once).
 */
export class Timeline {
  private readonly decoded = new Map<number, ViewerChunk>();
  /** keyframes[k]: the actors before the first row of chunk k. */
  private readonly keyframes: (Actors | undefined)[] = [new Map()];
  private finalActors: Actors | null = null;

  constructor(readonly data: ViewerData, private readonly chunkText: (chunk: number) => string) {}

  get last(): number {
    return this.data.rows - 1;
  }

  row(index: number): RowAt {
    const { data } = this;
    const chunk = this.chunk(Math.floor(index / data.chunkSize));
    const k = index % data.chunkSize;
    const at = chunk.at[k]!;
    return {
      seq: chunk.seq[k]!,
      at: typeof at === 'number' ? new Date(data.t0 + at).toISOString() : at,
      stream: data.streams[chunk.s[k]!]!.stream,
      type: data.types[chunk.type[k]!]!,
      state: data.states[chunk.state[k]!]!,
    };
  }

  /** How many runs the experiment's config expected as of row `index` (null before it was recorded). */
  planAt(index: number): RunPlan | null {
    let plan: RunPlan | null = null;
    for (const [at, recorded] of this.data.plans) if (at <= index) plan = recorded;
    return plan;
  }

  /** The actors as of row `index` (inclusive; -1: before any row), by stream. */
  actorsAt(index: number): Actors {
    if (index >= this.last) return this.final();
    if (index < 0) return new Map();
    const c = Math.floor(index / this.data.chunkSize);
    const actors = new Map(this.keyframe(c));
    this.fold(actors, c, index % this.data.chunkSize);
    return actors;
  }

  private final(): Actors {
    if (!this.finalActors) this.finalActors = new Map(this.data.final.map((a) => [this.data.streams[a.s]!.stream, this.finalActor(a)]));
    return this.finalActors;
  }

  private finalActor(a: FinalActor): ActorAt {
    const { streams, states } = this.data;
    return { ...node(a), machine: streams[a.s]!.machine, state: states[a.state]!, previous: a.previous < 0 ? null : states[a.previous]!, row: a.row };
  }

  private keyframe(c: number): Actors {
    let known = c;
    while (!this.keyframes[known]) known -= 1;
    for (let k = known; k < c; k++) {
      const actors = new Map(this.keyframes[k]!);
      this.fold(actors, k, this.data.chunkSize - 1);
      this.keyframes[k + 1] = actors;
    }
    return this.keyframes[c]!;
  }

  /** Apply rows 0..upTo of chunk `c` to `actors`. */
  private fold(actors: Actors, c: number, upTo: number): void {
    const { streams, states, chunkSize } = this.data;
    const chunk = this.chunk(c);
    const changes = new Map(chunk.tree);
    for (let k = 0; k <= upTo && k < chunk.seq.length; k++) {
      const { stream, machine } = streams[chunk.s[k]!]!;
      const prev = actors.get(stream);
      const next: ActorAt = { machine, children: [], attempt: 0, best: null, ...prev, state: states[chunk.state[k]!]!, previous: prev ? prev.state : null, row: c * chunkSize + k };
      const change = changes.get(k);
      if (change) Object.assign(next, change);
      actors.set(stream, next);
    }
  }

  private chunk(c: number): ViewerChunk {
    let chunk = this.decoded.get(c);
    if (!chunk) {
      chunk = JSON.parse(this.chunkText(c)) as ViewerChunk;
      this.decoded.set(c, chunk);
    }
    return chunk;
  }
}

/** A tree node from the fields an actor recorded (defaults for the ones it never had). */
function node(fields: TreeChange): Pick<TreeNode, 'children' | 'attempt' | 'best' | 'result'> {
  return { children: fields.children ?? [], attempt: fields.attempt ?? 0, best: fields.best ?? null, ...(fields.result !== undefined ? { result: fields.result } : {}) };
}

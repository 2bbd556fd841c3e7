/**
 * Seeded generators of request traces with the shapes real KV-cache traffic has, for the policy
 * tests and `kvtier-bench policies --trace gen:NAME`. A trace is each request's chunk ids in
 * prefix order; equal ids mean an equal prefix up to that chunk, and a request's last chunk is a
 * partial tail no other request shares (as in the Mooncake traces). The parameters are round
 * numbers chosen once from the shape of each workload, not fitted to any policy's results; the
 * only sizing rule is that each working set spans the capacities the benchmark tries (1k-20k).
 */
import type { ChunkTrace } from '../policies/replay.ts';
import { SeededRandom, Zipf } from './random.ts';

/** Hands out fresh chunk ids, and the same id for the same prefix path. */
class ChunkIds {
  #next = 0;
  readonly #named = new Map<string, number>();

  /** A chunk no other prefix has. */
  fresh(): number {
    return this.#next++;
  }

  /** `n` fresh chunks. */
  run(n: number): number[] {
    return Array.from({ length: n }, () => this.fresh());
  }

  /** The chunk id of path `name` (the same name, the same id). */
  named(name: string): number {
    let id = this.#named.get(name);
    if (id === undefined) this.#named.set(name, (id = this.fresh()));
    return id;
  }
}

/** Options of every generator. */
export interface TraceOptions {
  /** The seed; default 1. */
  readonly seed?: number;
  /** Requests to generate; default 20 000. */
  readonly requests?: number;
}

function setup(options: TraceOptions | undefined): { random: SeededRandom; ids: ChunkIds; requests: number } {
  return { random: new SeededRandom(options?.seed ?? 1), ids: new ChunkIds(), requests: options?.requests ?? 20_000 };
}

/**
 * Conversations that grow: `concurrent` of them open at a time, each starting from `open()`; each
 * step picks an open one at random, appends `grow()` fresh chunks and sends the whole context plus
 * a fresh tail. A conversation lasts `meanSteps` steps on average (geometric).
 */
function growing(options: TraceOptions | undefined, concurrent: number, meanSteps: number,
  open: (random: SeededRandom, ids: ChunkIds) => number[], grow: (random: SeededRandom) => number): ChunkTrace {
  const { random, ids, requests } = setup(options);
  const sessions: { context: number[]; stepsLeft: number }[] = [];
  const trace: number[][] = [];
  while (trace.length < requests) {
    while (sessions.length < concurrent) sessions.push({ context: open(random, ids), stepsLeft: random.geometric(meanSteps) });
    const i = random.int(0, sessions.length - 1);
    const session = sessions[i];
    session.context.push(...ids.run(grow(random)));
    trace.push([...session.context, ids.fresh()]);
    if (--session.stepsLeft === 0) sessions.splice(i, 1);
  }
  return trace;
}

/**
 * Multi-turn chat: about 512 conversations open at a time, each on one of 8 system prompts (2 to
 * 23 chunks); a conversation's next turn resends its whole history plus the new message (1 to 6
 * chunks), so sessions grow turn by turn, with gaps while other conversations run. A conversation
 * lasts 6 turns on average.
 */
export function chatTrace(options?: TraceOptions): ChunkTrace {
  let systems: number[][] | undefined;
  return growing(options, 512, 6, (random, ids) => {
    systems ??= Array.from({ length: 8 }, (_, i) => ids.run(2 + 3 * i));
    return [...systems[random.int(0, systems.length - 1)]];
  }, (random) => random.int(1, 6));
}

/**
 * RAG: one shared 4-chunk instruction prompt, then one document of a pool of 5 000 (4 to 24 chunks)
 * drawn by Zipf popularity, then a fresh question of 1 to 3 chunks.
 */
export function ragTrace(options?: TraceOptions): ChunkTrace {
  const { random, ids, requests } = setup(options);
  const instructions = ids.run(4);
  const docs = Array.from({ length: 5000 }, () => ids.run(random.int(4, 24)));
  const popularity = new Zipf(docs.length, 1);
  const trace: number[][] = [];
  while (trace.length < requests) trace.push([...instructions, ...docs[popularity.draw(random)], ...ids.run(random.int(1, 3))]);
  return trace;
}

/**
 * Agents: 4 agents with long system prompts (40 to 100 chunks); about 256 tasks run at a time, each
 * a fresh task description (2 to 6 chunks) then a loop of tool calls, every call resending the
 * whole context with the last tool output appended (1 to 4 chunks); a task takes 8 calls on average.
 */
export function agentTrace(options?: TraceOptions): ChunkTrace {
  let agents: number[][] | undefined;
  return growing(options, 256, 8, (random, ids) => {
    agents ??= Array.from({ length: 4 }, () => ids.run(random.int(40, 100)));
    return [...agents[random.int(0, agents.length - 1)], ...ids.run(random.int(2, 6))];
  }, (random) => random.int(1, 4));
}

/**
 * A scan over a hot set: 60% of requests reuse one of 400 hot prompts (4 to 30 chunks, uniform
 * popularity) with a fresh tail; the others read a one-off document of 20 to 200 chunks that is
 * never seen again (the scan that flushes an LRU cache).
 */
export function scanTrace(options?: TraceOptions): ChunkTrace {
  const { random, ids, requests } = setup(options);
  const hot = Array.from({ length: 400 }, () => ids.run(random.int(4, 30)));
  const trace: number[][] = [];
  while (trace.length < requests) {
    if (random.next() < 0.6) trace.push([...hot[random.int(0, hot.length - 1)], ids.fresh()]);
    else trace.push(ids.run(random.int(20, 200)));
  }
  return trace;
}

/** The generators by name, as `--trace gen:NAME` selects them. */
export const TRACE_GENERATORS: Readonly<Record<string, (options?: TraceOptions) => ChunkTrace>> = {
  chat: chatTrace,
  rag: ragTrace,
  agent: agentTrace,
  scan: scanTrace,
};

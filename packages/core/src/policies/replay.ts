/**
 * Replays a request trace through an eviction policy over a cache of fixed capacity, counting
 * prefix hits: the measure the `policies` benchmark reports and the tests pin down.
 *
 * One request = its chunk keys in prefix order. Its hits are its longest run of leading keys
 * already cached (a chunk past the first miss cannot be used: its KV depends on the missed one).
 * Then its cached keys are touched (one batch) and its missing keys created (one batch, in prefix
 * order, with each one's parent and whether it ends the request). When that would overfill the cache, exactly the excess is evicted first, never a key of
 * the request itself (an engine holds those locked), and only the prefix of the missing keys that
 * fits is inserted when a request alone is larger than the cache.
 */
import { invalidArgument } from '../errors.ts';
import { ratioForCount, type EvictionPolicy, type PrefixInfo } from './eviction.ts';

/** Hits and references of one replay. */
export interface ReplayResult {
  /** Chunk references that were prefix hits. */
  readonly hits: number;
  /** Chunk references in the trace. */
  readonly references: number;
  /** hits / references (0 for an empty trace). */
  readonly hitRatio: number;
}

/** A trace: each request's chunk keys, in prefix order. */
export type ChunkTrace = readonly (readonly number[])[];

function checkCapacity(capacity: number): void {
  if (!(capacity === Infinity || (Number.isSafeInteger(capacity) && capacity > 0))) {
    invalidArgument(`replay capacity must be a positive integer or Infinity, got ${String(capacity)}`);
  }
}

function result(hits: number, references: number): ReplayResult {
  return { hits, references, hitRatio: references === 0 ? 0 : hits / references };
}

function leadingRun(keys: readonly number[], cached: { has(key: number): boolean }): number {
  let n = 0;
  while (n < keys.length && cached.has(keys[n])) n++;
  return n;
}

/**
 * One request's bookkeeping, shared by both replays: its hits, its cached keys, and the missing
 * keys that fit. Keys repeated within a request count once.
 */
function admit(keys: readonly number[], cached: Set<number>, capacity: number): { hits: number; present: number[]; insert: number[]; tree: PrefixInfo<number> } {
  const hits = leadingRun(keys, cached);
  const present: number[] = [];
  const missing: number[] = [];
  const parents: (number | undefined)[] = [];
  const tails: boolean[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (seen.has(key)) continue;
    seen.add(key);
    if (cached.has(key)) {
      present.push(key);
    } else {
      missing.push(key);
      parents.push(i === 0 ? undefined : keys[i - 1]);
      tails.push(i === keys.length - 1);
    }
  }
  const fits = Math.max(0, capacity - present.length);
  return { hits, present, insert: missing.slice(0, fits), tree: { parents: parents.slice(0, fits), tails: tails.slice(0, fits) } };
}

/** Replays `trace` through `policy` over a cache of `capacity` chunks (Infinity = unbounded). */
export function replayPolicy(trace: ChunkTrace, policy: EvictionPolicy<number>, capacity: number): ReplayResult {
  checkCapacity(capacity);
  const cached = new Set<number>();
  let hits = 0;
  let references = 0;
  for (const keys of trace) {
    references += keys.length;
    const request = admit(keys, cached, capacity);
    hits += request.hits;
    if (request.present.length > 0) policy.touched(request.present);
    const excess = cached.size + request.insert.length - capacity;
    if (excess > 0) {
      const inRequest = new Set(keys);
      const victims = policy.victims(ratioForCount(excess, policy.size), (key) => !inRequest.has(key));
      if (victims.length !== excess) invalidArgument(`policy '${policy.name}' gave ${victims.length} victims, ${excess} were needed`);
      for (const key of victims) {
        if (!cached.delete(key)) invalidArgument(`policy '${policy.name}' proposed key ${key}, which is not cached`);
      }
      policy.removed(victims);
    }
    for (const key of request.insert) cached.add(key);
    if (request.insert.length > 0) policy.created(request.insert, request.tree);
  }
  return result(hits, references);
}

/**
 * A binary max-heap of (priority, tiebreak, key) triples in parallel arrays; stale entries are
 * skipped by the caller (lazy deletion), so updates are plain pushes.
 */
class MaxHeap {
  #priority: number[] = [];
  #tiebreak: number[] = [];
  #key: number[] = [];

  get length(): number {
    return this.#key.length;
  }

  push(priority: number, tiebreak: number, key: number): void {
    this.#priority.push(priority);
    this.#tiebreak.push(tiebreak);
    this.#key.push(key);
    let i = this.#key.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#above(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes the top entry; returns [priority, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.#priority[0], this.#key[0]];
    const last = this.#key.length - 1;
    this.#swap(0, last);
    this.#priority.pop();
    this.#tiebreak.pop();
    this.#key.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1, r = l + 1;
      let best = i;
      if (l < last && this.#above(l, best)) best = l;
      if (r < last && this.#above(r, best)) best = r;
      if (best === i) break;
      this.#swap(i, best);
      i = best;
    }
    return top;
  }

  #above(a: number, b: number): boolean {
    const pa = this.#priority[a], pb = this.#priority[b];
    return pa > pb || (pa === pb && this.#tiebreak[a] > this.#tiebreak[b]);
  }

  #swap(a: number, b: number): void {
    for (const arr of [this.#priority, this.#tiebreak, this.#key]) {
      const t = arr[a];
      arr[a] = arr[b];
      arr[b] = t;
    }
  }
}

/**
 * Belady's offline policy on the same replay: evict the cached key whose next request is the
 * farthest away (never again = farthest of all); on a tie, the one deeper in its request, since
 * a prefix hit needs the shallower key first. It is the usual ceiling for this replay, not a
 * proven one: with prefix hits, farthest-next-use is not always optimal.
 */
export function replayBelady(trace: ChunkTrace, capacity: number): ReplayResult {
  checkCapacity(capacity);
  const never = trace.length;
  // nextUse[r][j]: the next request after r that references trace[r][j], or `never`.
  const nextUse: Int32Array[] = new Array(trace.length);
  const seenAt = new Map<number, number>();
  for (let r = trace.length - 1; r >= 0; r--) {
    const keys = trace[r];
    const next = new Int32Array(keys.length);
    for (let j = 0; j < keys.length; j++) next[j] = seenAt.get(keys[j]) ?? never;
    for (const key of keys) seenAt.set(key, r);
    nextUse[r] = next;
  }
  const cached = new Set<number>();
  const currentNext = new Map<number, number>();
  const heap = new MaxHeap();
  let hits = 0;
  let references = 0;
  for (let r = 0; r < trace.length; r++) {
    const keys = trace[r];
    references += keys.length;
    const request = admit(keys, cached, capacity);
    hits += request.hits;
    // The request's own keys still carry next use = r, the nearest possible, so they are
    // evicted last; admit() leaves enough other keys to cover the excess.
    for (let excess = cached.size + request.insert.length - capacity; excess > 0;) {
      const [priority, key] = heap.pop();
      if (!cached.has(key) || currentNext.get(key) !== priority) continue;
      cached.delete(key);
      currentNext.delete(key);
      excess--;
    }
    for (const key of request.insert) cached.add(key);
    const next = nextUse[r];
    for (let j = 0; j < keys.length; j++) {
      if (!cached.has(keys[j]) || currentNext.get(keys[j]) === next[j]) continue;
      currentNext.set(keys[j], next[j]);
      heap.push(next[j], j, keys[j]);
    }
  }
  return result(hits, references);
}

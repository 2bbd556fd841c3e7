/**
 * One list policy's own bookkeeping: each key it tracks is in exactly one of a few FIFO queues
 * (LRU's one list, ARC's T1/T2/B1/B2, S3-FIFO's small/main/ghost).
 *
 * Keys are the dense ids of a {@link SharedKeys} (which several policies may share); the links
 * live in typed arrays indexed by those ids (doubly linked by index, like node-lru-cache), grown
 * with the shared arrays, so a steady-state cache allocates nothing. Memory per id: two Int32
 * links, the queue and a counter byte (10 bytes), whether or not this policy tracks the id.
 */
import { NONE, grown } from './ids.ts';
import type { SharedKeys } from './shared-keys.ts';

/** {@link KeyQueues.queueOf} of an id this policy does not track. */
const UNTRACKED = 255;

/** The largest per-id counter {@link KeyQueues.counter} holds (S3-FIFO's two frequency bits). */
const COUNTER_MAX = 255;

/** Ids in `queueCount` doubly linked FIFO queues; head = oldest, tail = newest. */
export class KeyQueues<K> {
  readonly #keys: SharedKeys<K>;
  #next: Int32Array;
  #prev: Int32Array;
  #queue: Uint8Array;
  #counter: Uint8Array;
  readonly #heads: Int32Array;
  readonly #tails: Int32Array;
  readonly #lengths: Uint32Array;

  /**
   * @param keys - the ids' owner
   * @param queueCount - how many queues (at most 254)
   */
  constructor(keys: SharedKeys<K>, queueCount: number) {
    this.#keys = keys;
    const n = keys.length;
    this.#next = new Int32Array(n);
    this.#prev = new Int32Array(n);
    this.#queue = new Uint8Array(n).fill(UNTRACKED);
    this.#counter = new Uint8Array(n);
    this.#heads = new Int32Array(queueCount).fill(NONE);
    this.#tails = new Int32Array(queueCount).fill(NONE);
    this.#lengths = new Uint32Array(queueCount);
  }

  /** Grows the per-id arrays to `length` ids (the shared keys grew). */
  grow(length: number): void {
    this.#next = grown(this.#next, new Int32Array(length));
    this.#prev = grown(this.#prev, new Int32Array(length));
    this.#queue = grown(this.#queue, new Uint8Array(length).fill(UNTRACKED));
    this.#counter = grown(this.#counter, new Uint8Array(length));
  }

  /** Whether this policy tracks a live id (in any of its queues). */
  tracks(id: number): boolean {
    return this.#queue[id] !== UNTRACKED;
  }

  /** The key of a live id. */
  key(id: number): K {
    return this.#keys.key(id);
  }

  /** The queue a tracked id is in. */
  queueOf(id: number): number {
    return this.#queue[id];
  }

  /** Number of ids in `queue`. */
  length(queue: number): number {
    return this.#lengths[queue];
  }

  /** The oldest id of `queue`, or {@link NONE}. */
  head(queue: number): number {
    return this.#heads[queue];
  }

  /** The next newer id in the same queue, or {@link NONE}. */
  next(id: number): number {
    return this.#next[id];
  }

  /** A small per-id counter (S3-FIFO's access frequency); 0 for a new id. */
  counter(id: number): number {
    return this.#counter[id];
  }

  /** Sets the per-id counter, clamped to [0, 255]. */
  setCounter(id: number, value: number): void {
    this.#counter[id] = Math.max(0, Math.min(COUNTER_MAX, value));
  }

  /** Starts tracking a live id at the tail (newest end) of `queue`. */
  add(id: number, queue: number): void {
    this.#keys.acquire(id);
    this.#counter[id] = 0;
    this.#link(id, queue);
  }

  /** Moves a tracked id to the tail (newest end) of `queue`, which may be its own queue. */
  moveToTail(id: number, queue: number): void {
    this.#unlink(id);
    this.#link(id, queue);
  }

  /** Moves a tracked id to the head (oldest end) of `queue`, which may be its own queue. */
  moveToHead(id: number, queue: number): void {
    this.#unlink(id);
    const head = this.#heads[queue];
    this.#queue[id] = queue;
    this.#prev[id] = NONE;
    this.#next[id] = head;
    if (head === NONE) this.#tails[queue] = id;
    else this.#prev[head] = id;
    this.#heads[queue] = id;
    this.#lengths[queue]++;
  }

  /** Stops tracking an id; the shared keys recycle it once no policy tracks it. */
  delete(id: number): void {
    this.#unlink(id);
    this.#queue[id] = UNTRACKED;
    this.#keys.release(id);
  }

  #link(id: number, queue: number): void {
    const tail = this.#tails[queue];
    this.#queue[id] = queue;
    this.#prev[id] = tail;
    this.#next[id] = NONE;
    if (tail === NONE) this.#heads[queue] = id;
    else this.#next[tail] = id;
    this.#tails[queue] = id;
    this.#lengths[queue]++;
  }

  #unlink(id: number): void {
    const queue = this.#queue[id];
    const prev = this.#prev[id];
    const next = this.#next[id];
    if (prev === NONE) this.#heads[queue] = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tails[queue] = prev;
    else this.#prev[next] = prev;
    this.#lengths[queue]--;
  }
}

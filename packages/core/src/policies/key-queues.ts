/**
 * The bookkeeping every list-based eviction policy shares: a set of keys, each in exactly one of a
 * few FIFO queues (LRU's one list, ARC's T1/T2/B1/B2, S3-FIFO's small/main/ghost).
 *
 * Nodes live in typed arrays (doubly linked by index, like node-lru-cache) that grow by doubling
 * when the tracked set outgrows them; a free list recycles the indices of removed nodes, so a
 * steady-state cache allocates nothing. A `Map` finds a key's node; it compares with SameValueZero,
 * so strings, numbers and bigints (128-bit digests) all work as keys.
 */

/** "No node": the end of a queue, or a key that is not tracked. */
export const NONE = -1;

/** The largest per-node counter {@link KeyQueues.counter} holds (S3-FIFO's two frequency bits). */
const COUNTER_MAX = 255;

/** Preallocation stops here; a larger tracked set grows the arrays as it arrives. */
const MAX_PREALLOCATED_NODES = 1 << 20;

/** Per-node flag: this node was returned by `victims()` and has not been removed or used since. */
const PROPOSED = 1;

/** `larger` with `old` copied to its start. */
function grown<T extends Int32Array | Uint8Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
}

/** Keys in `queueCount` doubly linked FIFO queues; head = oldest, tail = newest. */
export class KeyQueues<K> {
  #keys: (K | undefined)[] = [];
  #next: Int32Array;
  #prev: Int32Array;
  #queue: Uint8Array;
  #flags: Uint8Array;
  #counter: Uint8Array;
  readonly #heads: Int32Array;
  readonly #tails: Int32Array;
  readonly #lengths: Uint32Array;
  readonly #index = new Map<K, number>();
  #free = NONE;
  #used = 0;

  /**
   * @param queueCount - how many queues (at most 255)
   * @param initialNodes - nodes to allocate up front (the expected number of tracked keys)
   */
  constructor(queueCount: number, initialNodes = 64) {
    const n = Math.min(MAX_PREALLOCATED_NODES, Math.max(16, initialNodes));
    this.#next = new Int32Array(n);
    this.#prev = new Int32Array(n);
    this.#queue = new Uint8Array(n);
    this.#flags = new Uint8Array(n);
    this.#counter = new Uint8Array(n);
    this.#heads = new Int32Array(queueCount).fill(NONE);
    this.#tails = new Int32Array(queueCount).fill(NONE);
    this.#lengths = new Uint32Array(queueCount);
  }

  /** The node holding `key`, or {@link NONE}. */
  find(key: K): number {
    return this.#index.get(key) ?? NONE;
  }

  /** The key of a live node. */
  key(node: number): K {
    return this.#keys[node] as K;
  }

  /** The queue a live node is in. */
  queueOf(node: number): number {
    return this.#queue[node];
  }

  /** Number of nodes in `queue`. */
  length(queue: number): number {
    return this.#lengths[queue];
  }

  /** The oldest node of `queue`, or {@link NONE}. */
  head(queue: number): number {
    return this.#heads[queue];
  }

  /** The next newer node in the same queue, or {@link NONE}. */
  next(node: number): number {
    return this.#next[node];
  }

  /** A small per-node counter (S3-FIFO's access frequency); 0 for a new node. */
  counter(node: number): number {
    return this.#counter[node];
  }

  /** Sets the per-node counter, clamped to [0, 255]. */
  setCounter(node: number, value: number): void {
    this.#counter[node] = Math.max(0, Math.min(COUNTER_MAX, value));
  }

  /** Whether the node was returned by `victims()` and not removed or used since. */
  isProposed(node: number): boolean {
    return (this.#flags[node] & PROPOSED) !== 0;
  }

  /** Marks or unmarks the node as a proposed victim. */
  setProposed(node: number, proposed: boolean): void {
    this.#flags[node] = proposed ? this.#flags[node] | PROPOSED : this.#flags[node] & ~PROPOSED;
  }

  /** Adds an untracked key at the tail (newest end) of `queue`; returns its node. */
  add(key: K, queue: number): number {
    const node = this.#allocate();
    this.#keys[node] = key;
    this.#flags[node] = 0;
    this.#counter[node] = 0;
    this.#index.set(key, node);
    this.#link(node, queue);
    return node;
  }

  /** Moves a live node to the tail (newest end) of `queue`, which may be its own queue. */
  moveToTail(node: number, queue: number): void {
    this.#unlink(node);
    this.#link(node, queue);
  }

  /** Moves a live node to the head (oldest end) of `queue`, which may be its own queue. */
  moveToHead(node: number, queue: number): void {
    this.#unlink(node);
    const head = this.#heads[queue];
    this.#queue[node] = queue;
    this.#prev[node] = NONE;
    this.#next[node] = head;
    if (head === NONE) this.#tails[queue] = node;
    else this.#prev[head] = node;
    this.#heads[queue] = node;
    this.#lengths[queue]++;
  }

  /** Forgets a live node's key and recycles the node. */
  delete(node: number): void {
    this.#unlink(node);
    this.#index.delete(this.#keys[node] as K);
    this.#keys[node] = undefined;
    this.#next[node] = this.#free;
    this.#free = node;
  }

  #allocate(): number {
    if (this.#free !== NONE) {
      const node = this.#free;
      this.#free = this.#next[node];
      return node;
    }
    if (this.#used === this.#next.length) this.#grow();
    return this.#used++;
  }

  #grow(): void {
    const n = this.#next.length * 2;
    this.#next = grown(this.#next, new Int32Array(n));
    this.#prev = grown(this.#prev, new Int32Array(n));
    this.#queue = grown(this.#queue, new Uint8Array(n));
    this.#flags = grown(this.#flags, new Uint8Array(n));
    this.#counter = grown(this.#counter, new Uint8Array(n));
  }

  #link(node: number, queue: number): void {
    const tail = this.#tails[queue];
    this.#queue[node] = queue;
    this.#prev[node] = tail;
    this.#next[node] = NONE;
    if (tail === NONE) this.#heads[queue] = node;
    else this.#next[tail] = node;
    this.#tails[queue] = node;
    this.#lengths[queue]++;
  }

  #unlink(node: number): void {
    const queue = this.#queue[node];
    const prev = this.#prev[node];
    const next = this.#next[node];
    if (prev === NONE) this.#heads[queue] = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tails[queue] = prev;
    else this.#prev[next] = prev;
    this.#lengths[queue]--;
  }
}

/**
 * The key index, residency and prefix tree of one or more list policies over the same resident
 * keys: a standalone `lru`, `arc` or `s3fifo` owns one; `adaptive`'s three candidates share one,
 * so a key is looked up, flagged and placed in the tree once per event instead of once per
 * candidate (three `Map`s and three forests cost `adaptive` 5–12× LRU's event).
 *
 * Each tracked key has a dense id: an index into parallel typed arrays allocated once and grown by
 * doubling, recycled through a free list once no member tracks the key (resident or as a ghost).
 * Members keep only their own list links and flags, in typed arrays indexed by the same ids
 * ({@link KeyQueues}). The events enter here: each key is found once, then every member is told
 * by id ({@link KeyMember}). A `Map` finds a key's id; it compares with SameValueZero, so strings,
 * numbers and bigints (128-bit digests) all work as keys.
 */
import type { PrefixInfo } from './eviction.ts';
import { NONE, grown } from './ids.ts';
import { PrefixForest } from './prefix-forest.ts';
import { sampleHash } from './sampling.ts';
import { clear } from './scratch.ts';

/** Preallocation stops here; a larger tracked set grows the arrays as it arrives. */
const MAX_PREALLOCATED_IDS = 1 << 20;

/** Per-id flag: the key is resident (cached), not only a ghost of some member. */
const RESIDENT = 1;
/** Per-id flag: the key was returned by the last `victims()` call and has not been removed or used since. */
const PROPOSED = 2;

/** What a policy sharing a {@link SharedKeys} does when the keys change; ids are the shared ones. */
export interface KeyMember {
  /** A key that was not resident entered; `tail` (tree-aware keys only) when it ends its request. */
  entered(id: number, tail: boolean): void;
  /** A resident key was used. */
  used(id: number): void;
  /** A resident key left, after the prefix tree detached it; `wasVictim` when `victims()` had proposed it. */
  left(id: number, wasVictim: boolean): void;
  /** A resident key lost its last resident child (tree-aware keys only). */
  becameLeaf(id: number): void;
}

/** Options of {@link SharedKeys}. */
export interface SharedKeysOptions {
  /** Follow the prefix tree: keep parents and resident-children counts (tree-aware policies). */
  readonly tree: boolean;
  /** Ids to allocate up front (the expected number of tracked keys, ghosts included). */
  readonly initialIds?: number;
  /** Compute each key's `sampleHash` once, when it gets its id (for miniature sampling). */
  readonly hashed?: boolean;
}

/** Dense ids for the keys some member tracks, their residency and their prefix tree. */
export class SharedKeys<K> {
  /** Whether the keys follow the prefix tree. */
  readonly tree: boolean;
  /** The prefix tree over the resident keys (tree-aware only). */
  readonly forest: PrefixForest | undefined;
  readonly #index = new Map<K, number>();
  readonly #members: KeyMember[] = [];
  readonly #growers: ((length: number) => void)[] = [];
  readonly #keys: (K | undefined)[] = [];
  /** Per id: how many members track it; the free list's next id once none does. */
  #holders: Int32Array;
  #flags: Uint8Array;
  #hashes: Float64Array | undefined;
  #free = NONE;
  #used = 0;
  /** Per key of the last created or touched batch, its id ({@link NONE} for an unknown touched key). */
  #batch = new Int32Array(64);
  /** Batch positions entered by the current `created()` call, to attach to their parents. */
  readonly #entered: number[] = [];
  /** The ids the last `victims()` call (of whichever member was asked) proposed. */
  readonly #proposed: number[] = [];

  /** @param options - whether the keys follow the prefix tree, preallocation, hashing */
  constructor(options: SharedKeysOptions) {
    const n = Math.min(MAX_PREALLOCATED_IDS, Math.max(16, options.initialIds ?? 64));
    this.tree = options.tree;
    this.#holders = new Int32Array(n);
    this.#flags = new Uint8Array(n);
    this.#hashes = options.hashed === true ? new Float64Array(n) : undefined;
    this.forest = options.tree ? new PrefixForest(n, (id) => this.isResident(id), (id) => this.#becameLeaf(id)) : undefined;
  }

  /** The length of every per-id array: ids are below it. */
  get length(): number {
    return this.#holders.length;
  }

  /** Adds a member told of every change; it keeps its own per-id arrays at {@link length}, grown through `grow`. */
  join(member: KeyMember, grow: (length: number) => void): void {
    this.#members.push(member);
    this.#growers.push(grow);
  }

  /** The id of `key`, or {@link NONE} when no member tracks it. */
  find(key: K): number {
    return this.#index.get(key) ?? NONE;
  }

  /** The key of a live id. */
  key(id: number): K {
    return this.#keys[id] as K;
  }

  /** `sampleHash` of a live id's key (hashed keys only). */
  hashOf(id: number): number {
    return (this.#hashes as Float64Array)[id];
  }

  /** The id of key `i` of the last created or touched batch ({@link NONE}: an unknown touched key). */
  idAt(i: number): number {
    return this.#batch[i];
  }

  /** Whether a live id's key is resident. */
  isResident(id: number): boolean {
    return (this.#flags[id] & RESIDENT) !== 0;
  }

  /** Whether `key` is resident. */
  has(key: K): boolean {
    const id = this.find(key);
    return id !== NONE && this.isResident(id);
  }

  /** Whether a live id was returned by the last `victims()` call (of any member) and not removed or used since. */
  isProposed(id: number): boolean {
    return (this.#flags[id] & PROPOSED) !== 0;
  }

  /**
   * A `victims()` call starts: the proposals of the previous one (maybe another member's) end, so
   * that only the asked member's make a removal an eviction.
   */
  endProposals(): void {
    for (const id of this.#proposed) this.#flags[id] &= ~PROPOSED;
    clear(this.#proposed);
  }

  /** Marks a resident id as a proposed victim of the current `victims()` call. */
  propose(id: number): void {
    this.#flags[id] |= PROPOSED;
    this.#proposed.push(id);
  }

  /** A member started tracking a live id. */
  acquire(id: number): void {
    this.#holders[id]++;
  }

  /** A member stopped tracking a live id: the id is recycled once no member tracks it. */
  release(id: number): void {
    if (--this.#holders[id] > 0) return;
    this.#index.delete(this.#keys[id] as K);
    this.#keys[id] = undefined;
    this.forest?.forget(id);
    this.#holders[id] = this.#free;
    this.#free = id;
  }

  // Batches run tail first, so the head of a batch is the most recently handled: within a
  // request's chunks the suffix is evicted before the prefix it depends on.
  /** Keys that entered (see `EvictionPolicy.created`): each member enters or uses each key. */
  created(keys: readonly K[], tree?: PrefixInfo<K>): void {
    const forest = this.forest;
    const batch = this.#batchOf(keys.length);
    for (let i = keys.length - 1; i >= 0; i--) {
      let id = this.find(keys[i]);
      if (id !== NONE && this.isResident(id)) {
        batch[i] = id;
        this.#use(id);
        continue;
      }
      if (id === NONE) id = this.#allocate(keys[i]);
      batch[i] = id;
      this.#flags[id] = RESIDENT;
      const tail = forest !== undefined && tree?.tails[i] === true;
      for (const member of this.#members) member.entered(id, tail);
      if (forest !== undefined) this.#entered.push(i);
    }
    if (forest === undefined) return;
    // Parents are attached once the whole batch is in, so that a parent entering in the same
    // batch (after its child, tail first) is resident and counts the child; in prefix order (the
    // reverse of entry order), so that attaching a parent, which zeroes its count, precedes its
    // children. A parent that is the batch's previous key needs no lookup.
    for (let j = this.#entered.length - 1; j >= 0; j--) {
      const i = this.#entered[j];
      const parent = tree?.parents[i];
      forest.attach(batch[i], parent === undefined ? NONE : i > 0 && parent === keys[i - 1] ? batch[i - 1] : this.find(parent));
    }
    clear(this.#entered);
  }

  /** Keys that were used (see `EvictionPolicy.touched`); unknown keys are ignored. */
  touched(keys: readonly K[]): void {
    const batch = this.#batchOf(keys.length);
    for (let i = keys.length - 1; i >= 0; i--) {
      const id = this.find(keys[i]);
      batch[i] = id;
      if (id !== NONE && this.isResident(id)) this.#use(id);
    }
  }

  /** Keys that left (see `EvictionPolicy.removed`); unknown keys are ignored. */
  removed(keys: readonly K[]): void {
    for (const key of keys) {
      const id = this.find(key);
      if (id === NONE || !this.isResident(id)) continue;
      const wasVictim = this.isProposed(id);
      this.#flags[id] = 0;
      this.forest?.detach(id);
      for (const member of this.#members) member.left(id, wasVictim);
    }
  }

  /** The batch ids' array, large enough for `length` keys. */
  #batchOf(length: number): Int32Array {
    if (length > this.#batch.length) this.#batch = new Int32Array(Math.max(length, 2 * this.#batch.length));
    return this.#batch;
  }

  #use(id: number): void {
    this.#flags[id] &= ~PROPOSED;
    for (const member of this.#members) member.used(id);
  }

  #becameLeaf(id: number): void {
    for (const member of this.#members) member.becameLeaf(id);
  }

  #allocate(key: K): number {
    let id = this.#free;
    if (id !== NONE) {
      this.#free = this.#holders[id];
    } else {
      if (this.#used === this.#holders.length) this.#grow();
      id = this.#used++;
    }
    this.#holders[id] = 0;
    this.#keys[id] = key;
    this.#index.set(key, id);
    if (this.#hashes !== undefined) this.#hashes[id] = sampleHash(key);
    return id;
  }

  #grow(): void {
    const n = this.#holders.length * 2;
    this.#holders = grown(this.#holders, new Int32Array(n));
    this.#flags = grown(this.#flags, new Uint8Array(n));
    if (this.#hashes !== undefined) this.#hashes = grown(this.#hashes, new Float64Array(n));
    this.forest?.grow(n);
    for (const grow of this.#growers) grow(n);
  }
}


/**
 * L1: the host tier, in shared memory (DESIGN.md §3, §5). One {@link L1Manager} per thread, all
 * over the same buffers: `create` makes them, `attach(handle)` joins them from any worker.
 *
 * Every batch call validates its arguments first (a bad argument throws and touches nothing),
 * then takes the index mutex once for the whole batch and answers per key in typed arrays.
 * Leases are checked lazily whenever an operation meets an entry, and by `expireLeases`.
 * Listeners learn from the event ring; nothing user-supplied ever runs under the mutex.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';
import { Bitmap } from '../shared/bitmap.ts';
import { assertDigestBatch } from '../digest-batch.ts';
import {
  L1Error, L1EventKind, NO_SLOT,
  type DigestBatch, type L1, type L1KeyState, type L1SlotResult, type L1Usage, type SlotRef, type WriteMode,
} from './api.ts';
import { Arena, allocateSegments, allocationSizes } from './arena.ts';
import { EventRing } from './event-ring.ts';
import { IndexTable } from './index-table.ts';
import { findInvariantViolations } from './invariants.ts';
import { resolveL1Config, type L1Options, type ResolvedL1Config } from './l1-config.ts';
import * as layout from './layout.ts';
import { SharedMutex } from './mutex.ts';

// Module-local copies: imported bindings are live (a getter per read under tsx), too slow per key.
const { ENTRY_F64, ENTRY_SHIFT, REGISTRY_FREE, metaLayout } = layout;
const Header = { ...layout.Header };
const { STATE, SLOT, SIZE, FLAGS, TICK, WRITE_OWNER, WRITE_DEADLINE_F64, READ_DEADLINE_F64, READ_COUNT, STORE_OWNER } = layout.Entry;
const { TEMPORARY, DIRTY, CREATED } = layout.EntryFlag;
const { CREATED: EVENT_CREATED, TOUCHED: EVENT_TOUCHED, REMOVED: EVENT_REMOVED } = L1EventKind;
const NONE = NO_SLOT;
const { KEY_NOT_EXIST, KEY_NOT_READABLE, KEY_NOT_WRITABLE, KEY_IN_WRONG_STATE, KEY_IS_LOCKED, OUT_OF_MEMORY, OBJECT_TOO_LARGE } = L1Error;
/** Most extra read locks per key: a larger extraCount is clamped to it. */
export const MAX_EXTRA_COUNT = 127;

/** Everything another thread needs to attach: plain data and SharedArrayBuffers (structured-cloneable). */
export interface L1Handle {
  readonly config: ResolvedL1Config;
  readonly meta: SharedArrayBuffer;
  readonly segments: readonly SharedArrayBuffer[];
}

/** Dirty objects claimed by `takeDirty`: read-locked for the caller, marked as being stored by it. */
export interface L1DirtyBatch extends L1SlotResult {
  /** The claimed keys, in the order of `codes`/`slots`/`sizes` (all SUCCESS). */
  readonly keys: DigestBatch;
}

/** What `reclaimThread` released. */
export interface L1ReclaimResult {
  /** Unfinished writes discarded. */
  readonly writesDiscarded: number;
  /** Read locks released. */
  readonly readLocksReleased: number;
}

/** What `expireLeases` found past its deadline. */
export interface L1ExpiryResult {
  /** Write locks expired (their objects discarded). */
  readonly writes: number;
  /** Objects whose read locks expired (the locks dropped). */
  readonly reads: number;
}

/** `status()`: health and counters of the shared L1 (the same from every thread). */
export interface L1Status {
  /** Open, and the object/slot accounting adds up. */
  readonly healthy: boolean;
  readonly ownerId: number;
  readonly usage: L1Usage;
  readonly dirty: number;
  readonly threads: { readonly registered: number; readonly max: number };
  readonly events: { readonly pending: number; readonly dropped: number };
  readonly counters: {
    readonly emergencyEvictions: number;
    readonly evictions: number;
    readonly expiredWrites: number;
    readonly expiredReads: number;
    readonly reclaimedThreads: number;
  };
}

function clampExtraCount(opts: { extraCount?: number } | undefined): number {
  const extra = opts?.extraCount ?? 0;
  if (typeof extra !== 'number' || Number.isNaN(extra)) invalidArgument(`extraCount must be a number, got ${String(extra)}`);
  return 1 + Math.min(MAX_EXTRA_COUNT, Math.max(0, Math.floor(extra)));
}

// Module-level, not closures: tsx names every nested function with a defineProperty per call.
function isObjectSize(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffffffff;
}

function badSize(what: string, v: unknown): never {
  invalidArgument(`${what} must be a positive integer below 2^32, got ${String(v)}`);
}

function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) invalidArgument(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
}

function refuseMainThread(what: string): void {
  if (isMainThread) invalidArgument(`${what} blocks the thread; the main thread must use its Async form`);
}

/** The L1 of one thread over shared buffers; implements {@link L1}. */
/** Per-key answers of a batch that hands out slots: every slot NONE until its key succeeds. */
function slotResult(n: number): L1SlotResult {
  return { codes: new Uint8Array(n), slots: new Int32Array(n).fill(NONE), sizes: new Uint32Array(n) };
}

export class L1Manager implements L1 {
  /** The buffers and configuration: post it to a worker and `attach` there. */
  readonly handle: L1Handle;
  /** The resolved configuration. */
  readonly config: ResolvedL1Config;
  /**
   * This instance's owner id (1..maxThreads): the locks it takes are attributed to it. A thread
   * reports it to whoever must call `reclaimThread` if it dies (or see `ownersOfThread`).
   */
  readonly ownerId: number;

  readonly #words: Int32Array;
  readonly #meta64: Float64Array;
  readonly #table: IndexTable;
  readonly #tw: Int32Array;
  readonly #tf: Float64Array;
  readonly #freeStack: Int32Array;
  readonly #slotEntry: Int32Array;
  readonly #threadReads: Int32Array;
  /** Dirty slots (mirrors the entries' DIRTY flags), so takeDirty scans words, not the table. */
  readonly #dirty: Bitmap;
  readonly #registry: Int32Array;
  readonly #refOf: Int32Array;
  readonly #arena: Arena;
  readonly #ring: EventRing;
  readonly #mutex: SharedMutex;
  readonly #maxThreads: number;
  readonly #me: number;
  #closed = false;
  /** The EVENT_BATCH of this thread's current hold of the mutex: the batch id its events carry. */
  #batch = 0;
  /** Set under the mutex when a batch made objects dirty or evicted inline; acted on after unlock. */
  #madeDirty = false;
  #evictedInline = false;
  /** A store claim ended during this hold of the mutex: wake `flush` waiters on leaving. */
  #endedStores = false;

  private constructor(handle: L1Handle, fresh: boolean) {
    this.handle = handle;
    const config = (this.config = handle.config);
    const regions = metaLayout(config.totalSlots, config.maxThreads, config.eventRingCapacity);
    const meta = handle.meta;
    this.#words = new Int32Array(meta);
    this.#meta64 = new Float64Array(meta, 0, regions.registryOffset / 8);
    this.#freeStack = new Int32Array(meta, regions.freeStackOffset, config.totalSlots);
    this.#slotEntry = new Int32Array(meta, regions.slotEntryOffset, config.totalSlots);
    this.#threadReads = new Int32Array(meta, regions.threadReadsOffset, config.totalSlots * config.maxThreads);
    this.#dirty = new Bitmap(config.totalSlots, meta, regions.dirtyOffset);
    this.#registry = new Int32Array(meta, regions.registryOffset, config.maxThreads);
    this.#table = new IndexTable(meta, regions.tableOffset, regions.tableCapacity, this.#slotEntry);
    this.#tw = this.#table.words;
    this.#tf = this.#table.f64;
    this.#arena = new Arena(config, handle.segments);
    this.#ring = new EventRing(this.#words, regions.ringOffset, regions.ringCapacity);
    this.#maxThreads = config.maxThreads;
    this.#refOf = new Int32Array(config.totalSlots);
    for (let g = 0; g < config.totalSlots; g++) this.#refOf[g] = this.#arena.refOf(g);
    if (fresh) {
      // Slots are handed out lowest first: the stack holds them in descending order.
      for (let g = 0; g < config.totalSlots; g++) this.#freeStack[g] = config.totalSlots - 1 - g;
      this.#words[Header.FREE_TOP] = config.totalSlots;
      this.#slotEntry.fill(-1);
      this.#ring.init();
    }
    this.ownerId = this.#register();
    this.#me = this.ownerId - 1;
    this.#mutex = new SharedMutex(this.#words, Header.MUTEX, this.ownerId);
  }

  /** Creates a fresh L1 (buffers allocated once, here); throws `KVT_ERR_CONFIG` naming a bad option. */
  static create(options: L1Options): L1Manager {
    const config = resolveL1Config(options);
    const layout = metaLayout(config.totalSlots, config.maxThreads, config.eventRingCapacity);
    const handle: L1Handle = { config, meta: new SharedArrayBuffer(layout.byteLength), segments: allocateSegments(config) };
    return new L1Manager(handle, true);
  }

  /** Joins the L1 of `handle` (from another thread's `handle`), with no copying; registers an owner id. */
  static attach(handle: L1Handle): L1Manager {
    if (handle === null || typeof handle !== 'object' || !(handle.meta instanceof SharedArrayBuffer) || !Array.isArray(handle.segments)) {
      invalidArgument('attach: handle must be an L1Manager.handle (config, meta and segment SharedArrayBuffers)');
    }
    const config = handle.config;
    const layout = metaLayout(config.totalSlots, config.maxThreads, config.eventRingCapacity);
    const expected = allocationSizes(config);
    if (handle.meta.byteLength !== layout.byteLength || handle.segments.length !== expected.length
      || handle.segments.some((s, i) => !(s instanceof SharedArrayBuffer) || s.byteLength !== expected[i])) {
      invalidArgument('attach: handle buffers do not match handle.config (not an L1Manager.handle?)');
    }
    return new L1Manager({ config: handle.config, meta: handle.meta, segments: handle.segments }, false);
  }

  #register(): number {
    const tag = threadId + 1;
    for (let t = 0; t < this.#registry.length; t++) {
      if (Atomics.compareExchange(this.#registry, t, REGISTRY_FREE, tag) === REGISTRY_FREE) return t + 1;
    }
    throw new KvtierError(ErrorCode.CAPACITY, `L1: all ${this.#registry.length} thread slots are in use (config.l1.maxThreads)`);
  }

  // ------------------------------------------------------------------ locking and bookkeeping

  #enter(): void {
    if (this.#closed) throw new KvtierError(ErrorCode.CLOSED, `L1 owner ${this.ownerId} was detached`);
    this.#lock();
  }

  /** Takes the index mutex and starts a new event batch: one batch call's events share its id. */
  #lock(): void {
    this.#mutex.lock();
    this.#batch = this.#words[Header.EVENT_BATCH] = (this.#words[Header.EVENT_BATCH] + 1) | 0;
  }

  #leave(): void {
    this.#mutex.unlock();
    if (this.#madeDirty) {
      this.#madeDirty = false;
      this.#wake(Header.DIRTY_WAKE, Header.DIRTY_WAITERS);
    }
    if (this.#evictedInline) {
      this.#evictedInline = false;
      this.#wake(Header.EMERGENCY_WAKE, Header.EMERGENCY_WAITERS);
    }
    if (this.#endedStores) {
      this.#endedStores = false;
      this.#wake(Header.STORED_WAKE, Header.STORED_WAITERS);
    }
  }

  /**
   * Bumps a wake word, notifying only if someone waits. Waiters register before reading the word
   * and the wait compares it atomically, so a bump is never missed: either the waker sees the
   * waiter registered, or the waiter sees the bumped word.
   */
  #wake(word: number, waiters: number): void {
    Atomics.add(this.#words, word, 1);
    if (Atomics.load(this.#words, waiters) > 0) Atomics.notify(this.#words, word);
  }

  #nextTick(): number {
    const t = (this.#words[Header.TICK] + 1) | 0;
    this.#words[Header.TICK] = t;
    return t;
  }

  #emit(kind: number, e: number): void {
    this.#ring.push(kind, this.#tw, e << ENTRY_SHIFT, this.#batch);
  }

  #setDirty(e: number, slot: number): void {
    this.#tw[(e << ENTRY_SHIFT) + FLAGS] |= DIRTY;
    this.#dirty.set(slot);
    this.#words[Header.DIRTY_COUNT]++;
    this.#madeDirty = true;
  }

  #clearDirty(e: number, slot: number): void {
    const b = (e << ENTRY_SHIFT) + FLAGS;
    if ((this.#tw[b] & DIRTY) === 0) return;
    this.#tw[b] &= ~DIRTY;
    this.#dirty.clear(slot);
    this.#words[Header.DIRTY_COUNT]--;
  }

  /** Drops every read lock of entry `e` (all threads). */
  #dropReads(e: number): void {
    const b = e << ENTRY_SHIFT;
    if (this.#tw[b + READ_COUNT] === 0) return;
    const base = this.#tw[b + SLOT] * this.#maxThreads;
    this.#threadReads.fill(0, base, base + this.#maxThreads);
    this.#tw[b + READ_COUNT] = 0;
  }

  /**
   * Releases `count` read locks of slot `slot` from the per-thread counts: this thread's first,
   * then others' (a lock taken by one thread may be released by another, e.g. prefetch locks
   * released by the engine thread). The total always equals the entry's READ_COUNT.
   */
  #releaseThreadReads(slot: number, count: number): void {
    const tr = this.#threadReads;
    const base = slot * this.#maxThreads;
    const mine = tr[base + this.#me];
    if (mine >= count) {
      tr[base + this.#me] = mine - count;
      return;
    }
    tr[base + this.#me] = 0;
    count -= mine;
    for (let t = 0; count > 0 && t < this.#maxThreads; t++) {
      const c = tr[base + t];
      const d = c < count ? c : count;
      tr[base + t] = c - d;
      count -= d;
    }
  }

  /** Removes entry `e` and frees its slot; reports the removal if the object was ever readable. */
  #removeEntry(e: number): void {
    const tw = this.#tw;
    const b = e << ENTRY_SHIFT;
    const slot = tw[b + SLOT];
    if (tw[b + FLAGS] & CREATED) this.#emit(EVENT_REMOVED, e);
    this.#clearDirty(e, slot);
    this.#dropReads(e);
    this.#meta64[Header.USED_BYTES_F64] -= tw[b + SIZE];
    this.#words[Header.OBJECTS]--;
    this.#slotEntry[slot] = -1;
    this.#freeStack[this.#words[Header.FREE_TOP]++] = slot;
    this.#table.remove(e);
  }

  /**
   * Applies lease expiry to entry `e`: an expired write lock discards the object (true: `e` is
   * gone, and entries may have moved); expired read locks are dropped.
   */
  #expire(e: number, now: number): boolean {
    const b = e << ENTRY_SHIFT;
    const f = e * ENTRY_F64;
    if (this.#tw[b + WRITE_OWNER] !== 0 && this.#tf[f + WRITE_DEADLINE_F64] < now) {
      this.#words[Header.EXPIRED_WRITES]++;
      this.#removeEntry(e);
      return true;
    }
    if (this.#tw[b + READ_COUNT] !== 0 && this.#tf[f + READ_DEADLINE_F64] < now) {
      this.#words[Header.EXPIRED_READS]++;
      this.#dropReads(e);
      if (this.#tw[b + FLAGS] & TEMPORARY) {
        this.#removeEntry(e);
        return true;
      }
    }
    return false;
  }

  /** The live entry of key `j` after lease expiry, or -1. */
  #find(keys: DigestBatch, j: number, now: number): number {
    const e = this.#table.probe(keys, j);
    if (e < 0 || this.#expire(e, now)) return -1;
    return e;
  }

  #lockRead(e: number, count: number, now: number, tick: number): void {
    const tw = this.#tw;
    const b = e << ENTRY_SHIFT;
    tw[b + READ_COUNT] += count;
    this.#threadReads[tw[b + SLOT] * this.#maxThreads + this.#me] += count;
    this.#tf[e * ENTRY_F64 + READ_DEADLINE_F64] = now + this.config.readLeaseMs;
    tw[b + TICK] = tick;
  }

  // ------------------------------------------------------------------ writes

  /**
   * Reserves slots for writing (write-locks each key). Per key: SUCCESS with a slot; absent keys in
   * mode `update`, present keys in mode `new`, and locked or temporary keys → KEY_NOT_WRITABLE;
   * a size above the slot → OBJECT_TOO_LARGE. When L1 is full even after inline emergency
   * eviction, the batch keeps the longest prefix that fit and the rest answer OUT_OF_MEMORY.
   */
  reserveWrite(keys: DigestBatch, sizes: number | ArrayLike<number>, opts?: { mode?: WriteMode; temporary?: boolean }): L1SlotResult {
    assertDigestBatch(keys);
    const n = keys.length >>> 2;
    const sizeOf = this.#checkSizes(sizes, n);
    const mode = opts?.mode ?? 'all';
    if (mode !== 'all' && mode !== 'new' && mode !== 'update') invalidArgument(`mode must be 'new', 'update' or 'all', got ${String(mode)}`);
    const temporary = opts?.temporary === true ? TEMPORARY : 0;
    const result = slotResult(n);
    const { codes, slots, sizes: out } = result;
    const tw = this.#tw;
    const slotBytes = this.config.slotBytes;
    const now = Date.now();
    const deadline = now + this.config.writeLeaseMs;
    this.#enter();
    try {
      const tick = this.#nextTick();
      let full = false;
      for (let j = 0; j < n; j++) {
        const size = typeof sizeOf === 'number' ? sizeOf : sizeOf[j];
        if (full) {
          codes[j] = OUT_OF_MEMORY;
          continue;
        }
        let e = this.#table.probe(keys, j);
        if (e >= 0 && this.#expire(e, now)) e = this.#table.probe(keys, j);
        if (e >= 0) {
          const b = e << ENTRY_SHIFT;
          if (mode === 'new' || tw[b + WRITE_OWNER] !== 0 || tw[b + READ_COUNT] !== 0 || (tw[b + FLAGS] & TEMPORARY) !== 0) {
            codes[j] = KEY_NOT_WRITABLE;
          } else if (size > slotBytes) {
            codes[j] = OBJECT_TOO_LARGE;
          } else {
            const slot = tw[b + SLOT];
            this.#clearDirty(e, slot);
            this.#meta64[Header.USED_BYTES_F64] += size - tw[b + SIZE];
            tw[b + SIZE] = size;
            tw[b + FLAGS] = (tw[b + FLAGS] & CREATED) | temporary;
            // A claim whose read lock expired is over: the new bytes will be claimed afresh.
            tw[b + STORE_OWNER] = 0;
            this.#takeWriteLock(e, deadline, tick);
            slots[j] = this.#refOf[slot];
            out[j] = size;
          }
          continue;
        }
        if (mode === 'update') {
          codes[j] = KEY_NOT_WRITABLE;
          continue;
        }
        if (size > slotBytes) {
          codes[j] = OBJECT_TOO_LARGE;
          continue;
        }
        if (this.#words[Header.FREE_TOP] === 0) {
          if (!this.#evictOne(now, tick)) {
            full = true;
            codes[j] = OUT_OF_MEMORY;
            continue;
          }
          e = this.#table.probe(keys, j);
        }
        const slot = this.#freeStack[--this.#words[Header.FREE_TOP]];
        this.#table.insert(~e, keys, j, slot);
        const b = ~e << ENTRY_SHIFT;
        tw[b + SIZE] = size;
        tw[b + FLAGS] = temporary;
        this.#takeWriteLock(~e, deadline, tick);
        this.#words[Header.OBJECTS]++;
        this.#meta64[Header.USED_BYTES_F64] += size;
        slots[j] = this.#refOf[slot];
        out[j] = size;
      }
    } finally {
      this.#leave();
    }
    return result;
  }

  #takeWriteLock(e: number, deadline: number, tick: number): void {
    const b = e << ENTRY_SHIFT;
    this.#tw[b + WRITE_OWNER] = this.ownerId;
    this.#tw[b + TICK] = tick;
    this.#tf[e * ENTRY_F64 + WRITE_DEADLINE_F64] = deadline;
  }

  #checkSizes(sizes: number | ArrayLike<number>, n: number): number | ArrayLike<number> {
    if (typeof sizes === 'number') {
      if (!isObjectSize(sizes)) badSize('sizes', sizes);
      return sizes;
    }
    if (sizes === null || typeof sizes !== 'object' || sizes.length !== n) {
      invalidArgument(`sizes must be a number or have one entry per key (${n}), got ${sizes === null || typeof sizes !== 'object' ? String(sizes) : `${sizes.length} entries`}`);
    }
    for (let j = 0; j < n; j++) if (!isObjectSize(sizes[j])) badSize(`sizes[${j}]`, sizes[j]);
    return sizes;
  }

  /**
   * Inline emergency eviction (Redis-style sampled LRU): from a random table position, samples up
   * to `emergencySample` unlocked, non-temporary entries and removes the least recently touched,
   * preferring objects already stored (not dirty). An expired write lock met on the way is taken
   * first. False when nothing is evictable.
   */
  #evictOne(now: number, tick: number): boolean {
    const tw = this.#tw;
    const tf = this.#tf;
    const capacity = this.#table.capacity;
    const mask = capacity - 1;
    let best = -1;
    let bestScore = -1;
    let sampled = 0;
    let i = Math.floor(Math.random() * capacity);
    for (let seen = 0; seen < capacity && sampled < this.config.emergencySample; seen++, i = (i + 1) & mask) {
      const b = i << ENTRY_SHIFT;
      if (tw[b + STATE] === 0) continue;
      if (tw[b + WRITE_OWNER] !== 0) {
        if (tf[i * ENTRY_F64 + WRITE_DEADLINE_F64] < now) return this.#expire(i, now);
        continue;
      }
      const flags = tw[b + FLAGS];
      if (flags & TEMPORARY) continue;
      if (tw[b + READ_COUNT] !== 0 && tf[i * ENTRY_F64 + READ_DEADLINE_F64] >= now) continue;
      sampled++;
      // Age in ticks (wrapping u32), plus 2^32 for clean objects: clean beats dirty, then oldest first.
      const score = ((tick - tw[b + TICK]) >>> 0) + (flags & DIRTY ? 0 : 2 ** 32);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best < 0) return false;
    this.#words[Header.EMERGENCY_EVICTIONS]++;
    this.#evictedInline = true;
    this.#removeEntry(best);
    return true;
  }

  /**
   * Publishes written objects: absent → KEY_NOT_EXIST (an expired write lock counts as absent: its
   * object was discarded); not write-locked → KEY_IN_WRONG_STATE; else SUCCESS: readable, marked
   * dirty for the store controller unless temporary, and reported as created.
   */
  finishWrite(keys: DigestBatch): Uint8Array {
    assertDigestBatch(keys);
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n);
    const tw = this.#tw;
    const now = Date.now();
    this.#enter();
    try {
      const tick = this.#nextTick();
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) {
          codes[j] = KEY_NOT_EXIST;
          continue;
        }
        const b = e << ENTRY_SHIFT;
        if (tw[b + WRITE_OWNER] === 0) {
          codes[j] = KEY_IN_WRONG_STATE;
          continue;
        }
        tw[b + WRITE_OWNER] = 0;
        tw[b + TICK] = tick;
        tw[b + FLAGS] |= CREATED;
        if ((tw[b + FLAGS] & TEMPORARY) === 0) this.#setDirty(e, tw[b + SLOT]);
        this.#emit(EVENT_CREATED, e);
      }
    } finally {
      this.#leave();
    }
    return codes;
  }

  /**
   * Publishes written objects and read-locks them in one step (eviction cannot slip in between):
   * write-locked → SUCCESS with 1 + extraCount read locks; absent → KEY_NOT_EXIST; not
   * write-locked → KEY_IN_WRONG_STATE. Not marked dirty: prefetched data is never stored back.
   */
  finishWriteAndReserveRead(keys: DigestBatch, opts?: { extraCount?: number }): L1SlotResult {
    assertDigestBatch(keys);
    const locks = clampExtraCount(opts);
    const n = keys.length >>> 2;
    const result = slotResult(n);
    const { codes, slots, sizes } = result;
    const tw = this.#tw;
    const now = Date.now();
    this.#enter();
    try {
      const tick = this.#nextTick();
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) {
          codes[j] = KEY_NOT_EXIST;
          continue;
        }
        const b = e << ENTRY_SHIFT;
        if (tw[b + WRITE_OWNER] === 0) {
          codes[j] = KEY_IN_WRONG_STATE;
          continue;
        }
        tw[b + WRITE_OWNER] = 0;
        tw[b + FLAGS] |= CREATED;
        this.#lockRead(e, locks, now, tick);
        this.#emit(EVENT_CREATED, e);
        slots[j] = this.#refOf[tw[b + SLOT]];
        sizes[j] = tw[b + SIZE];
      }
    } finally {
      this.#leave();
    }
    return result;
  }

  // ------------------------------------------------------------------ reads

  /**
   * Read-locks keys (1 + extraCount locks each, extraCount clamped to [0, 127]): absent →
   * KEY_NOT_EXIST; write-locked → KEY_NOT_READABLE; else SUCCESS with slot and size.
   */
  reserveRead(keys: DigestBatch, opts?: { extraCount?: number }): L1SlotResult {
    assertDigestBatch(keys);
    const locks = clampExtraCount(opts);
    const n = keys.length >>> 2;
    const result = slotResult(n);
    const { codes, slots, sizes } = result;
    const tw = this.#tw;
    const now = Date.now();
    this.#enter();
    try {
      const tick = this.#nextTick();
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) {
          codes[j] = KEY_NOT_EXIST;
            continue;
        }
        const b = e << ENTRY_SHIFT;
        if (tw[b + WRITE_OWNER] !== 0) {
          codes[j] = KEY_NOT_READABLE;
            continue;
        }
        this.#lockRead(e, locks, now, tick);
        slots[j] = this.#refOf[tw[b + SLOT]];
        sizes[j] = tw[b + SIZE];
      }
    } finally {
      this.#leave();
    }
    return result;
  }

  /**
   * Slots of keys the caller already holds read locks on, taking no lock: absent → KEY_NOT_EXIST;
   * write-locked or not read-locked → KEY_NOT_READABLE; else SUCCESS.
   */
  unsafeRead(keys: DigestBatch): L1SlotResult {
    assertDigestBatch(keys);
    const n = keys.length >>> 2;
    const result = slotResult(n);
    const { codes, slots, sizes } = result;
    const tw = this.#tw;
    const now = Date.now();
    this.#enter();
    try {
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) {
          codes[j] = KEY_NOT_EXIST;
          continue;
        }
        const b = e << ENTRY_SHIFT;
        if (tw[b + WRITE_OWNER] !== 0 || tw[b + READ_COUNT] === 0) {
          codes[j] = KEY_NOT_READABLE;
          continue;
        }
        slots[j] = this.#refOf[tw[b + SLOT]];
        sizes[j] = tw[b + SIZE];
      }
    } finally {
      this.#leave();
    }
    return result;
  }

  /**
   * Releases 1 + extraCount read locks per key: absent → KEY_NOT_EXIST; write-locked or not
   * read-locked → KEY_IN_WRONG_STATE; else SUCCESS, reported as touched. A temporary object is
   * freed (and reported removed) when its last lock goes.
   */
  finishRead(keys: DigestBatch, opts?: { extraCount?: number }): Uint8Array {
    assertDigestBatch(keys);
    return this.#finishReads(keys, clampExtraCount(opts), false);
  }

  /**
   * The store controller's release of objects it claimed with `takeDirty`, once stored (or given
   * up): ends the claim and releases one read lock per key, answering as finishRead does. Not a
   * use of the object: no touched event, no new access tick (background replication must not
   * make an object look recently or frequently used to the eviction policy).
   */
  finishStore(keys: DigestBatch): Uint8Array {
    assertDigestBatch(keys);
    return this.#finishReads(keys, 1, true);
  }

  #finishReads(keys: DigestBatch, locks: number, endStore: boolean): Uint8Array {
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n);
    const tw = this.#tw;
    const now = Date.now();
    this.#enter();
    try {
      const tick = this.#nextTick();
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) {
          codes[j] = KEY_NOT_EXIST;
          continue;
        }
        const b = e << ENTRY_SHIFT;
        if (endStore && tw[b + STORE_OWNER] === this.ownerId) {
          tw[b + STORE_OWNER] = 0;
          this.#endedStores = true;
        }
        const held = tw[b + READ_COUNT];
        if (tw[b + WRITE_OWNER] !== 0 || held === 0) {
          codes[j] = KEY_IN_WRONG_STATE;
          continue;
        }
        const released = held < locks ? held : locks;
        tw[b + READ_COUNT] = held - released;
        this.#releaseThreadReads(tw[b + SLOT], released);
        if (held === released && (tw[b + FLAGS] & TEMPORARY) !== 0) {
          this.#removeEntry(e);
        } else if (!endStore) {
          tw[b + TICK] = tick;
          this.#emit(EVENT_TOUCHED, e);
        }
      }
    } finally {
      this.#leave();
    }
    return codes;
  }

  /**
   * Hands read locks this thread holds to owner `to` (a worker that took them on behalf of another
   * thread), 1 + extraCount per key, so that reclaiming this thread if it dies no longer releases
   * them. Per key: absent → KEY_NOT_EXIST; fewer locks held by this thread → KEY_IN_WRONG_STATE
   * (nothing moves); else SUCCESS. `publish` is stored under the same hold of the index mutex as
   * the hand-over, which `reclaimThread` also takes: if this thread dies, either both happened or
   * neither (the owner learns of the locks exactly when they are its own).
   */
  handOverReads(keys: DigestBatch, to: number, opts?: { extraCount?: number; publish?: { words: Int32Array; index: number; value: number } }): Uint8Array {
    assertDigestBatch(keys);
    if (!Number.isInteger(to) || to < 1 || to > this.#maxThreads) {
      invalidArgument(`handOverReads: to must be an owner id in [1, ${this.#maxThreads}], got ${String(to)}`);
    }
    const locks = clampExtraCount(opts);
    const publish = opts?.publish;
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n);
    const tr = this.#threadReads;
    const now = Date.now();
    this.#enter();
    try {
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) {
          codes[j] = KEY_NOT_EXIST;
          continue;
        }
        const base = this.#tw[(e << ENTRY_SHIFT) + SLOT] * this.#maxThreads;
        if (tr[base + this.#me] < locks) {
          codes[j] = KEY_IN_WRONG_STATE;
          continue;
        }
        tr[base + this.#me] -= locks;
        tr[base + to - 1] += locks;
      }
      if (publish !== undefined) Atomics.store(publish.words, publish.index, publish.value);
    } finally {
      this.#leave();
    }
    return codes;
  }

  // ------------------------------------------------------------------ removal

  /**
   * Removes keys: absent → KEY_NOT_EXIST; write- or read-locked → KEY_IS_LOCKED unless `force`;
   * else SUCCESS (reported as removed).
   */
  delete(keys: DigestBatch, opts?: { force?: boolean }): Uint8Array {
    return this.#removeKeys(keys, opts?.force === true, false);
  }

  /**
   * The eviction worker's delete: never forced (locked keys answer KEY_IS_LOCKED and stay), and
   * counted as evictions in `status()`.
   */
  evict(keys: DigestBatch): Uint8Array {
    return this.#removeKeys(keys, false, true);
  }

  #removeKeys(keys: DigestBatch, force: boolean, eviction: boolean): Uint8Array {
    assertDigestBatch(keys);
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n);
    const tw = this.#tw;
    const now = Date.now();
    this.#enter();
    try {
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) {
          codes[j] = KEY_NOT_EXIST;
          continue;
        }
        const b = e << ENTRY_SHIFT;
        if (!force && (tw[b + WRITE_OWNER] !== 0 || tw[b + READ_COUNT] !== 0)) {
          codes[j] = KEY_IS_LOCKED;
          continue;
        }
        this.#removeEntry(e);
        if (eviction) this.#words[Header.EVICTIONS]++;
      }
    } finally {
      this.#leave();
    }
    return codes;
  }

  /** Removes every unlocked object (every object with `force`); returns how many were removed. */
  clear(opts?: { force?: boolean }): number {
    const force = opts?.force === true;
    const tw = this.#tw;
    const now = Date.now();
    let removed = 0;
    this.#enter();
    try {
      this.#table.sweep((e) => {
        if (this.#expire(e, now)) return true;
        const b = e << ENTRY_SHIFT;
        if (!force && (tw[b + WRITE_OWNER] !== 0 || tw[b + READ_COUNT] !== 0)) return false;
        this.#removeEntry(e);
        removed++;
        return true;
      });
    } finally {
      this.#leave();
    }
    return removed;
  }

  // ------------------------------------------------------------------ queries

  /** Marks keys as just used (for LRU) and reports them as touched; absent keys are ignored. */
  touch(keys: DigestBatch): void {
    assertDigestBatch(keys);
    const n = keys.length >>> 2;
    const now = Date.now();
    this.#enter();
    try {
      const tick = this.#nextTick();
      for (let j = 0; j < n; j++) {
        const e = this.#find(keys, j, now);
        if (e < 0) continue;
        this.#tw[(e << ENTRY_SHIFT) + TICK] = tick;
        this.#emit(EVENT_TOUCHED, e);
      }
    } finally {
      this.#leave();
    }
  }

  #checkIndex(keys: DigestBatch, index: number): void {
    assertDigestBatch(keys);
    if (!Number.isInteger(index) || index < 0 || index >= keys.length >>> 2) {
      invalidArgument(`index ${String(index)} is outside the batch of ${keys.length >>> 2} keys`);
    }
  }

  /** Whether key `index` of `keys` is present and unlocked (evicting it would break no one). */
  isEvictable(keys: DigestBatch, index: number): boolean {
    this.#checkIndex(keys, index);
    const now = Date.now();
    this.#enter();
    try {
      const e = this.#find(keys, index, now);
      if (e < 0) return false;
      const b = e << ENTRY_SHIFT;
      return this.#tw[b + WRITE_OWNER] === 0 && this.#tw[b + READ_COUNT] === 0;
    } finally {
      this.#leave();
    }
  }

  /** The state of key `index` of `keys`, or null when absent. */
  state(keys: DigestBatch, index: number): L1KeyState | null {
    this.#checkIndex(keys, index);
    const now = Date.now();
    this.#enter();
    try {
      const e = this.#find(keys, index, now);
      if (e < 0) return null;
      const b = e << ENTRY_SHIFT;
      const tw = this.#tw;
      const writeLocked = tw[b + WRITE_OWNER] !== 0;
      const readLocks = tw[b + READ_COUNT];
      const temporary = (tw[b + FLAGS] & TEMPORARY) !== 0;
      return {
        readable: !writeLocked,
        writable: !writeLocked && readLocks === 0 && !temporary,
        writeLocked,
        readLocks,
        temporary,
        dirty: (tw[b + FLAGS] & DIRTY) !== 0,
        storing: tw[b + STORE_OWNER] !== 0,
        size: tw[b + SIZE],
        slot: this.#refOf[tw[b + SLOT]],
      };
    } finally {
      this.#leave();
    }
  }

  /** Byte and object accounting. */
  usage(): L1Usage {
    this.#enter();
    try {
      return this.#usageLocked();
    } finally {
      this.#leave();
    }
  }

  #usageLocked(): L1Usage {
    const total = this.config.totalSlots;
    const free = this.#words[Header.FREE_TOP];
    return {
      usedBytes: this.#meta64[Header.USED_BYTES_F64],
      capacityBytes: this.config.capacityBytes,
      objects: this.#words[Header.OBJECTS],
      freeSlots: free,
      totalSlots: total,
      fraction: (total - free) / total,
    };
  }

  /** Health and counters; the same from every attached thread. */
  status(): L1Status {
    const w = this.#words;
    this.#enter();
    try {
      const usage = this.#usageLocked();
      let registered = 0;
      for (let t = 0; t < this.#registry.length; t++) if (this.#registry[t] !== REGISTRY_FREE) registered++;
      return {
        healthy: usage.objects + usage.freeSlots === usage.totalSlots && usage.usedBytes >= 0,
        ownerId: this.ownerId,
        usage,
        dirty: w[Header.DIRTY_COUNT],
        threads: { registered, max: this.#maxThreads },
        events: { pending: this.#ring.pending(), dropped: this.#ring.dropped() },
        counters: {
          emergencyEvictions: w[Header.EMERGENCY_EVICTIONS],
          evictions: w[Header.EVICTIONS],
          expiredWrites: w[Header.EXPIRED_WRITES],
          expiredReads: w[Header.EXPIRED_READS],
          reclaimedThreads: w[Header.RECLAIMED_THREADS],
        },
      };
    } finally {
      this.#leave();
    }
  }

  /** A zero-copy view of `size` bytes of slot `slot`; throws INVALID_ARGUMENT for a slot that is not ours or a size above the slot. */
  view(slot: SlotRef, size: number): Uint8Array {
    return this.#arena.view(slot, size);
  }

  /**
   * The objects not yet stored to L2 — dirty, or claimed by a store controller that has not
   * finished — as one batch: among `keys` when given (in their order), else all of L1.
   */
  unstoredKeys(keys?: DigestBatch): DigestBatch {
    if (keys !== undefined) assertDigestBatch(keys);
    const tw = this.#tw;
    const unstored = (e: number) => (tw[(e << ENTRY_SHIFT) + FLAGS] & DIRTY) !== 0 || tw[(e << ENTRY_SHIFT) + STORE_OWNER] !== 0;
    const out: number[] = [];
    const add = (src: ArrayLike<number>, at: number) => { for (let k = 0; k < 4; k++) out.push(src[at + k]); };
    const now = Date.now();
    this.#enter();
    try {
      if (keys === undefined) {
        this.#table.sweep((e) => {
          if (unstored(e)) add(tw, e << ENTRY_SHIFT);
          return false;
        });
      } else {
        for (let j = 0; j < keys.length >>> 2; j++) {
          const e = this.#find(keys, j, now);
          if (e >= 0 && unstored(e)) add(keys, j * 4);
        }
      }
    } finally {
      this.#leave();
    }
    return Uint32Array.from(out);
  }

  /** Every object that was ever readable and is still in L1 (for policy reconciliation), as one batch. */
  liveKeys(): DigestBatch {
    this.#enter();
    try {
      const out = new Uint32Array(this.#words[Header.OBJECTS] * 4);
      let n = 0;
      const tw = this.#tw;
      this.#table.sweep((e) => {
        const b = e << ENTRY_SHIFT;
        if (tw[b + FLAGS] & CREATED) {
          for (let k = 0; k < 4; k++) out[n * 4 + k] = tw[b + k];
          n++;
        }
        return false;
      });
      return out.slice(0, n * 4);
    } finally {
      this.#leave();
    }
  }

  // ------------------------------------------------------------------ store controller

  /**
   * Claims up to `max` dirty objects for the store controller: read-locks each for this thread,
   * clears its dirty mark and marks it as being stored by this owner. Release them with
   * `finishStore(batch.keys)` once stored; if this thread dies first, `reclaimThread` makes them
   * dirty again, so no store is lost.
   */
  takeDirty(max: number): L1DirtyBatch {
    if (!Number.isInteger(max) || max < 1) invalidArgument(`takeDirty: max must be a positive integer, got ${String(max)}`);
    const now = Date.now();
    this.#enter();
    try {
      const count = Math.min(max, this.#words[Header.DIRTY_COUNT]);
      const keys = new Uint32Array(count * 4);
      const slots = new Int32Array(count);
      const sizes = new Uint32Array(count);
      const tw = this.#tw;
      const tick = this.#nextTick();
      let n = 0;
      const words = this.#dirty.words;
      for (let w = 0; w < words.length && n < count; w++) {
        while (words[w] !== 0 && n < count) {
          const bits = words[w];
          const slot = w * 32 + (31 - Math.clz32(bits & -bits));
          const e = this.#slotEntry[slot];
          const b = e << ENTRY_SHIFT;
          this.#clearDirty(e, slot);
          tw[b + STORE_OWNER] = this.ownerId;
          this.#lockRead(e, 1, now, tick);
          for (let k = 0; k < 4; k++) keys[n * 4 + k] = tw[b + k];
          slots[n] = this.#refOf[slot];
          sizes[n] = tw[b + SIZE];
          n++;
        }
      }
      return { keys, codes: new Uint8Array(count), slots, sizes };
    } finally {
      this.#leave();
    }
  }

  /** Objects marked dirty and not yet claimed. */
  dirtyCount(): number {
    return Atomics.load(this.#words, Header.DIRTY_COUNT);
  }

  /**
   * Blocks (workers only) until objects may be dirty, or `timeoutMs`; true when some are.
   * Returns at once when some already are.
   */
  waitDirty(timeoutMs: number): boolean {
    checkTimeout(timeoutMs);
    refuseMainThread('waitDirty');
    const w = this.#words;
    Atomics.add(w, Header.DIRTY_WAITERS, 1);
    try {
      const seq = Atomics.load(w, Header.DIRTY_WAKE);
      if (this.dirtyCount() === 0) Atomics.wait(w, Header.DIRTY_WAKE, seq, timeoutMs);
    } finally {
      Atomics.sub(w, Header.DIRTY_WAITERS, 1);
    }
    return this.dirtyCount() > 0;
  }

  /** As {@link waitDirty} without blocking the thread (for the main thread and async workers). */
  async waitDirtyAsync(timeoutMs: number): Promise<boolean> {
    checkTimeout(timeoutMs);
    const w = this.#words;
    Atomics.add(w, Header.DIRTY_WAITERS, 1);
    try {
      const seq = Atomics.load(w, Header.DIRTY_WAKE);
      if (this.dirtyCount() === 0) await this.#waitAsync(Header.DIRTY_WAKE, seq, timeoutMs);
    } finally {
      Atomics.sub(w, Header.DIRTY_WAITERS, 1);
    }
    return this.dirtyCount() > 0;
  }

  /** How many batches evicted inline so far: pass it to {@link waitEmergency}. */
  emergencySeq(): number {
    return Atomics.load(this.#words, Header.EMERGENCY_WAKE);
  }

  /** Blocks (workers only) until a batch evicts inline after `seq` was read, or `timeoutMs`; true if one did. */
  waitEmergency(seq: number, timeoutMs: number): boolean {
    checkTimeout(timeoutMs);
    refuseMainThread('waitEmergency');
    const w = this.#words;
    Atomics.add(w, Header.EMERGENCY_WAITERS, 1);
    try {
      Atomics.wait(w, Header.EMERGENCY_WAKE, seq, timeoutMs);
    } finally {
      Atomics.sub(w, Header.EMERGENCY_WAITERS, 1);
    }
    return this.emergencySeq() !== seq;
  }

  /** As {@link waitEmergency} without blocking the thread. */
  async waitEmergencyAsync(seq: number, timeoutMs: number): Promise<boolean> {
    checkTimeout(timeoutMs);
    const w = this.#words;
    Atomics.add(w, Header.EMERGENCY_WAITERS, 1);
    try {
      await this.#waitAsync(Header.EMERGENCY_WAKE, seq, timeoutMs);
    } finally {
      Atomics.sub(w, Header.EMERGENCY_WAITERS, 1);
    }
    return this.emergencySeq() !== seq;
  }

  /** How many times store claims have ended so far: pass it to {@link waitStoredAsync}. */
  storedSeq(): number {
    return Atomics.load(this.#words, Header.STORED_WAKE);
  }

  /**
   * Resolves once a store claim ends (`finishStore`, in any thread) after `seq` was read, or after
   * `timeoutMs`; true if one did. Never blocks the thread.
   */
  async waitStoredAsync(seq: number, timeoutMs: number): Promise<boolean> {
    checkTimeout(timeoutMs);
    const w = this.#words;
    Atomics.add(w, Header.STORED_WAITERS, 1);
    try {
      await this.#waitAsync(Header.STORED_WAKE, seq, timeoutMs);
    } finally {
      Atomics.sub(w, Header.STORED_WAITERS, 1);
    }
    return this.storedSeq() !== seq;
  }

  async #waitAsync(word: number, seq: number, timeoutMs: number): Promise<void> {
    const result = Atomics.waitAsync(this.#words, word, seq, timeoutMs);
    if (!result.async) return;
    // A pending waitAsync does not keep Node alive; this ref'd timer does, until it settles.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      await result.value;
    } finally {
      clearInterval(keepAlive);
    }
  }

  // ------------------------------------------------------------------ events

  /**
   * Hands up to `max` pending events (created/touched/removed, see {@link L1EventKind}) to
   * `onEvent`, oldest first, each key as a fresh 4-word batch with the id of the batch operation
   * that emitted it (consecutive events of one kind and batch id come from one call, in its key
   * order); returns how many. One consumer at a time (the eviction worker): a concurrent call returns 0.
   */
  drainEvents(onEvent: (kind: number, key: DigestBatch, batch: number) => void, max = Infinity): number {
    if (typeof onEvent !== 'function') invalidArgument('drainEvents: onEvent must be a function');
    return this.#ring.drain(onEvent, max);
  }

  // ------------------------------------------------------------------ leases and threads

  /** Applies every lease deadline at `now` (epoch ms): expired writes discarded, expired read locks dropped. */
  expireLeases(now = Date.now()): L1ExpiryResult {
    const w = this.#words;
    this.#enter();
    try {
      const writes = w[Header.EXPIRED_WRITES];
      const reads = w[Header.EXPIRED_READS];
      this.#table.sweep((e) => this.#expire(e, now));
      return { writes: w[Header.EXPIRED_WRITES] - writes, reads: w[Header.EXPIRED_READS] - reads };
    } finally {
      this.#leave();
    }
  }

  /** Owner ids registered by the thread with this `worker_threads` threadId (e.g. `worker.threadId`). */
  ownersOfThread(thread: number): number[] {
    const out: number[] = [];
    for (let t = 0; t < this.#registry.length; t++) if (Atomics.load(this.#registry, t) === thread + 1) out.push(t + 1);
    return out;
  }

  /**
   * Releases everything owner `ownerId` held, for a thread that died: its read locks are released
   * (temporary objects whose last lock that was are freed), its unfinished writes discarded, the
   * objects it claimed for store made dirty again (and the store worker woken), the index mutex
   * released if it died holding it, and its owner id freed for reuse.
   */
  reclaimThread(ownerId: number): L1ReclaimResult {
    if (!Number.isInteger(ownerId) || ownerId < 1 || ownerId > this.#maxThreads) {
      invalidArgument(`reclaimThread: ownerId must be an integer in [1, ${this.#maxThreads}], got ${String(ownerId)}`);
    }
    if (ownerId === this.ownerId && !this.#closed) invalidArgument('reclaimThread: ownerId is this instance\'s own; use detach()');
    return this.#reclaim(ownerId);
  }

  #reclaim(ownerId: number): L1ReclaimResult {
    SharedMutex.breakIfHeldBy(this.#words, Header.MUTEX, ownerId);
    const tw = this.#tw;
    const tr = this.#threadReads;
    const t = ownerId - 1;
    let writesDiscarded = 0;
    let readLocksReleased = 0;
    this.#lock();
    try {
      this.#table.sweep((e) => {
        const b = e << ENTRY_SHIFT;
        if (tw[b + STORE_OWNER] === ownerId) {
          tw[b + STORE_OWNER] = 0;
          if (tw[b + WRITE_OWNER] === 0 && (tw[b + FLAGS] & TEMPORARY) === 0) this.#setDirty(e, tw[b + SLOT]);
        }
        if (tw[b + WRITE_OWNER] !== ownerId) return false;
        this.#removeEntry(e);
        writesDiscarded++;
        return true;
      });
      for (let slot = 0; slot < this.config.totalSlots; slot++) {
        const held = tr[slot * this.#maxThreads + t];
        if (held === 0) continue;
        tr[slot * this.#maxThreads + t] = 0;
        readLocksReleased += held;
        const e = this.#slotEntry[slot];
        const b = e << ENTRY_SHIFT;
        tw[b + READ_COUNT] -= held;
        if (tw[b + READ_COUNT] === 0 && (tw[b + FLAGS] & TEMPORARY) !== 0) this.#removeEntry(e);
      }
      this.#words[Header.RECLAIMED_THREADS]++;
      Atomics.store(this.#registry, t, REGISTRY_FREE);
    } finally {
      this.#leave();
    }
    return { writesDiscarded, readLocksReleased };
  }

  /**
   * Leaves L1: releases this instance's locks (as reclaimThread would) and frees its owner id.
   * Further calls on this instance throw `KVT_ERR_CLOSED`; other instances are unaffected.
   */
  detach(): L1ReclaimResult {
    if (this.#closed) throw new KvtierError(ErrorCode.CLOSED, `L1 owner ${this.ownerId} was already detached`);
    this.#closed = true;
    return this.#reclaim(this.ownerId);
  }

  /**
   * Checks the index against the slots (diagnostics and tests; walks every entry and slot):
   * throws `KVT_ERR_INTEGRITY` listing every violation. See `invariants.ts` for what is checked.
   */
  checkInvariants(): void {
    this.#enter();
    let problems: string[];
    try {
      problems = findInvariantViolations({
        config: this.config,
        header: this.#words,
        usedBytes: this.#meta64[Header.USED_BYTES_F64],
        table: this.#table,
        freeStack: this.#freeStack,
        slotEntry: this.#slotEntry,
        threadReads: this.#threadReads,
        dirty: this.#dirty,
      });
    } finally {
      this.#leave();
    }
    if (problems.length > 0) throw new KvtierError(ErrorCode.INTEGRITY, `L1 invariants violated:\n${problems.join('\n')}`);
  }
}

/**
 * The views one {@link L1Manager} holds over the shared buffers, the primitives every protocol
 * builds on (entry removal, lease expiry, dirty marks, read-lock accounting), and the batch
 * helpers: take the index mutex once, find each key's live entry, hand it to a per-key step; or,
 * for reads, run the batch inside the reader gate first (fast-reads.ts).
 * Internal to l1/: the protocol files (transitions, store-claims, owners, emergency, inspect)
 * are plain functions over an `L1Core`, and only `L1Manager` is public.
 */
import { keyCount, WORDS_PER_KEY } from '../digest-batch.ts';
import { threadId } from 'node:worker_threads';
import { ErrorCode, KvtierError } from '../errors.ts';
import { Bitmap } from '../shm/bitmap.ts';
import { L1Error, L1EventFlag, L1EventKind, type DigestBatch } from './api.ts';
import { Arena } from './arena.ts';
import { EventRing } from '../shm/event-ring.ts';
import { EventBatch } from '../shm/event-batch.ts';
import { foldReads, openWindow, type ReadPath } from './fast-reads.ts';
import { ReaderGate, READER_STRIDE } from '../shm/reader-gate.ts';
import { IndexTable } from './index-table.ts';
import type { ResolvedL1Config } from './l1-config.ts';
import type { L1Handle } from './api.ts';
import * as layout from './layout.ts';
import { SharedMutex } from '../shm/mutex.ts';
import { orphanSlot, releaseStaleOfEntry, staleReads } from './stale-holds.ts';
import { noteOwnerId, registerOwner } from './owner-registry.ts';
import { WakeChannel } from '../shm/wake.ts';

// Module-local copies: imported bindings are live (a getter per read under tsx), too slow per key.
const { ENTRY_F64, ENTRY_SHIFT, metaLayout } = layout;
const Header = { ...layout.Header };
const { SLOT, SIZE, FLAGS, TICK, WRITE_OWNER, WRITE_DEADLINE_F64, READ_DEADLINE_F64, READ_COUNT } = layout.Entry;
const { TEMPORARY, DIRTY, CREATED, STALE_HOLDS } = layout.EntryFlag;
const { CREATED: EVENT_CREATED, TOUCHED: EVENT_TOUCHED, REMOVED: EVENT_REMOVED, PARENT: EVENT_PARENT } = L1EventKind;
const { KEY_NOT_EXIST, KEY_IN_WRONG_STATE } = L1Error;

/**
 * One key's step of a batch, run under the mutex with the key's live entry `e` (key `j` of the
 * batch): applies the transition and answers the key's {@link L1Error}. Steps are module-level
 * functions with the per-call data in `arg`, not closures (tsx defines a property per closure made).
 */
export type KeyStep<A> = (core: L1Core, e: number, j: number, arg: A) => number;

/**
 * The first part of a step that ends a hold (finishWrite, finishRead, finishStore, handOverReads):
 * ends this owner's hold on an orphaned slot of key `j` (stale-holds.ts) and answers the key's code,
 * or answers -1 when it holds none there.
 */
export type OrphanStep<A> = (core: L1Core, keys: DigestBatch, j: number, arg: A) => number;

/** One thread's views of the shared L1 and the primitives that keep its accounting exact. */
export class L1Core {
  /** The resolved configuration. */
  readonly config: ResolvedL1Config;
  /** This instance's owner id (1..maxThreads) and its index in per-thread arrays. */
  readonly ownerId: number;
  readonly me: number;
  /** Owner ids there can be: the stride of the per-thread read-lock counts. */
  readonly maxThreads: number;
  /** The meta buffer as Int32 words (the header at its start) and as Float64 (used bytes). */
  readonly words: Int32Array;
  readonly meta64: Float64Array;
  /** The index of objects by key digest. */
  readonly table: IndexTable;
  /** The table as words and as Float64 (lease deadlines), cached off `table` for the hot loops. */
  readonly tw: Int32Array;
  readonly tf: Float64Array;
  /** Free slots, FREE_TOP of them; slot -> entry (-1 when free); read locks per slot and owner. */
  readonly freeStack: Int32Array;
  readonly slotEntry: Int32Array;
  readonly threadReads: Int32Array;
  /** Stale read holds per (slot, thread), the orphan list (ORPHANS slots) and every slot's orphan record (stale-holds.ts). */
  readonly staleReads: Int32Array;
  readonly orphanList: Int32Array;
  readonly orphans: Int32Array;
  /** Dirty slots (mirrors the entries' DIRTY flags), so takeDirty scans words, not the table. */
  readonly dirty: Bitmap;
  /** Owner id - 1 -> the registering thread's threadId + 1, or REGISTRY_FREE. */
  readonly registry: Int32Array;
  /** Global slot -> SlotRef, precomputed: the hot paths hand out refs per key. */
  readonly refOf: Int32Array;
  /** The object bytes. */
  readonly arena: Arena;
  /** Where created/touched/removed events go for the eviction worker. */
  readonly ring: EventRing;
  /** This thread's events of the current call, appended to the ring as the call ends (before the mutex or gate is left). */
  readonly events = new EventBatch();
  /** The index mutex, taken as this owner. */
  readonly mutex: SharedMutex;
  /** The reader gate beside the mutex (the read path, fast-reads.ts). */
  readonly gate: ReaderGate;
  /** Word index of this thread's {@link layout.Reader} words. */
  readonly readerIndex: number;
  /** Slots per read log; the read logs, thread-major. */
  readonly readLogCapacity: number;
  readonly readLog: Int32Array;
  /** Per thread: the read-lease deadline of its unfolded read locks, +Infinity when none. */
  readonly windowDeadline: Float64Array;
  /** Per (thread, slot), thread-major: unfolded read locks `(delta << 1) | tookLock`, and their last tick. */
  readonly unfolded: Int32Array;
  readonly unfoldedTick: Int32Array;
  /** Per (thread, slot): the read-lease deadline of the thread's last unfolded lock on the slot. */
  readonly unfoldedDeadline: Float64Array;
  /** Wake channels: objects became dirty; a batch evicted inline; a store claim ended. */
  readonly dirtyWake: WakeChannel;
  readonly emergencyWake: WakeChannel;
  readonly storedWake: WakeChannel;
  /** Word index of owner id 1's reader words. */
  readonly #readersBase: number;
  /** Set by `detach`: every later call throws CLOSED. */
  closed = false;
  /** The clock of the current hold of the mutex: epoch ms, access tick and event batch id. */
  now = 0;
  tick = 0;
  batchId = 0;
  /** The keys of the batch loop running now, the current key's index (-1 outside one), and the index of its last event. */
  #batchKeys: DigestBatch | undefined;
  #batchCount = 0;
  #at = -1;
  #emittedAt = -1;
  /** Set under the mutex when a hold made objects dirty, evicted inline or ended a store claim; the wakes run after unlock. */
  madeDirty = false;
  evictedInline = false;
  endedStores = false;

  /** Epoch ms as this instance reads it for lease deadlines (`Date.now` unless injected). */
  readonly clock: () => number;

  /** Views over `handle`'s buffers (initialized first when `fresh`), registered as a new owner. */
  constructor(handle: L1Handle, fresh: boolean, clock: () => number) {
    this.clock = clock;
    const config = (this.config = handle.config);
    const regions = metaLayout(config.totalSlots, config.maxThreads, config.eventRingCapacity);
    const meta = handle.meta;
    const words = (this.words = new Int32Array(meta));
    this.meta64 = new Float64Array(meta, 0, regions.registryOffset / 8);
    this.freeStack = new Int32Array(meta, regions.freeStackOffset, config.totalSlots);
    this.slotEntry = new Int32Array(meta, regions.slotEntryOffset, config.totalSlots);
    this.threadReads = new Int32Array(meta, regions.threadReadsOffset, config.totalSlots * config.maxThreads);
    this.dirty = new Bitmap(config.totalSlots, meta, regions.dirtyOffset);
    this.staleReads = new Int32Array(meta, regions.staleReadsOffset, config.totalSlots * config.maxThreads);
    this.orphanList = new Int32Array(meta, regions.orphanListOffset, config.totalSlots);
    this.orphans = new Int32Array(meta, regions.orphansOffset, config.totalSlots * layout.ORPHAN_WORDS);
    this.registry = new Int32Array(meta, regions.registryOffset, config.maxThreads);
    this.readLogCapacity = regions.readLogCapacity;
    this.readLog = new Int32Array(meta, regions.readLogOffset, config.maxThreads * regions.readLogCapacity);
    this.windowDeadline = new Float64Array(meta, regions.windowDeadlineOffset, config.maxThreads);
    this.unfolded = new Int32Array(meta, regions.unfoldedOffset, config.maxThreads * config.totalSlots);
    this.unfoldedTick = new Int32Array(meta, regions.unfoldedTickOffset, config.maxThreads * config.totalSlots);
    this.unfoldedDeadline = new Float64Array(meta, regions.unfoldedDeadlineOffset, config.maxThreads * config.totalSlots);
    this.table = new IndexTable(meta, regions.tableOffset, regions.tableCapacity, this.slotEntry);
    this.tw = this.table.words;
    this.tf = this.table.f64;
    this.arena = new Arena(config, handle.segments);
    this.maxThreads = config.maxThreads;
    this.refOf = new Int32Array(config.totalSlots);
    for (let g = 0; g < config.totalSlots; g++) this.refOf[g] = this.arena.refOf(g);
    if (fresh) {
      // Slots are handed out lowest first: the stack holds them in descending order.
      for (let g = 0; g < config.totalSlots; g++) this.freeStack[g] = config.totalSlots - 1 - g;
      words[Header.FREE_TOP] = config.totalSlots;
      this.slotEntry.fill(-1);
      this.windowDeadline.fill(Infinity);
    }
    this.dirtyWake = new WakeChannel(words, Header.DIRTY_WAKE, Header.DIRTY_WAITERS);
    this.emergencyWake = new WakeChannel(words, Header.EMERGENCY_WAKE, Header.EMERGENCY_WAITERS);
    this.storedWake = new WakeChannel(words, Header.STORED_WAKE, Header.STORED_WAITERS);
    this.ownerId = registerOwner(this.registry, threadId);
    noteOwnerId(words, Header.OWNER_IDS_USED, this.ownerId);
    this.me = this.ownerId - 1;
    // Every thread produces events and any may be killed mid-push: each pushes with its claim record.
    this.ring = new EventRing(words, Header.RING_CONTROL, regions.ringOffset >>> 2, regions.ringCapacity,
      { index: regions.ringClaimsOffset >>> 2, count: config.maxThreads, me: this.me });
    if (fresh) this.ring.init();
    this.mutex = new SharedMutex(words, Header.MUTEX, this.ownerId);
    this.#readersBase = regions.readersOffset >>> 2;
    this.gate = new ReaderGate(words, Header.MUTEX, this.#readersBase + layout.Reader.ACTIVE, config.maxThreads);
    this.readerIndex = this.readerIndexOf(this.me);
  }

  /** Word index of thread `t`'s (owner id `t + 1`) {@link layout.Reader} words. */
  readerIndexOf(t: number): number {
    return this.#readersBase + t * READER_STRIDE;
  }

  // ------------------------------------------------------------------ the mutex

  #checkOpen(): void {
    if (this.closed) throw new KvtierError(ErrorCode.CLOSED, `L1 owner ${this.ownerId} was detached`);
  }

  /** Takes the mutex for a call at `now`, bumping the access tick when the call uses it; throws CLOSED after detach. */
  enter(now: number, tick: boolean): void {
    this.#checkOpen();
    this.lock();
    this.now = now;
    if (tick) this.tick = this.nextTick();
  }

  /**
   * Takes the index mutex, waits for the readers inside the gate to leave, folds every thread's
   * unfolded read locks (fast-reads.ts) and starts a new event batch: one batch call's events share its id.
   */
  lock(): void {
    this.mutex.lock();
    try {
      this.gate.awaitReaders();
    } catch (err) {
      this.mutex.unlock();
      throw err;
    }
    foldReads(this);
    // Even: a read-path call's id is odd (readBatch), so the two never meet.
    this.batchId = (this.words[Header.EVENT_BATCH] = (this.words[Header.EVENT_BATCH] + 1) | 0) << 1;
  }

  /**
   * Appends this hold's events to the ring and releases the mutex (in that order: events keep the
   * order of the holds), then wakes the channels this hold signalled (a notify is too slow to hold the lock for).
   */
  leave(): void {
    this.events.flushTo(this.ring);
    this.mutex.unlock();
    if (this.madeDirty) {
      this.madeDirty = false;
      this.dirtyWake.wake();
    }
    if (this.evictedInline) {
      this.evictedInline = false;
      this.emergencyWake.wake();
    }
    if (this.endedStores) {
      this.endedStores = false;
      this.storedWake.wake();
    }
  }

  /** Runs `fn` under the mutex (see {@link enter}). */
  locked<R>(fn: (core: L1Core) => R, tick = false, now = this.clock()): R {
    this.enter(now, tick);
    try {
      return fn(this);
    } finally {
      this.leave();
    }
  }

  /**
   * The batch loop of every per-key call: under one hold of the mutex, answers KEY_NOT_EXIST for
   * each key without a live entry (after lease expiry) and `step`'s code for the others.
   */
  batch<A>(keys: DigestBatch, codes: Uint8Array, tick: boolean, step: KeyStep<A>, arg: A, orphanStep?: OrphanStep<A>): void {
    this.enter(this.clock(), tick);
    try {
      this.eachKey(keys, codes, step, arg, orphanStep);
    } finally {
      this.leave();
    }
  }

  /**
   * A read batch (reserveRead, finishRead): `path.loop` runs it inside the reader gate, without
   * the mutex, as far as it can decide keys alone; the rest (all of it when a writer holds the
   * mutex, a lease window has passed, or orphans exist for a call that ends holds) goes on under
   * the mutex as {@link batch}, from the first key the loop left, as one call (same tick, batch id
   * and event flags).
   */
  readBatch<A>(keys: DigestBatch, codes: Uint8Array, path: ReadPath<A>, arg: A): void {
    this.#checkOpen();
    const now = this.clock();
    const n = keyCount(keys);
    const orphanStep = path.orphanStep;
    let from = 0;
    // Two tries: when only a fold stands in the way (some window has passed its deadline), the
    // mutex is held for the fold alone and the batch runs in the read path after it, instead of
    // all of it under the mutex.
    for (let attempt = 0; attempt < 2 && (orphanStep === undefined || this.words[Header.ORPHANS] === 0); attempt++) {
      if (!this.gate.read(this.me)) break;
      let open = false;
      try {
        open = openWindow(this, now);
        if (open) {
          this.now = now;
          // No writer runs while the gate is held, and readers bump TICK atomically. The call's
          // batch id is made of its tick (odd; a mutex hold's is even): no second shared counter.
          const tick = (Atomics.add(this.words, Header.TICK, 1) + 1) | 0;
          this.tick = tick;
          this.batchId = (tick << 1) | 1;
          this.openKeys(keys);
          from = path.loop(this, keys, codes, arg);
        }
      } finally {
        this.events.flushTo(this.ring);
        this.gate.leaveRead(this.me);
      }
      if (open) {
        if (from === n) {
          this.#closeKeys();
          return;
        }
        break;
      }
      if (attempt === 0) this.locked(() => undefined, false, now);
    }
    path.resetFrom?.(arg, from);
    if (from === 0) {
      this.batch(keys, codes, true, path.step, arg, orphanStep);
      return;
    }
    const { tick, batchId } = this;
    this.enter(now, false);
    this.tick = tick;
    this.batchId = batchId;
    try {
      this.eachKey(keys, codes, path.step, arg, orphanStep, from);
    } finally {
      this.leave();
    }
  }

  /** Starts the per-key event state of a batch call over `keys` (what {@link emit} reads). */
  openKeys(keys: DigestBatch): void {
    this.#batchKeys = keys;
    this.#batchCount = keyCount(keys);
    this.#emittedAt = -1;
  }

  #closeKeys(): void {
    this.#at = -1;
    this.#batchKeys = undefined;
  }

  /** Records that key `j` of the batch call emitted the last event so far (a read-path loop adds its own events): what {@link emit} checks FOLLOWS against. */
  emittedAt(j: number): void {
    this.#emittedAt = j;
  }

  /**
   * {@link batch}'s loop, for a caller that already holds the mutex, from key `from` (a read batch
   * goes on from where its read path stopped, its event state kept). With `orphanStep` (the calls
   * that end a hold), a hold this owner has on an orphaned slot of the key is ended in place of one
   * on its live entry: it is the older one (orphan steps leave the table as it is, so `e` stays valid).
   */
  eachKey<A>(keys: DigestBatch, codes: Uint8Array, step: KeyStep<A>, arg: A, orphanStep?: OrphanStep<A>, from = 0): void {
    const n = keyCount(keys);
    const now = this.now;
    if (from === 0) this.openKeys(keys);
    try {
      for (let j = from; j < n; j++) {
        this.#at = j;
        // Lease expiry first: it may be what orphans the slot this call ends its hold on.
        const e = this.find(keys, j, now);
        if (orphanStep !== undefined && this.words[Header.ORPHANS] !== 0) {
          const code = orphanStep(this, keys, j, arg);
          if (code >= 0) {
            codes[j] = code;
            continue;
          }
        }
        codes[j] = e < 0 ? KEY_NOT_EXIST : step(this, e, j, arg);
      }
    } finally {
      this.#closeKeys();
    }
  }

  // ------------------------------------------------------------------ primitives (mutex held)

  /** Advances the shared access clock; its new value. */
  nextTick(): number {
    const t = (this.words[Header.TICK] + 1) | 0;
    this.words[Header.TICK] = t;
    return t;
  }

  /**
   * Reports entry `e` to this call's events (appended to the ring as the call ends) under the current batch id, with its place in the batch
   * call's keys ({@link L1EventFlag}) and, for a created key whose parent emitted nothing, the
   * parent first (a PARENT record).
   */
  emit(kind: number, e: number): void {
    const at = this.#at;
    const follows = at > 0 && this.#emittedAt === at - 1;
    if (kind === EVENT_CREATED && at > 0 && !follows) this.events.add(EVENT_PARENT, this.#batchKeys!, (at - 1) * WORDS_PER_KEY, 0, this.batchId);
    const value = at < 0 ? 0 : (at === this.#batchCount - 1 ? L1EventFlag.LAST : 0) | (follows ? L1EventFlag.FOLLOWS : 0);
    this.#emittedAt = at;
    this.events.add(kind, this.tw, e << ENTRY_SHIFT, value, this.batchId);
  }

  /** Marks entry `e` (holding `slot`) dirty, to wake the store worker on leaving. */
  setDirty(e: number, slot: number): void {
    this.tw[(e << ENTRY_SHIFT) + FLAGS] |= DIRTY;
    this.dirty.set(slot);
    this.words[Header.DIRTY_COUNT]++;
    this.madeDirty = true;
  }

  /** Clears entry `e`'s dirty mark, if set. */
  clearDirty(e: number, slot: number): void {
    const b = (e << ENTRY_SHIFT) + FLAGS;
    if ((this.tw[b] & DIRTY) === 0) return;
    this.tw[b] &= ~DIRTY;
    this.dirty.clear(slot);
    this.words[Header.DIRTY_COUNT]--;
  }

  /** Adds `count` read locks of this thread to entry `e`, renewing its read lease and access tick. */
  lockRead(e: number, count: number): void {
    const tw = this.tw;
    const b = e << ENTRY_SHIFT;
    tw[b + READ_COUNT] += count;
    this.threadReads[tw[b + SLOT] * this.maxThreads + this.me] += count;
    this.tf[e * ENTRY_F64 + READ_DEADLINE_F64] = this.now + this.config.readLeaseMs;
    tw[b + TICK] = this.tick;
  }

  /**
   * Releases up to `locks` read holds of entry `e`, this owner's stale ones first (they are older),
   * then read locks: KEY_IN_WRONG_STATE when it is write-locked or has none. A temporary object is
   * freed with its last lock; otherwise `touch` marks the use.
   */
  releaseReads(e: number, locks: number, touch: boolean): number {
    const tw = this.tw;
    const b = e << ENTRY_SHIFT;
    if (tw[b + WRITE_OWNER] !== 0) return KEY_IN_WRONG_STATE;
    const stale = releaseStaleOfEntry(this, e, locks);
    const held = tw[b + READ_COUNT];
    if (held === 0 && stale === 0) return KEY_IN_WRONG_STATE;
    const wanted = locks - stale;
    const released = held < wanted ? held : wanted;
    tw[b + READ_COUNT] = held - released;
    this.#releaseThreadReads(tw[b + SLOT], released);
    if (held !== 0 && held === released && (tw[b + FLAGS] & TEMPORARY) !== 0) {
      this.removeEntry(e);
    } else if (touch) {
      tw[b + TICK] = this.tick;
      this.emit(EVENT_TOUCHED, e);
    }
    return 0;
  }

  /**
   * Releases `count` read locks of slot `slot` from the per-thread counts: this thread's first,
   * then others' (a lock taken by one thread may be released by another, e.g. prefetch locks
   * released by the engine thread). The total always equals the entry's READ_COUNT.
   */
  #releaseThreadReads(slot: number, count: number): void {
    const tr = this.threadReads;
    const base = slot * this.maxThreads;
    const mine = tr[base + this.me];
    if (mine >= count) {
      tr[base + this.me] = mine - count;
      return;
    }
    tr[base + this.me] = 0;
    count -= mine;
    for (let t = 0; count > 0 && t < this.maxThreads; t++) {
      const c = tr[base + t];
      const d = c < count ? c : count;
      tr[base + t] = c - d;
      count -= d;
    }
  }

  /**
   * Removes entry `e` (reported as removed if the object was ever readable). Its slot is freed, or
   * orphaned while anything holds it (a write or read lock, a stale hold): a holder may still use its view.
   */
  removeEntry(e: number): void {
    const tw = this.tw;
    const b = e << ENTRY_SHIFT;
    const slot = tw[b + SLOT];
    if (tw[b + FLAGS] & CREATED) this.emit(EVENT_REMOVED, e);
    this.clearDirty(e, slot);
    this.meta64[Header.USED_BYTES_F64] -= tw[b + SIZE];
    this.words[Header.OBJECTS]--;
    if (tw[b + WRITE_OWNER] !== 0 || tw[b + READ_COUNT] !== 0 || (tw[b + FLAGS] & STALE_HOLDS) !== 0) orphanSlot(this, e, slot);
    else this.freeSlot(slot);
    this.table.remove(e);
  }

  /** Returns `slot` to the free stack (nothing holds it). */
  freeSlot(slot: number): void {
    this.slotEntry[slot] = -1;
    this.freeStack[this.words[Header.FREE_TOP]++] = slot;
  }

  /**
   * Applies lease expiry to entry `e`. An expired write lock discards the object, its slot
   * orphaned with the writer (true: `e` is gone, and entries may have moved). Expired read locks
   * become stale holds: the object stays readable and unlocked, its slot held (a temporary
   * object goes, its slot orphaned: true).
   */
  expire(e: number, now: number): boolean {
    const b = e << ENTRY_SHIFT;
    const f = e * ENTRY_F64;
    if (this.tw[b + WRITE_OWNER] !== 0 && this.tf[f + WRITE_DEADLINE_F64] < now) {
      this.words[Header.EXPIRED_WRITES]++;
      this.removeEntry(e);
      return true;
    }
    if (this.tw[b + READ_COUNT] !== 0 && this.tf[f + READ_DEADLINE_F64] < now) {
      this.words[Header.EXPIRED_READS]++;
      staleReads(this, e);
      if (this.tw[b + FLAGS] & TEMPORARY) {
        this.removeEntry(e);
        return true;
      }
    }
    return false;
  }

  /** The live entry of key `j` after lease expiry, or -1. */
  find(keys: DigestBatch, j: number, now: number): number {
    const e = this.table.probe(keys, j);
    if (e < 0 || this.expire(e, now)) return -1;
    return e;
  }
}

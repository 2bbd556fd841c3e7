/**
 * L1: the host tier, in shared memory (docs/architecture.md §3, §5). One {@link L1Manager} per thread, all
 * over the same buffers: `create` makes them, `attach(handle)` joins them from any worker.
 *
 * Every batch call validates its arguments first (a bad argument throws and touches nothing),
 * then takes the index mutex once for the whole batch and answers per key in typed arrays;
 * reserveRead and finishRead run in the read path instead (fast-reads.ts: no mutex, threads
 * reading at once do not take turns) and may answer into the caller's arrays.
 * Leases are checked lazily whenever an operation meets an entry, and by `expireLeases`.
 * Listeners learn from the event ring; nothing user-supplied ever runs under the mutex.
 *
 * This file holds the state machine of an object: its diagram, its calls and their answers.
 * Beside it: transitions.ts (what each call does per key), l1-core.ts (the shared views and the
 * batch helpers), fast-reads.ts (the read path and its fold), args.ts (argument checks), store-claims.ts, owners.ts (registry, reclaim, lease
 * expiry), stale-holds.ts (what an expired lease leaves: stale read holds and orphaned slots),
 * emergency.ts (inline eviction), wake.ts (wake channels), inspect.ts (diagnostics).
 *
 * States of an object (a key's entry) and the calls that move it:
 *
 *                  reserveWrite ('new'/'all')
 *       ABSENT ───────────────────────────────▶ WRITE_LOCKED (one owner, write lease)
 *        ▲ ▲ ▲    lease expiry, reclaimThread,    │   │   ▲
 *        │ │ └─── delete/clear with force ────────┘   │   │ reserveWrite ('update'/'all',
 *        │ │                          finishWrite     │   │ not temporary)
 *        │ │  delete, evict, clear,        ┌──────────┘   │
 *        │ └─ emergency eviction ──── READABLE ───────────┘
 *        │                             │      ▲
 *        │           reserveRead,      │      │ last lock released (finishRead, finishStore,
 *        │           takeDirty         ▼      │ read lease expiry, reclaimThread)
 *        └── temporary: last lock ── READ_LOCKED (n ≥ 1 locks, read lease)
 *                                      ▲
 *                                      └── finishWriteAndReserveRead, from WRITE_LOCKED (not dirty)
 *
 * delete/clear with force also remove a READ_LOCKED object; reserveRead/takeDirty add locks to
 * it. Leaving a state never frees a slot someone still holds: an expired write, or a locked
 * object removed by force, leaves its slot orphaned until its holders let go; expired read locks
 * become stale holds of a READABLE object (stale-holds.ts). Orthogonal marks: DIRTY (set by finishWrite unless temporary, cleared by takeDirty) and
 * STORE_OWNER (a claim, until finishStore, or reclaimThread, which re-marks dirty).
 *
 * Errors common to every call that takes the index mutex (all but `view`, `dirtyCount`, the
 * sequence and wait calls, `drainEvents` and `ownersOfThread`): `KVT_ERR_CLOSED` after `detach`,
 * `KVT_ERR_TIMEOUT` when the mutex stays held over 10 s (its holder died: `reclaimThread`).
 * Per-key answers are `L1Error` codes; SUCCESS (0) is not listed below.
 */
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';
import { assertDigestBatch, keyCount } from '../digest-batch.ts';
import type { DigestBatch, L1, L1Handle, L1KeyState, L1SlotResult, L1Usage, SlotRef, WriteMode } from './api.ts';
import { checkClock, checkHandle, checkIndex, checkSizes, codesInto, readLocksPerKey, slotResult, slotResultInto } from './args.ts';
import { finishReadPath, reserveReadPath } from './fast-reads.ts';
import { allocateSegments } from './arena.ts';
import { checkInvariants, isUnlocked, keyState, liveKeys, lockedObjects, statusOf, usageOf, type L1LiveKeys, type L1Status } from './inspect.ts';
import { L1Core } from './l1-core.ts';
import { resolveL1Config, type L1Options, type ResolvedL1Config } from './l1-config.ts';
import { EntryFlag, Header, metaLayout } from './layout.ts';
import { threadId } from 'node:worker_threads';
import { ownersOfThread } from './owner-registry.ts';
import { expireAll, reclaim, type L1ExpiryResult, type L1ReclaimResult } from './owners.ts';
import { finishStoreOrphanStep, finishStoreStep, takeDirty, unstoredKeys, type L1DirtyBatch } from './store-claims.ts';
import {
  EVICTION, FORCE, handOverOrphanStep, handOverStep, reserveSlots, peekStep, endCutShortWriteStep, publishReadStep, publishStep, removeStep,
  slotStep, touchStep,
} from './transitions.ts';
import { checkTimeout, refuseMainThread } from './args.ts';

export type { L1DirtyBatch } from './store-claims.ts';
export type { L1ExpiryResult, L1ReclaimResult } from './owners.ts';
export type { L1LiveKeys, L1Status } from './inspect.ts';


/** The L1 of one thread over shared buffers; implements {@link L1}. */
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
  readonly #core: L1Core;

  private constructor(handle: L1Handle, fresh: boolean, clock: () => number) {
    this.handle = handle;
    this.config = handle.config;
    this.#core = new L1Core(handle, fresh, clock);
    this.ownerId = this.#core.ownerId;
  }

  /**
   * Creates a fresh L1 (buffers allocated once, here). `clock` (epoch ms, default `Date.now`) is
   * what this instance reads for lease deadlines: tests inject one to expire leases at will.
   * Errors: throws `KVT_ERR_CONFIG` naming a bad option; INVALID_ARGUMENT for a clock that is not a function.
   */
  static create(options: L1Options, opts?: { clock?: () => number }): L1Manager {
    const clock = checkClock(opts?.clock);
    const config = resolveL1Config(options);
    const layout = metaLayout(config.totalSlots, config.maxThreads, config.eventRingCapacity);
    const handle: L1Handle = { config, meta: new SharedArrayBuffer(layout.byteLength), segments: allocateSegments(config) };
    return new L1Manager(handle, true, clock);
  }

  /**
   * Joins the L1 of `handle` (from another thread's `handle`), with no copying; registers an owner
   * id. `clock` as for {@link create}.
   * Errors: throws INVALID_ARGUMENT when `handle` is not an L1Manager.handle or the clock not a
   * function; `KVT_ERR_CAPACITY` when all `maxThreads` owner ids are taken.
   */
  static attach(handle: L1Handle, opts?: { clock?: () => number }): L1Manager {
    const clock = checkClock(opts?.clock);
    checkHandle(handle);
    return new L1Manager({ config: handle.config, meta: handle.meta, segments: handle.segments }, false, clock);
  }

  // ------------------------------------------------------------------ writes

  /**
   * Reserves slots for writing: ABSENT or READABLE → WRITE_LOCKED by this owner, with a slot.
   * When L1 is full even after inline emergency eviction, the batch keeps the longest prefix
   * that fit. Rewriting a READABLE object clears its dirty mark and any store claim.
   * Errors, per key:
   * - KEY_NOT_WRITABLE: absent in mode `update`; present in mode `new`; locked or temporary.
   * - OBJECT_TOO_LARGE: the size exceeds `slotBytes`.
   * - OUT_OF_MEMORY: no slot even after emergency eviction, and every key after it.
   * Throws INVALID_ARGUMENT for a bad batch, size or mode.
   */
  reserveWrite(keys: DigestBatch, sizes: number | ArrayLike<number>, opts?: { mode?: WriteMode; temporary?: boolean }): L1SlotResult {
    assertDigestBatch(keys);
    const n = keyCount(keys);
    const sizeOf = checkSizes(sizes, n);
    const mode = opts?.mode ?? 'all';
    if (mode !== 'all' && mode !== 'new' && mode !== 'update') invalidArgument(`mode must be 'new', 'update' or 'all', got ${String(mode)}`);
    const temporary = opts?.temporary === true ? EntryFlag.TEMPORARY : 0;
    const result = slotResult(n);
    const c = this.#core;
    c.enter(c.clock(), true);
    try {
      reserveSlots(c, keys, sizeOf, mode, temporary, result);
    } finally {
      c.leave();
    }
    return result;
  }

  /**
   * Publishes this owner's written objects: WRITE_LOCKED → READABLE, marked dirty for the store
   * controller unless temporary, and reported as created. A write of this owner that was cut short
   * (lease expired, deleted with force) ends here instead: its slot is released, never published.
   * Errors, per key:
   * - KEY_NOT_EXIST: absent, or this owner's write was cut short (its object was discarded).
   * - KEY_IN_WRONG_STATE: not write-locked by this owner.
   * Throws INVALID_ARGUMENT for a bad batch.
   */
  finishWrite(keys: DigestBatch): Uint8Array {
    assertDigestBatch(keys);
    const codes = new Uint8Array(keyCount(keys));
    this.#core.batch(keys, codes, true, publishStep, null, endCutShortWriteStep);
    return codes;
  }

  /**
   * Publishes written objects and read-locks them in one step (eviction cannot slip in between):
   * WRITE_LOCKED → READ_LOCKED with 1 + extraCount locks. Not marked dirty: prefetched data is
   * never stored back.
   * Errors, per key: KEY_NOT_EXIST when absent; KEY_IN_WRONG_STATE when not write-locked.
   * Throws INVALID_ARGUMENT for a bad batch or extraCount.
   */
  finishWriteAndReserveRead(keys: DigestBatch, opts?: { extraCount?: number }): L1SlotResult {
    assertDigestBatch(keys);
    const locks = readLocksPerKey(opts);
    const result = slotResult(keyCount(keys));
    this.#core.batch(keys, result.codes, true, publishReadStep, slotStep(result, locks), endCutShortWriteStep);
    return result;
  }

  // ------------------------------------------------------------------ reads

  /**
   * Read-locks keys (1 + extraCount locks each, extraCount clamped to [0, 127]): READABLE or
   * READ_LOCKED → READ_LOCKED, answering slot and size. Runs in the read path (fast-reads.ts):
   * threads reading at once do not take turns. `into`: arrays of one entry per key to answer in
   * (reused call after call; its slots and sizes are reset first), else fresh ones are returned.
   * Errors, per key: KEY_NOT_EXIST when absent; KEY_NOT_READABLE when write-locked.
   * Throws INVALID_ARGUMENT for a bad batch or extraCount, or an `into` of other types or lengths.
   */
  reserveRead(keys: DigestBatch, opts?: { extraCount?: number; into?: L1SlotResult }): L1SlotResult {
    assertDigestBatch(keys);
    const locks = readLocksPerKey(opts);
    const result = slotResultInto('reserveRead', keyCount(keys), opts?.into);
    this.#core.readBatch(keys, result.codes, reserveReadPath, slotStep(result, locks));
    return result;
  }

  /**
   * Slots of keys the caller already holds read locks on, taking no lock (no state change).
   * Errors, per key: KEY_NOT_EXIST when absent; KEY_NOT_READABLE when write-locked or not read-locked.
   * Throws INVALID_ARGUMENT for a bad batch.
   */
  unsafeRead(keys: DigestBatch): L1SlotResult {
    assertDigestBatch(keys);
    const result = slotResult(keyCount(keys));
    this.#core.batch(keys, result.codes, false, peekStep, slotStep(result, 0));
    return result;
  }

  /**
   * Releases 1 + extraCount read locks per key, reported as touched: READ_LOCKED → READABLE with
   * the last lock; a temporary object is then freed (ABSENT, reported removed). Holds past their
   * lease (stale holds, on the object or on its orphaned old slot) are released first.
   * Runs in the read path as {@link reserveRead} does when it releases this thread's own locks.
   * `into`: a Uint8Array of one code per key to answer in (reused), else a fresh one is returned.
   * Errors, per key: KEY_NOT_EXIST when absent; KEY_IN_WRONG_STATE when write-locked or not read-locked.
   * Throws INVALID_ARGUMENT for a bad batch or extraCount, or an `into` of another type or length.
   */
  finishRead(keys: DigestBatch, opts?: { extraCount?: number; into?: Uint8Array }): Uint8Array {
    assertDigestBatch(keys);
    const locks = readLocksPerKey(opts);
    const codes = codesInto('finishRead', keyCount(keys), opts?.into);
    this.#core.readBatch(keys, codes, finishReadPath, locks);
    return codes;
  }

  /**
   * The store controller's release of objects it claimed with `takeDirty`, once stored (or given
   * up): ends the claim and releases one read lock per key, as finishRead does. Not a use of the
   * object: no touched event, no new access tick (background replication must not make an
   * object look recently or frequently used to the eviction policy). Wakes `waitStoredAsync`.
   * Errors, per key: as {@link finishRead}. Throws INVALID_ARGUMENT for a bad batch.
   */
  finishStore(keys: DigestBatch): Uint8Array {
    assertDigestBatch(keys);
    const codes = new Uint8Array(keyCount(keys));
    this.#core.batch(keys, codes, true, finishStoreStep, null, finishStoreOrphanStep);
    return codes;
  }

  /**
   * Hands read locks this thread holds to owner `to` (a worker that took them on behalf of another
   * thread), 1 + extraCount per key, so that reclaiming this thread if it dies no longer releases
   * them. `publish` is stored under the same hold of the index mutex as the hand-over, which
   * `reclaimThread` also takes: if this thread dies, either both happened or neither (the owner
   * learns of the locks exactly when they are its own).
   * Errors, per key: KEY_NOT_EXIST when absent; KEY_IN_WRONG_STATE when this thread holds fewer
   * locks (nothing moves). Throws INVALID_ARGUMENT for a bad batch, `to` or extraCount.
   */
  handOverReads(keys: DigestBatch, to: number, opts?: { extraCount?: number; publish?: { words: Int32Array; index: number; value: number } }): Uint8Array {
    assertDigestBatch(keys);
    const threads = this.config.maxThreads;
    if (!Number.isInteger(to) || to < 1 || to > threads) {
      invalidArgument(`handOverReads: to must be an owner id in [1, ${threads}], got ${String(to)}`);
    }
    const arg = { locks: readLocksPerKey(opts), to };
    const publish = opts?.publish;
    const codes = new Uint8Array(keyCount(keys));
    this.#core.locked((c) => {
      c.eachKey(keys, codes, handOverStep, arg, handOverOrphanStep);
      if (publish !== undefined) Atomics.store(publish.words, publish.index, publish.value);
    });
    return codes;
  }

  // ------------------------------------------------------------------ removal

  /**
   * Removes keys: any state → ABSENT (reported as removed). A holder's slot is freed only once it
   * lets go (see stale-holds.ts); deleting this owner's own write aborts it, and so does deleting a
   * key whose write by this owner was cut short (lease expired, forced delete), which ends it.
   * Errors, per key: KEY_NOT_EXIST when absent (also for a cut-short write, now ended);
   * KEY_IS_LOCKED when write- or read-locked, unless `force`.
   * Throws INVALID_ARGUMENT for a bad batch.
   */
  delete(keys: DigestBatch, opts?: { force?: boolean }): Uint8Array {
    return this.#remove(keys, opts?.force === true ? FORCE : 0, endCutShortWriteStep);
  }

  /**
   * The eviction worker's delete: never forced (locked keys stay), counted as evictions in `status()`.
   * Errors, per key: as {@link delete} without `force`. Throws INVALID_ARGUMENT for a bad batch.
   */
  evict(keys: DigestBatch): Uint8Array {
    return this.#remove(keys, EVICTION);
  }

  #remove(keys: DigestBatch, how: number, orphanStep?: typeof endCutShortWriteStep): Uint8Array {
    assertDigestBatch(keys);
    const codes = new Uint8Array(keyCount(keys));
    this.#core.batch(keys, codes, false, removeStep, how, orphanStep);
    return codes;
  }

  /**
   * Removes every unlocked object (every object with `force`); returns how many were removed.
   * As for {@link delete}, this owner's own writes are aborted and other holders keep their slots
   * until they let go.
   * Errors: none per key (expired leases are applied on the way, not counted).
   */
  clear(opts?: { force?: boolean }): number {
    const how = opts?.force === true ? FORCE : 0;
    let removed = 0;
    this.#core.locked((c) => c.table.sweep((e) => {
      if (c.expire(e, c.now)) return true;
      if (removeStep(c, e, 0, how) !== 0) return false;
      removed++;
      return true;
    }));
    return removed;
  }

  // ------------------------------------------------------------------ queries

  /**
   * Marks keys as just used (for LRU) and reports them as touched; no state change.
   * Errors: none; absent keys are ignored. Throws INVALID_ARGUMENT for a bad batch.
   */
  touch(keys: DigestBatch): void {
    assertDigestBatch(keys);
    this.#core.batch(keys, new Uint8Array(keyCount(keys)), true, touchStep, null);
  }

  /**
   * Whether key `index` of `keys` is present and unlocked (evicting it would break no one).
   * Errors: throws INVALID_ARGUMENT for a bad batch or an index outside it.
   */
  isEvictable(keys: DigestBatch, index: number): boolean {
    checkIndex(keys, index);
    return this.#core.locked((c) => {
      const e = c.find(keys, index, c.now);
      return e >= 0 && isUnlocked(c, e);
    });
  }

  /**
   * The state of key `index` of `keys`, or null when absent.
   * Errors: throws INVALID_ARGUMENT for a bad batch or an index outside it.
   */
  state(keys: DigestBatch, index: number): L1KeyState | null {
    checkIndex(keys, index);
    return this.#core.locked((c) => {
      const e = c.find(keys, index, c.now);
      return e < 0 ? null : keyState(c, e);
    });
  }

  /** Byte and object accounting. Errors: none of its own. */
  usage(): L1Usage {
    return this.#core.locked(usageOf);
  }

  /** Health and counters; the same from every attached thread. Errors: none of its own. */
  status(): L1Status {
    return this.#core.locked(statusOf);
  }

  /**
   * A zero-copy view of `size` bytes of slot `slot`; takes no lock.
   * Errors: throws INVALID_ARGUMENT for a slot that is not ours or a size above the slot.
   */
  view(slot: SlotRef, size: number): Uint8Array {
    return this.#core.arena.view(slot, size);
  }

  /**
   * The objects not yet stored to L2 — dirty, or claimed by a store controller that has not
   * finished — as one batch: among `keys` when given (in their order), else all of L1.
   * Errors: throws INVALID_ARGUMENT for a bad batch.
   */
  unstoredKeys(keys?: DigestBatch): DigestBatch {
    if (keys !== undefined) assertDigestBatch(keys);
    return unstoredKeys(this.#core, keys);
  }

  /**
   * Every object that was ever readable and is still in L1 (for policy reconciliation), as one
   * batch, with the number of undrained events emitted before that moment. Errors: none of its own.
   */
  liveKeys(): L1LiveKeys {
    return this.#core.locked(liveKeys);
  }

  /**
   * How many objects hold a lock now (write-locked, read-locked, claimed for store, or held by a
   * holder past its lease that has not let go), plus the orphaned slots (held past their object's
   * removal): 0 when nothing at all is held. Counted under one hold of the mutex (diagnostics and
   * leak checks; walks every entry). Errors: none of its own.
   */
  lockedObjects(): number {
    return this.#core.locked(lockedObjects);
  }

  // ------------------------------------------------------------------ store controller

  /**
   * Claims up to `max` dirty objects for the store controller: read-locks each for this thread,
   * clears its dirty mark and marks it as being stored by this owner. Release them with
   * `finishStore(batch.keys)` once stored; if this thread dies first, `reclaimThread` makes them
   * dirty again, so no store is lost.
   * Errors: throws INVALID_ARGUMENT unless `max` is a positive integer; every code answered is SUCCESS.
   */
  takeDirty(max: number): L1DirtyBatch {
    if (!Number.isInteger(max) || max < 1) invalidArgument(`takeDirty: max must be a positive integer, got ${String(max)}`);
    return this.#core.locked((c) => takeDirty(c, max), true);
  }

  /** Objects marked dirty and not yet claimed; takes no lock. Errors: none. */
  dirtyCount(): number {
    return Atomics.load(this.#core.words, Header.DIRTY_COUNT);
  }

  /**
   * Blocks (workers only) until objects may be dirty, or `timeoutMs`; true when some are.
   * Returns at once when some already are.
   * Errors: throws INVALID_ARGUMENT on the main thread or for a bad timeout.
   */
  waitDirty(timeoutMs: number): boolean {
    checkTimeout(timeoutMs);
    refuseMainThread('waitDirty');
    this.#core.dirtyWake.wait(null, timeoutMs, () => this.dirtyCount() > 0);
    return this.dirtyCount() > 0;
  }

  /**
   * As {@link waitDirty} without blocking the thread (for the main thread and async workers).
   * Errors: throws INVALID_ARGUMENT for a bad timeout.
   */
  async waitDirtyAsync(timeoutMs: number): Promise<boolean> {
    checkTimeout(timeoutMs);
    await this.#core.dirtyWake.waitAsync(null, timeoutMs, () => this.dirtyCount() > 0);
    return this.dirtyCount() > 0;
  }

  /** How many batches evicted inline so far: pass it to {@link waitEmergency}. Errors: none. */
  emergencySeq(): number {
    return this.#core.emergencyWake.seq();
  }

  /**
   * Blocks (workers only) until a batch evicts inline after `seq` was read, or `timeoutMs`; true if one did.
   * Errors: throws INVALID_ARGUMENT on the main thread or for a bad timeout.
   */
  waitEmergency(seq: number, timeoutMs: number): boolean {
    checkTimeout(timeoutMs);
    refuseMainThread('waitEmergency');
    this.#core.emergencyWake.wait(seq, timeoutMs);
    return this.emergencySeq() !== seq;
  }

  /** As {@link waitEmergency} without blocking the thread. Errors: throws INVALID_ARGUMENT for a bad timeout. */
  async waitEmergencyAsync(seq: number, timeoutMs: number): Promise<boolean> {
    checkTimeout(timeoutMs);
    await this.#core.emergencyWake.waitAsync(seq, timeoutMs);
    return this.emergencySeq() !== seq;
  }

  /** How many times store claims have ended so far: pass it to {@link waitStoredAsync}. Errors: none. */
  storedSeq(): number {
    return this.#core.storedWake.seq();
  }

  /**
   * Resolves once a store claim ends (`finishStore`, in any thread) after `seq` was read, or after
   * `timeoutMs`; true if one did. Never blocks the thread.
   * Errors: throws INVALID_ARGUMENT for a bad timeout.
   */
  async waitStoredAsync(seq: number, timeoutMs: number): Promise<boolean> {
    checkTimeout(timeoutMs);
    await this.#core.storedWake.waitAsync(seq, timeoutMs);
    return this.storedSeq() !== seq;
  }

  /**
   * Wakes every thread waiting in {@link waitDirty} or {@link waitEmergency} (any thread, sync or
   * async) without counting a wake, so each rechecks its own stop condition: how the engine stops
   * controllers that sleep between cycles. Errors: none.
   */
  interruptWaits(): void {
    this.#core.dirtyWake.interrupt();
    this.#core.emergencyWake.interrupt();
  }

  // ------------------------------------------------------------------ events

  /**
   * Hands up to `max` pending events (created/touched/removed, see {@link L1EventKind}) to
   * `onEvent`, oldest first, each key as a fresh 4-word batch with the id of the batch operation
   * that emitted it (consecutive events of one kind and batch id come from one call, in its key
   * order, `flags` its {@link L1EventFlag} bits); returns how many. One consumer at a time (the eviction worker): a concurrent call returns 0.
   * Errors: throws INVALID_ARGUMENT unless `onEvent` is a function; what `onEvent` throws propagates.
   */
  drainEvents(onEvent: (kind: number, key: DigestBatch, batch: number, flags: number) => void, max = Infinity): number {
    if (typeof onEvent !== 'function') invalidArgument('drainEvents: onEvent must be a function');
    return this.#core.ring.drain((kind, key, flags, batch) => onEvent(kind, key, batch, flags), max);
  }

  // ------------------------------------------------------------------ leases and threads

  /**
   * Applies every lease deadline at `now` (epoch ms): expired writes discarded (→ ABSENT), expired
   * read locks dropped (→ READABLE, or ABSENT when temporary). Errors: none of its own.
   */
  expireLeases(now = this.#core.clock()): L1ExpiryResult {
    return this.#core.locked(expireAll, false, now);
  }

  /** Owner ids registered by the thread with this `worker_threads` threadId (e.g. `worker.threadId`). Errors: none. */
  ownersOfThread(thread: number): number[] {
    return ownersOfThread(this.#core.registry, thread);
  }

  /**
   * Releases everything owner `ownerId` held, for a thread that died: its read locks are released
   * (temporary objects whose last lock that was are freed), its unfinished writes discarded, the
   * objects it claimed for store made dirty again (and the store worker woken), the index mutex
   * released if it died holding it, and its owner id freed for reuse. `thread` is the
   * `worker_threads` threadId of the dead thread that registered `ownerId` (what it reported with
   * its owner id): only while that thread still holds the id does anything happen. A freed id may
   * have been registered again by a live thread, and a second reclaim of it (or one naming the
   * wrong thread) answers zeros and touches nothing.
   * Errors: throws INVALID_ARGUMENT for an id outside [1, maxThreads] or this instance's own
   * (use `detach`), or a thread that is not a non-negative integer; not CLOSED (a detached
   * instance may still reclaim others).
   */
  reclaimThread(ownerId: number, thread: number): L1ReclaimResult {
    const threads = this.config.maxThreads;
    if (!Number.isInteger(ownerId) || ownerId < 1 || ownerId > threads) {
      invalidArgument(`reclaimThread: ownerId must be an integer in [1, ${threads}], got ${String(ownerId)}`);
    }
    if (!Number.isSafeInteger(thread) || thread < 0) invalidArgument(`reclaimThread: thread must be a worker_threads threadId (an integer ≥ 0), got ${String(thread)}`);
    if (ownerId === this.ownerId && !this.#core.closed) invalidArgument('reclaimThread: ownerId is this instance\'s own; use detach()');
    return reclaim(this.#core, ownerId, thread);
  }

  /**
   * Leaves L1: releases this instance's locks (as reclaimThread would) and frees its owner id.
   * Further calls on this instance throw `KVT_ERR_CLOSED`; other instances are unaffected.
   * Errors: throws `KVT_ERR_CLOSED` when already detached; `KVT_ERR_TIMEOUT` when the mutex
   * cannot be taken within 10 s (another owner stalls inside an L1 call): then nothing was
   * released, the instance stays attached, and detach can be called again.
   */
  detach(): L1ReclaimResult {
    const c = this.#core;
    if (c.closed) throw new KvtierError(ErrorCode.CLOSED, `L1 owner ${this.ownerId} was already detached`);
    c.closed = true;
    try {
      return reclaim(c, this.ownerId, threadId);
    } catch (err) {
      // The reclaim released nothing and gave the id back: this instance still owns it and its locks.
      c.closed = false;
      throw err;
    }
  }

  /**
   * Checks the index against the slots (diagnostics and tests; walks every entry and slot).
   * See `invariants.ts` for what is checked.
   * Errors: throws `KVT_ERR_INTEGRITY` listing every violation.
   */
  checkInvariants(): void {
    checkInvariants(this.#core);
  }
}

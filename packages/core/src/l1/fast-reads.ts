/**
 * The read path that scales with threads: `reserveRead` and `finishRead` batches that do not take
 * the index mutex and write only their own thread's memory.
 *
 * A reader enters the reader gate (shm/reader-gate.ts: writers, i.e. holders of the index mutex,
 * are excluded; readers overlap), so the index, the entries and every folded count stay still
 * while it reads them. What a read changes it records as its thread's *unfolded* read locks: per
 * slot, `(delta << 1) | tookLock` in the thread's own row, the access tick of its last use, and
 * the slot once in the thread's read log. The next holder of the index mutex, before anything
 * else, folds every thread's log into the entries (READ_COUNT, the per-thread counts, the read
 * deadline, the tick), so every mutex-held protocol sees exact counts, as if each read had taken
 * the mutex.
 *
 * Each unfolded lock keeps its own read-lease deadline (`now` + readLeaseMs of the batch that
 * took it), which the fold gives the entry as lockRead would have; a thread's *window* deadline is
 * that of its earliest unfolded lock. A batch that sees any thread's window deadline passed takes
 * the mutex, which folds first, so lease expiry meets every lock exactly when it would have under
 * the mutex. A window spans clock ticks: folding at every new millisecond made two reader threads
 * meet at each tick on the mutex, and read fewer keys than one.
 *
 * A key the read path cannot decide alone (an expired lease to apply, a write-locked key to
 * release, a temporary object's last lock, stale holds, locks of other threads to release, a
 * full read log) ends the read section there: the batch goes on from that key under the mutex,
 * with the same tick, batch id and event flags, so its answers and events are those of one call.
 *
 * A reader killed inside its section leaves its gate word set and its log as it was: the log
 * entry is written before the unfolded word, and the word is one store, so the fold of a dead
 * thread's log applies exactly the locks it took (reclaimThread clears the word, folds, then
 * releases them).
 */
import { keyCount } from '../digest-batch.ts';
import { L1Error, L1EventKind, type DigestBatch } from './api.ts';
import type { L1Core } from './l1-core.ts';
import * as layout from './layout.ts';
import type { SlotStep } from './transitions.ts';

// Module-local copies: imported bindings are live (a getter per read under tsx), too slow per key.
const { ENTRY_F64, ENTRY_SHIFT } = layout;
const { SLOT, SIZE, FLAGS, TICK, WRITE_OWNER, WRITE_DEADLINE_F64, READ_DEADLINE_F64, READ_COUNT } = layout.Entry;
const { TEMPORARY, STALE_HOLDS } = layout.EntryFlag;
const { KEY_NOT_EXIST, KEY_NOT_READABLE } = L1Error;
const EVENT_TOUCHED = L1EventKind.TOUCHED;

/**
 * A read-path loop over `keys` from key 0 (reader gate held, `c.now` and `c.tick` set): answers
 * each key it decides and returns the index of the first key it left to the mutex path (the key
 * count when it decided all).
 */
export type ReadLoop<A> = (c: L1Core, keys: DigestBatch, codes: Uint8Array, arg: A) => number;

/**
 * Logs `slot` in this thread's read log if its unfolded word is 0; false (nothing logged) when the
 * log is full. The log entry is stored before the word changes: a fold never misses a word.
 */
function logSlot(c: L1Core, slot: number): boolean {
  const lenAt = c.readerIndex + layout.Reader.LOG_LENGTH;
  const len = c.words[lenAt];
  if (len === c.readLogCapacity) return false;
  c.readLog[c.me * c.readLogCapacity + len] = slot;
  c.words[lenAt] = len + 1;
  return true;
}

/** Whether a lease of entry `e` has passed at `now`: the mutex path applies it. */
function leaseExpired(c: L1Core, e: number, now: number): boolean {
  const b = e << ENTRY_SHIFT;
  const f = e * ENTRY_F64;
  return (c.tw[b + WRITE_OWNER] !== 0 && c.tf[f + WRITE_DEADLINE_F64] < now)
    || (c.tw[b + READ_COUNT] !== 0 && c.tf[f + READ_DEADLINE_F64] < now);
}

/** Key `j`'s entry, or -1 having answered KEY_NOT_EXIST (no lease applies to an absent key). */
function entryOrAbsent(c: L1Core, keys: DigestBatch, codes: Uint8Array, j: number): number {
  const e = c.table.probe(keys, j);
  if (e < 0) codes[j] = KEY_NOT_EXIST;
  return e;
}

/** reserveRead's read loop: READABLE/READ_LOCKED → READ_LOCKED with `a.locks` unfolded locks of this thread. */
export function reserveReadLoop(c: L1Core, keys: DigestBatch, codes: Uint8Array, a: SlotStep): number {
  const n = keyCount(keys);
  const { tw, refOf, unfolded, unfoldedTick, unfoldedDeadline } = c;
  const row = c.me * c.config.totalSlots;
  const { slots, sizes, locks } = a;
  const now = c.now;
  const deadline = now + c.config.readLeaseMs;
  const tick = c.tick;
  for (let j = 0; j < n; j++) {
    const e = entryOrAbsent(c, keys, codes, j);
    if (e < 0) continue;
    if (leaseExpired(c, e, now)) return j;
    const b = e << ENTRY_SHIFT;
    if (tw[b + WRITE_OWNER] !== 0) {
      codes[j] = KEY_NOT_READABLE;
      continue;
    }
    const slot = tw[b + SLOT];
    const u = unfolded[row + slot];
    if (u === 0 && !logSlot(c, slot)) return j;
    unfolded[row + slot] = (((u >> 1) + locks) << 1) | 1;
    unfoldedTick[row + slot] = tick;
    unfoldedDeadline[row + slot] = deadline;
    codes[j] = 0;
    slots[j] = refOf[slot];
    sizes[j] = tw[b + SIZE];
  }
  return n;
}

/**
 * finishRead's read loop: releases `locks` of this thread's own read locks per key, reported as
 * touched. Everything else (locks of other threads, stale holds, a temporary object, a
 * write-locked key) goes to the mutex path.
 */
export function finishReadLoop(c: L1Core, keys: DigestBatch, codes: Uint8Array, locks: number): number {
  const n = keyCount(keys);
  const { tw, unfolded, unfoldedTick, threadReads } = c;
  const threads = c.maxThreads;
  const me = c.me;
  const row = me * c.config.totalSlots;
  const now = c.now;
  const tick = c.tick;
  for (let j = 0; j < n; j++) {
    const e = entryOrAbsent(c, keys, codes, j);
    if (e < 0) continue;
    const b = e << ENTRY_SHIFT;
    if (tw[b + WRITE_OWNER] !== 0 || (tw[b + FLAGS] & (TEMPORARY | STALE_HOLDS)) !== 0 || leaseExpired(c, e, now)) return j;
    const slot = tw[b + SLOT];
    const u = unfolded[row + slot];
    if (threadReads[slot * threads + me] + (u >> 1) < locks) return j;
    if (u === 0 && !logSlot(c, slot)) return j;
    unfolded[row + slot] = (((u >> 1) - locks) << 1) | (u & 1);
    unfoldedTick[row + slot] = tick;
    codes[j] = 0;
    c.emitAt(EVENT_TOUCHED, e, j);
  }
  return n;
}

/**
 * Folds every thread's unfolded read locks into the entries and empties the logs (index mutex
 * held, no reader inside the gate): the locks join READ_COUNT and the thread's per-slot count,
 * a slot it locked gets its last lock's read deadline (the later of the two), and the later tick wins.
 */
export function foldReads(c: L1Core): void {
  const { words, tw, tf, unfolded, unfoldedTick, unfoldedDeadline, threadReads, slotEntry, readLog, windowDeadline } = c;
  const threads = c.maxThreads;
  const slots = c.config.totalSlots;
  const cap = c.readLogCapacity;
  for (let t = 0; t < threads; t++) {
    const lenAt = c.readerIndexOf(t) + layout.Reader.LOG_LENGTH;
    const len = words[lenAt];
    if (len === 0) {
      // A window may open with nothing to log (every key absent); a write only when one did.
      if (windowDeadline[t] !== Infinity) windowDeadline[t] = Infinity;
      continue;
    }
    const row = t * slots;
    for (let i = 0; i < len; i++) {
      const slot = readLog[t * cap + i];
      const u = unfolded[row + slot];
      if (u === 0) continue;
      unfolded[row + slot] = 0;
      const e = slotEntry[slot];
      const b = e << ENTRY_SHIFT;
      const delta = u >> 1;
      tw[b + READ_COUNT] += delta;
      threadReads[slot * threads + t] += delta;
      const deadline = unfoldedDeadline[row + slot];
      if ((u & 1) !== 0 && tf[e * ENTRY_F64 + READ_DEADLINE_F64] < deadline) tf[e * ENTRY_F64 + READ_DEADLINE_F64] = deadline;
      const used = unfoldedTick[row + slot];
      if (((used - tw[b + TICK]) | 0) > 0) tw[b + TICK] = used;
    }
    words[lenAt] = 0;
    windowDeadline[t] = Infinity;
  }
}

/**
 * Whether a read batch at `now` may run in the read path, and if so opens this thread's window
 * (reader gate held): no window of any thread may have passed its deadline. This thread's window
 * deadline becomes this batch's if that is earlier (a clock may step back), so it stays the
 * earliest of its unfolded locks.
 */
export function openWindow(c: L1Core, now: number): boolean {
  const wd = c.windowDeadline;
  for (let t = 0; t < c.maxThreads; t++) if (wd[t] < now) return false;
  const deadline = now + c.config.readLeaseMs;
  if (deadline < wd[c.me]) wd[c.me] = deadline;
  return true;
}

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
import { L1Error, L1EventFlag, L1EventKind, NO_SLOT, type DigestBatch } from './api.ts';
import type { KeyStep, L1Core, OrphanStep } from './l1-core.ts';
import * as layout from './layout.ts';
import * as eventRing from '../shm/event-ring.ts';
import { readStep, releaseOrphanStep, releaseStep, type SlotStep } from './transitions.ts';

// Module-local copies: imported bindings are live (a getter per read under tsx), too slow per key.
const { ENTRY_F64, ENTRY_SHIFT } = layout;
const { SLOT, SIZE, FLAGS, TICK, WRITE_OWNER, WRITE_DEADLINE_F64, READ_DEADLINE_F64, READ_COUNT } = layout.Entry;
const { TEMPORARY, STALE_HOLDS } = layout.EntryFlag;
const { KEY_NOT_EXIST, KEY_NOT_READABLE } = L1Error;
const { LAST, FOLLOWS } = L1EventFlag;
const EVENT_TOUCHED = L1EventKind.TOUCHED;
const LOG_LENGTH = layout.Reader.LOG_LENGTH;
const { OWNER_IDS_USED } = layout.Header;
const NONE = NO_SLOT;
const { EVENT_WORDS } = eventRing;

/**
 * A read-path loop over `keys` from key 0 (reader gate held, `c.now`, `c.tick` and `c.batchId`
 * set): answers each key it decides and returns the index of the first key it left to the mutex
 * path (the key count when it decided all).
 */
export type ReadLoop<A> = (c: L1Core, keys: DigestBatch, codes: Uint8Array, arg: A) => number;

/** A read call (reserveRead, finishRead) as `L1Core.readBatch` runs it: its read-path loop and the mutex path for the keys the loop leaves. */
export interface ReadPath<A> {
  /** Decides keys in the read path, from key 0. */
  readonly loop: ReadLoop<A>;
  /** The mutex path's step for each key the loop left (every key when the loop could not run). */
  readonly step: KeyStep<A>;
  /** For a call that ends holds: the orphan half of `step`; while any slot is orphaned, such a call skips the read path. */
  readonly orphanStep?: OrphanStep<A>;
  /**
   * Resets the caller's answers of keys `from..` before the mutex path fills them in (its steps
   * write only what succeeds); the loop writes every answer of each key it decides.
   */
  readonly resetFrom?: (arg: A, from: number) => void;
}

/**
 * Logs `slot` in this thread's read log (its unfolded word is 0); false (nothing logged) when the
 * log is full. The log entry is stored before the word changes: a fold never misses a word.
 */
function logSlot(c: L1Core, slot: number): boolean {
  const lenAt = c.readerIndex + LOG_LENGTH;
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

/**
 * reserveRead's read loop: READABLE/READ_LOCKED → READ_LOCKED with `a.locks` unfolded locks of
 * this thread. It writes each decided key's slot and size, failures too (NO_SLOT, 0), so a reused
 * result array needs no fill first.
 */
function reserveReadLoop(c: L1Core, keys: DigestBatch, codes: Uint8Array, a: SlotStep): number {
  const n = keyCount(keys);
  const { table, tw, tf, refOf, unfolded, unfoldedTick, unfoldedDeadline } = c;
  const row = c.me * c.config.totalSlots;
  const { slots, sizes, locks } = a;
  const now = c.now;
  const deadline = now + c.config.readLeaseMs;
  const tick = c.tick;
  for (let j = 0; j < n; j++) {
    const e = table.probe(keys, j);
    if (e < 0) {
      codes[j] = KEY_NOT_EXIST;
      slots[j] = NONE;
      sizes[j] = 0;
      continue;
    }
    const b = e << ENTRY_SHIFT;
    if (tw[b + WRITE_OWNER] !== 0) {
      // Rare: the full lease check here, so the common key tests its read lease alone.
      if (leaseExpired(c, e, now)) return j;
      codes[j] = KEY_NOT_READABLE;
      slots[j] = NONE;
      sizes[j] = 0;
      continue;
    }
    if (tw[b + READ_COUNT] !== 0 && tf[e * ENTRY_F64 + READ_DEADLINE_F64] < now) return j;
    const slot = tw[b + SLOT];
    const at = row + slot;
    const u = unfolded[at];
    if (u === 0 && !logSlot(c, slot)) return j;
    unfolded[at] = (((u >> 1) + locks) << 1) | 1;
    unfoldedTick[at] = tick;
    unfoldedDeadline[at] = deadline;
    codes[j] = 0;
    slots[j] = refOf[slot];
    sizes[j] = tw[b + SIZE];
  }
  return n;
}

/** reserveRead's reset for the mutex path: no slot and size 0 until a key succeeds. */
function resetSlots(a: SlotStep, from: number): void {
  a.slots.fill(NONE, from);
  a.sizes.fill(0, from);
}

/**
 * finishRead's read loop: releases `locks` of this thread's own read locks per key, reported as
 * touched. Everything else (locks of other threads, stale holds, a temporary object, a
 * write-locked key, a lease to expire) goes to the mutex path. It adds its touched events itself
 * (every key it releases has one, so key j's FOLLOWS is whether key j - 1 released) and tells the
 * core which key emitted last, for the mutex path's flags.
 */
function finishReadLoop(c: L1Core, keys: DigestBatch, codes: Uint8Array, locks: number): number {
  const n = keyCount(keys);
  const { table, tw, tf, unfolded, unfoldedTick, threadReads, events } = c;
  const threads = c.maxThreads;
  const me = c.me;
  const row = me * c.config.totalSlots;
  const now = c.now;
  const tick = c.tick;
  const batchId = c.batchId;
  let emitted = -1;
  // The touched events go straight into the call's event buffer (EVENT_WORDS each: kind, digest, flags, batch id).
  const ev = events.room(n);
  let o = events.end;
  let j = 0;
  for (; j < n; j++) {
    const e = table.probe(keys, j);
    if (e < 0) {
      codes[j] = KEY_NOT_EXIST;
      continue;
    }
    const b = e << ENTRY_SHIFT;
    // Not write-locked (so only a read lease can have passed), no stale holds, not temporary.
    if (tw[b + WRITE_OWNER] !== 0 || (tw[b + FLAGS] & (TEMPORARY | STALE_HOLDS)) !== 0
      || (tw[b + READ_COUNT] !== 0 && tf[e * ENTRY_F64 + READ_DEADLINE_F64] < now)) break;
    const slot = tw[b + SLOT];
    const at = row + slot;
    const u = unfolded[at];
    const own = u >> 1;
    // This thread's own locks: its unfolded ones, then (only when those fall short) its folded count.
    if (own < locks && threadReads[slot * threads + me] + own < locks) break;
    if (u === 0 && !logSlot(c, slot)) break;
    unfolded[at] = ((own - locks) << 1) | (u & 1);
    unfoldedTick[at] = tick;
    codes[j] = 0;
    ev[o] = EVENT_TOUCHED;
    ev[o + 1] = tw[b];
    ev[o + 2] = tw[b + 1];
    ev[o + 3] = tw[b + 2];
    ev[o + 4] = tw[b + 3];
    ev[o + 5] = (j === n - 1 ? LAST : 0) | (j > 0 && emitted === j - 1 ? FOLLOWS : 0);
    ev[o + 6] = batchId;
    o += EVENT_WORDS;
    emitted = j;
  }
  events.setEnd(o);
  if (j < n && emitted >= 0) c.emittedAt(emitted);
  return j;
}

/** reserveRead: the read path, else readStep under the mutex. */
export const reserveReadPath: ReadPath<SlotStep> = { loop: reserveReadLoop, step: readStep, resetFrom: resetSlots };

/** finishRead: the read path, else releaseStep (and its orphan half) under the mutex. */
export const finishReadPath: ReadPath<number> = { loop: finishReadLoop, step: releaseStep, orphanStep: releaseOrphanStep };

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
  // Owner ids past the highest ever registered never opened a window: no need to look at them.
  const used = Atomics.load(c.words, OWNER_IDS_USED);
  for (let t = 0; t < used; t++) if (wd[t] < now) return false;
  const deadline = now + c.config.readLeaseMs;
  if (deadline < wd[c.me]) wd[c.me] = deadline;
  return true;
}

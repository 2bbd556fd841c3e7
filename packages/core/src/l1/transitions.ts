/**
 * The per-key transitions of the object state machine (diagram in l1-manager.ts), one
 * {@link KeyStep} each for `L1Core.batch`: each runs under the mutex with the key's live entry,
 * applies its transition and answers the key's L1Error; and `reserveWrite`'s loop, which also
 * creates entries.
 */
import { keyCount } from '../digest-batch.ts';
import { L1Error, L1EventKind, type DigestBatch, type L1SlotResult, type WriteMode } from './api.ts';
import { evictOne } from './emergency.ts';
import { isUnlocked } from './inspect.ts';
import type { L1Core } from './l1-core.ts';
import * as layout from './layout.ts';
import { endOrphanReads, endOrphanWrite, handOverOrphanReads, moveStale, staleHeldByMe } from './stale-holds.ts';

// Module-local copies: imported bindings are live (a getter per read under tsx), too slow per key.
const { ENTRY_F64, ENTRY_SHIFT } = layout;
const Header = { ...layout.Header };
const { SLOT, SIZE, FLAGS, TICK, WRITE_OWNER, WRITE_DEADLINE_F64, READ_COUNT, STORE_OWNER } = layout.Entry;
const { TEMPORARY, CREATED, STALE_HOLDS } = layout.EntryFlag;
const { CREATED: EVENT_CREATED, TOUCHED: EVENT_TOUCHED } = L1EventKind;
const { KEY_NOT_EXIST, KEY_NOT_READABLE, KEY_NOT_WRITABLE, KEY_IN_WRONG_STATE, KEY_IS_LOCKED, OUT_OF_MEMORY, OBJECT_TOO_LARGE } = L1Error;

/** What a slot-handing step fills in, and how many read locks it takes or releases. */
export interface SlotStep {
  readonly slots: Int32Array;
  readonly sizes: Uint32Array;
  readonly locks: number;
}

/** The {@link SlotStep} of `result`, taking or releasing `locks` per key. */
export function slotStep(result: L1SlotResult, locks: number): SlotStep {
  return { slots: result.slots, sizes: result.sizes, locks };
}

/** Answers entry `e`'s slot and size for key `j`: SUCCESS. */
function handOut(c: L1Core, e: number, j: number, a: SlotStep): number {
  const b = e << ENTRY_SHIFT;
  a.slots[j] = c.refOf[c.tw[b + SLOT]];
  a.sizes[j] = c.tw[b + SIZE];
  return 0;
}

/**
 * The orphan half of the publishing steps: a write of this owner that was cut short (its lease
 * expired, or it was deleted with force) ends here, answering KEY_NOT_EXIST: it is never published.
 */
export function endCutShortWriteStep(c: L1Core, keys: DigestBatch, j: number): number {
  return endOrphanWrite(c, keys, j) ? KEY_NOT_EXIST : -1;
}

/** WRITE_LOCKED by this owner → READABLE, dirty unless temporary. */
export function publishStep(c: L1Core, e: number): number {
  const tw = c.tw;
  const b = e << ENTRY_SHIFT;
  if (tw[b + WRITE_OWNER] !== c.ownerId) return KEY_IN_WRONG_STATE;
  tw[b + WRITE_OWNER] = 0;
  tw[b + TICK] = c.tick;
  tw[b + FLAGS] |= CREATED;
  if ((tw[b + FLAGS] & TEMPORARY) === 0) c.setDirty(e, tw[b + SLOT]);
  c.emit(EVENT_CREATED, e);
  return 0;
}

/** WRITE_LOCKED by this owner → READ_LOCKED in one step, not dirty. */
export function publishReadStep(c: L1Core, e: number, j: number, a: SlotStep): number {
  const b = e << ENTRY_SHIFT;
  if (c.tw[b + WRITE_OWNER] !== c.ownerId) return KEY_IN_WRONG_STATE;
  c.tw[b + WRITE_OWNER] = 0;
  c.tw[b + FLAGS] |= CREATED;
  c.lockRead(e, a.locks);
  c.emit(EVENT_CREATED, e);
  return handOut(c, e, j, a);
}

/** READABLE/READ_LOCKED → READ_LOCKED. */
export function readStep(c: L1Core, e: number, j: number, a: SlotStep): number {
  if (c.tw[(e << ENTRY_SHIFT) + WRITE_OWNER] !== 0) return KEY_NOT_READABLE;
  c.lockRead(e, a.locks);
  return handOut(c, e, j, a);
}

/** READ_LOCKED stays: its slot, no lock taken. */
export function peekStep(c: L1Core, e: number, j: number, a: SlotStep): number {
  const b = e << ENTRY_SHIFT;
  if (c.tw[b + WRITE_OWNER] !== 0 || c.tw[b + READ_COUNT] === 0) return KEY_NOT_READABLE;
  return handOut(c, e, j, a);
}

/** READ_LOCKED → READ_LOCKED/READABLE (or ABSENT when temporary), a use of the object. */
export function releaseStep(c: L1Core, e: number, _j: number, locks: number): number {
  return c.releaseReads(e, locks, true);
}

/** The orphan half of {@link releaseStep}: read locks whose lease expired are released from their orphaned slot. */
export function releaseOrphanStep(c: L1Core, keys: DigestBatch, j: number, locks: number): number {
  return endOrphanReads(c, keys, j, locks) ? 0 : -1;
}

/** The orphan half of {@link handOverStep}: the read locks move on the orphaned slot, to be released by `to`. */
export function handOverOrphanStep(c: L1Core, keys: DigestBatch, j: number, a: { readonly locks: number; readonly to: number }): number {
  return handOverOrphanReads(c, keys, j, a.locks, a.to) ? 0 : -1;
}

/** Moves `locks` of this owner's read holds to owner `to`: its stale holds first (they go first on release too), then read locks. */
export function handOverStep(c: L1Core, e: number, _j: number, a: { readonly locks: number; readonly to: number }): number {
  const tr = c.threadReads;
  const slot = c.tw[(e << ENTRY_SHIFT) + SLOT];
  const base = slot * c.maxThreads;
  const stale = staleHeldByMe(c, e);
  if (tr[base + c.me] + stale < a.locks) return KEY_IN_WRONG_STATE;
  const locks = a.locks - (stale > 0 ? moveStale(c, slot, a.locks, a.to) : 0);
  tr[base + c.me] -= locks;
  tr[base + a.to - 1] += locks;
  return 0;
}

/** `removeStep` flags: remove locked objects too; count the removal as an eviction. */
export const FORCE = 1;
export const EVICTION = 2;

/**
 * Any state → ABSENT; a locked object only with FORCE. Removing an object this owner is writing
 * aborts the write (its slot is freed, not orphaned: the writer is done with it).
 */
export function removeStep(c: L1Core, e: number, _j: number, how: number): number {
  if ((how & FORCE) === 0 && !isUnlocked(c, e)) return KEY_IS_LOCKED;
  if (c.tw[(e << ENTRY_SHIFT) + WRITE_OWNER] === c.ownerId) c.tw[(e << ENTRY_SHIFT) + WRITE_OWNER] = 0;
  c.removeEntry(e);
  if (how & EVICTION) c.words[Header.EVICTIONS]++;
  return 0;
}

/** No state change: a use of the object (access tick, touched event). */
export function touchStep(c: L1Core, e: number): number {
  c.tw[(e << ENTRY_SHIFT) + TICK] = c.tick;
  c.emit(EVENT_TOUCHED, e);
  return 0;
}

/**
 * `reserveWrite`'s loop (mutex held, clock taken): ABSENT or READABLE → WRITE_LOCKED per key,
 * inserting entries and evicting inline when no slot is free. A READABLE object is rewritten in
 * its slot unless the slot has stale holds; then it moves to a new slot and the old one is orphaned. Not a {@link KeyStep}: it acts on
 * absent keys too. Once a key finds L1 full, it and every later key answer OUT_OF_MEMORY.
 */
export function reserveSlots(c: L1Core, keys: DigestBatch, sizeOf: number | ArrayLike<number>, mode: WriteMode, temporary: number, result: L1SlotResult): void {
  const { codes, slots, sizes: out } = result;
  const tw = c.tw;
  const table = c.table;
  const slotBytes = c.config.slotBytes;
  const now = c.now;
  const deadline = now + c.config.writeLeaseMs;
  const n = keyCount(keys);
  let full = false;
  for (let j = 0; j < n; j++) {
    const size = typeof sizeOf === 'number' ? sizeOf : sizeOf[j];
    if (full) {
      codes[j] = OUT_OF_MEMORY;
      continue;
    }
    let e = table.probe(keys, j);
    if (e >= 0 && c.expire(e, now)) e = table.probe(keys, j);
    if (e >= 0) {
      const b = e << ENTRY_SHIFT;
      if (mode === 'new' || tw[b + WRITE_OWNER] !== 0 || tw[b + READ_COUNT] !== 0 || (tw[b + FLAGS] & TEMPORARY) !== 0) {
        codes[j] = KEY_NOT_WRITABLE;
        continue;
      }
      if (size > slotBytes) {
        codes[j] = OBJECT_TOO_LARGE;
        continue;
      }
      if ((tw[b + FLAGS] & STALE_HOLDS) === 0) {
        const slot = tw[b + SLOT];
        c.clearDirty(e, slot);
        c.meta64[Header.USED_BYTES_F64] += size - tw[b + SIZE];
        tw[b + SIZE] = size;
        tw[b + FLAGS] = (tw[b + FLAGS] & CREATED) | temporary;
        // A claim whose read lock expired is over: the new bytes will be claimed afresh.
        tw[b + STORE_OWNER] = 0;
        takeWriteLock(c, e, deadline);
        slots[j] = c.refOf[slot];
        out[j] = size;
        continue;
      }
      // Readers past their lease may still read this slot: the new bytes go to another one.
      c.removeEntry(e);
      e = table.probe(keys, j);
    } else if (mode === 'update') {
      codes[j] = KEY_NOT_WRITABLE;
      continue;
    } else if (size > slotBytes) {
      codes[j] = OBJECT_TOO_LARGE;
      continue;
    }
    if (c.words[Header.FREE_TOP] === 0) {
      if (!evictOne(c)) {
        full = true;
        codes[j] = OUT_OF_MEMORY;
        continue;
      }
      e = table.probe(keys, j);
    }
    const slot = c.freeStack[--c.words[Header.FREE_TOP]];
    table.insert(~e, keys, j, slot);
    const b = ~e << ENTRY_SHIFT;
    tw[b + SIZE] = size;
    tw[b + FLAGS] = temporary;
    takeWriteLock(c, ~e, deadline);
    c.words[Header.OBJECTS]++;
    c.meta64[Header.USED_BYTES_F64] += size;
    slots[j] = c.refOf[slot];
    out[j] = size;
  }
}

/** Write-locks entry `e` for this owner until `deadline`, as an access at the current tick. */
function takeWriteLock(c: L1Core, e: number, deadline: number): void {
  const b = e << ENTRY_SHIFT;
  c.tw[b + WRITE_OWNER] = c.ownerId;
  c.tw[b + TICK] = c.tick;
  c.tf[e * ENTRY_F64 + WRITE_DEADLINE_F64] = deadline;
}

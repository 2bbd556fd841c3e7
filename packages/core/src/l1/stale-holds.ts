/**
 * Stale holds and orphaned slots: what keeps an expired lease from ever causing wrong bytes.
 *
 * A lease bounds how long a holder may keep a *key*, not how long it may keep using its zero-copy
 * view of the *slot*: a prefetch whose write lock expired may still be loading into it, a reader
 * past its read lease may still be copying out of it. So:
 * - read locks past their lease become *stale holds* of the slot (per thread, beside the read
 *   locks): the object stays readable, and it no longer counts as locked (writers and eviction
 *   may take the key), but its slot is never rewritten in place nor freed while a stale hold lasts;
 * - an object that leaves the index while held (its write lease expired, a forced delete of a
 *   locked object, a rewrite or removal of one with stale holds) leaves its slot *orphaned*: the
 *   key is gone (the old object is never readable again), the slot stays out of circulation with
 *   the cut-short writer (WRITER) and the stale holds.
 * Each holder ends its hold by the key it took it with (finishWrite, finishRead, finishStore;
 * handOverReads moves it), or by dying (reclaimThread). The last hold ended frees an orphan.
 * Orphans are found through a compact list, usually empty (one word read per key on the release
 * paths). Every function here runs with the index mutex held.
 */
import type { DigestBatch } from './api.ts';
import type { L1Core } from './l1-core.ts';
import * as layout from './layout.ts';

const { ENTRY_SHIFT, ORPHAN_WORDS, SLOT_ORPHANED } = layout;
const Header = { ...layout.Header };
const { SLOT, FLAGS, WRITE_OWNER, READ_COUNT } = layout.Entry;
const { STALE_HOLDS } = layout.EntryFlag;
const { WRITER, POS } = layout.Orphan;

/** Turns every read lock of entry `e` into a stale hold of its slot: the key is unlocked, the slot stays held. */
export function staleReads(c: L1Core, e: number): void {
  const tw = c.tw;
  const b = e << ENTRY_SHIFT;
  if (tw[b + READ_COUNT] === 0) return;
  const tr = c.threadReads;
  const st = c.staleReads;
  const base = tw[b + SLOT] * c.maxThreads;
  for (let t = 0; t < c.maxThreads; t++) {
    st[base + t] += tr[base + t];
    tr[base + t] = 0;
  }
  tw[b + READ_COUNT] = 0;
  tw[b + FLAGS] |= STALE_HOLDS;
}

/** Whether anything holds `slot` stale (per-thread scan: only on the paths that end stale holds). */
function anyStale(c: L1Core, slot: number): boolean {
  const st = c.staleReads;
  const base = slot * c.maxThreads;
  for (let t = 0; t < c.maxThreads; t++) if (st[base + t] !== 0) return true;
  return false;
}

/** Releases up to `locks` of this owner's stale holds of `slot`; how many it released. */
function releaseStale(c: L1Core, slot: number, locks: number): number {
  const at = slot * c.maxThreads + c.me;
  const held = c.staleReads[at];
  const released = held < locks ? held : locks;
  c.staleReads[at] = held - released;
  return released;
}

/**
 * Releases up to `locks` of this owner's stale holds of live entry `e` (the older holds: they go
 * first); how many it released. Clears STALE_HOLDS with the last one.
 */
export function releaseStaleOfEntry(c: L1Core, e: number, locks: number): number {
  const b = e << ENTRY_SHIFT;
  if ((c.tw[b + FLAGS] & STALE_HOLDS) === 0) return 0;
  const slot = c.tw[b + SLOT];
  const released = releaseStale(c, slot, locks);
  if (released > 0 && !anyStale(c, slot)) c.tw[b + FLAGS] &= ~STALE_HOLDS;
  return released;
}

/** This owner's stale holds of live entry `e`'s slot. */
export function staleHeldByMe(c: L1Core, e: number): number {
  const b = e << ENTRY_SHIFT;
  if ((c.tw[b + FLAGS] & STALE_HOLDS) === 0) return 0;
  return c.staleReads[c.tw[b + SLOT] * c.maxThreads + c.me];
}

/** Moves up to `locks` of this owner's stale holds of `slot` to owner `to`; how many moved. */
export function moveStale(c: L1Core, slot: number, locks: number, to: number): number {
  const st = c.staleReads;
  const base = slot * c.maxThreads;
  const moved = Math.min(st[base + c.me], locks);
  st[base + c.me] -= moved;
  st[base + to - 1] += moved;
  return moved;
}

/**
 * Orphans entry `e`'s slot (its object is leaving the index while it is held): its read locks
 * become stale holds, and its digest and writer go to the slot's orphan record.
 */
export function orphanSlot(c: L1Core, e: number, slot: number): void {
  staleReads(c, e);
  const tw = c.tw;
  const o = c.orphans;
  const b = e << ENTRY_SHIFT;
  const r = slot * ORPHAN_WORDS;
  for (let k = 0; k < 4; k++) o[r + k] = tw[b + k];
  o[r + WRITER] = tw[b + WRITE_OWNER];
  const n = c.words[Header.ORPHANS]++;
  o[r + POS] = n;
  c.orphanList[n] = slot;
  c.slotEntry[slot] = SLOT_ORPHANED;
}

/** Frees orphaned `slot` once nothing holds it any more. */
function freeIfUnheld(c: L1Core, slot: number): void {
  const o = c.orphans;
  const r = slot * ORPHAN_WORDS;
  if (o[r + WRITER] !== 0 || anyStale(c, slot)) return;
  const last = --c.words[Header.ORPHANS];
  const moved = c.orphanList[last];
  c.orphanList[o[r + POS]] = moved;
  o[moved * ORPHAN_WORDS + POS] = o[r + POS];
  o.fill(0, r, r + ORPHAN_WORDS);
  c.freeSlot(slot);
}

/** The orphaned slot of key `j` this owner holds (as its writer when `write`, else by stale holds), or -1. */
function heldOrphan(c: L1Core, keys: DigestBatch, j: number, write: boolean): number {
  const o = c.orphans;
  const list = c.orphanList;
  const k0 = keys[j * 4] | 0;
  const k1 = keys[j * 4 + 1] | 0;
  const k2 = keys[j * 4 + 2] | 0;
  const k3 = keys[j * 4 + 3] | 0;
  for (let i = 0, n = c.words[Header.ORPHANS]; i < n; i++) {
    const slot = list[i];
    const r = slot * ORPHAN_WORDS;
    if (o[r] !== k0 || o[r + 1] !== k1 || o[r + 2] !== k2 || o[r + 3] !== k3) continue;
    if (write ? o[r + WRITER] === c.ownerId : c.staleReads[slot * c.maxThreads + c.me] > 0) return slot;
  }
  return -1;
}

/** Ends this owner's cut-short write of key `j`, if it has one; true when it did. */
export function endOrphanWrite(c: L1Core, keys: DigestBatch, j: number): boolean {
  const slot = heldOrphan(c, keys, j, true);
  if (slot < 0) return false;
  c.orphans[slot * ORPHAN_WORDS + WRITER] = 0;
  freeIfUnheld(c, slot);
  return true;
}

/** Releases up to `locks` of this owner's holds of an orphaned slot of key `j`; true when it had any. */
export function endOrphanReads(c: L1Core, keys: DigestBatch, j: number, locks: number): boolean {
  const slot = heldOrphan(c, keys, j, false);
  if (slot < 0) return false;
  releaseStale(c, slot, locks);
  freeIfUnheld(c, slot);
  return true;
}

/** Moves up to `locks` of this owner's holds of an orphaned slot of key `j` to owner `to`; true when it had any. */
export function handOverOrphanReads(c: L1Core, keys: DigestBatch, j: number, locks: number, to: number): boolean {
  const slot = heldOrphan(c, keys, j, false);
  if (slot < 0) return false;
  moveStale(c, slot, locks, to);
  return true;
}

/**
 * Ends owner `ownerId`'s stale holds of `slot` (it died or detached); how many it had. Part of
 * reclaim's one sweep over the slots, before the owner's read locks of the slot are released.
 */
export function reclaimStaleOfSlot(c: L1Core, slot: number, ownerId: number): number {
  const st = c.staleReads;
  const at = slot * c.maxThreads + ownerId - 1;
  const held = st[at];
  if (held === 0) return 0;
  st[at] = 0;
  const e = c.slotEntry[slot];
  if (e >= 0 && !anyStale(c, slot)) c.tw[(e << ENTRY_SHIFT) + FLAGS] &= ~STALE_HOLDS;
  return held;
}

/**
 * Ends owner `ownerId`'s cut-short writes, and frees the orphans nothing holds any more (after
 * {@link reclaimStaleOfSlot} ended its stale holds of every slot).
 */
export function reclaimOrphans(c: L1Core, ownerId: number): void {
  const o = c.orphans;
  // Backwards: freeing an orphan moves the list's last entry into its place.
  for (let i = c.words[Header.ORPHANS] - 1; i >= 0; i--) {
    const slot = c.orphanList[i];
    if (o[slot * ORPHAN_WORDS + WRITER] === ownerId) o[slot * ORPHAN_WORDS + WRITER] = 0;
    freeIfUnheld(c, slot);
  }
}

/**
 * Store claims: how the store controller takes dirty objects to copy to L2 and gives them back.
 * A claim is a read lock of the claiming owner plus STORE_OWNER in the entry; it survives until
 * `finishStore`, and `reclaimThread` turns a dead owner's claims back into dirty marks, so no
 * store is lost. An object is "unstored" while it is dirty or claimed.
 */
import { keyCount } from '../digest-batch.ts';
import type { DigestBatch, L1SlotResult } from './api.ts';
import type { L1Core } from './l1-core.ts';
import * as layout from './layout.ts';
import { endOrphanReads } from './stale-holds.ts';

const { ENTRY_SHIFT } = layout;
const Header = { ...layout.Header };
const { SIZE, FLAGS, STORE_OWNER } = layout.Entry;
const { DIRTY } = layout.EntryFlag;

/** Dirty objects claimed by `takeDirty`: read-locked for the caller, marked as being stored by it. */
export interface L1DirtyBatch extends L1SlotResult {
  /** The claimed keys, in the order of `codes`/`slots`/`sizes` (all SUCCESS). */
  readonly keys: DigestBatch;
}

/** Claims up to `max` dirty objects, lowest slot first (mutex held, tick taken). */
export function takeDirty(c: L1Core, max: number): L1DirtyBatch {
  const count = Math.min(max, c.words[Header.DIRTY_COUNT]);
  const keys = new Uint32Array(count * 4);
  const slots = new Int32Array(count);
  const sizes = new Uint32Array(count);
  const tw = c.tw;
  const words = c.dirty.words;
  let n = 0;
  for (let w = 0; w < words.length && n < count; w++) {
    while (words[w] !== 0 && n < count) {
      const bits = words[w];
      const slot = w * 32 + (31 - Math.clz32(bits & -bits));
      const e = c.slotEntry[slot];
      const b = e << ENTRY_SHIFT;
      c.clearDirty(e, slot);
      tw[b + STORE_OWNER] = c.ownerId;
      c.lockRead(e, 1);
      for (let k = 0; k < 4; k++) keys[n * 4 + k] = tw[b + k];
      slots[n] = c.refOf[slot];
      sizes[n] = tw[b + SIZE];
      n++;
    }
  }
  return { keys, codes: new Uint8Array(count), slots, sizes };
}

/**
 * `finishStore`'s step: ends this owner's claim on entry `e` (even when the lock is gone, so the
 * claim cannot outlive its lease), then releases one read lock without counting it as a use.
 */
export function finishStoreStep(c: L1Core, e: number): number {
  const b = (e << ENTRY_SHIFT) + STORE_OWNER;
  if (c.tw[b] === c.ownerId) {
    c.tw[b] = 0;
    c.endedStores = true;
  }
  return c.releaseReads(e, 1, false);
}

/**
 * The orphan half of {@link finishStoreStep}: a claim whose read lease expired (the object left L1,
 * its slot stayed with the store) ends with the release of its lock on the orphaned slot.
 */
export function finishStoreOrphanStep(c: L1Core, keys: DigestBatch, j: number): number {
  if (!endOrphanReads(c, keys, j, 1)) return -1;
  c.endedStores = true;
  return 0;
}

function isUnstored(tw: Int32Array, e: number): boolean {
  return (tw[(e << ENTRY_SHIFT) + FLAGS] & DIRTY) !== 0 || tw[(e << ENTRY_SHIFT) + STORE_OWNER] !== 0;
}

function collectUnstored(c: L1Core, e: number, _j: number, out: number[]): number {
  if (isUnstored(c.tw, e)) for (let k = 0; k < 4; k++) out.push(c.tw[(e << ENTRY_SHIFT) + k]);
  return 0;
}

/** The unstored objects among `keys` (in their order), or of all L1 when `keys` is undefined. */
export function unstoredKeys(c: L1Core, keys: DigestBatch | undefined): DigestBatch {
  const out: number[] = [];
  if (keys === undefined) {
    c.locked((core) => core.table.sweep((e) => {
      collectUnstored(core, e, 0, out);
      return false;
    }));
  } else {
    c.batch(keys, new Uint8Array(keyCount(keys)), false, collectUnstored, out);
  }
  return Uint32Array.from(out);
}

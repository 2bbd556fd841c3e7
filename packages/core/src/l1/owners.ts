/**
 * The ways locks end without their holder: `reclaimThread` for a thread that died (or detached),
 * and lease expiry (owner ids come from owner-registry.ts). Every lock an owner takes is attributed to it (write
 * locks in the entry, read locks in the per-thread counts, store claims in STORE_OWNER), so all of
 * it can be released by another thread.
 */
import type { L1Core } from './l1-core.ts';
import * as layout from './layout.ts';
import { reclaimOrphans, reclaimStaleOfSlot } from './stale-holds.ts';
import { SharedMutex } from '../shm/mutex.ts';
import { releaseFromReclaim, takeForReclaim } from './owner-registry.ts';

const { ENTRY_SHIFT, REGISTRY_FREE, SLOT_ORPHANED } = layout;
const Header = { ...layout.Header };
const { SLOT, FLAGS, WRITE_OWNER, READ_COUNT, STORE_OWNER } = layout.Entry;
const { TEMPORARY } = layout.EntryFlag;

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

/**
 * Releases everything owner `ownerId` held and frees its id. The mutex is broken first if the
 * owner died holding it, its reader gate word cleared if it died inside a read batch, and its
 * event-ring claim forgotten if it died inside a push (the consumer skips what it never published)
 * and its drain ended if it died inside one; then, under the mutex, its store claims become dirty again, its
 * unfinished writes are discarded and its read locks released, and orphaned slots it alone
 * still held are freed (a dead thread uses no view). Takes the mutex even after
 * `detach` (it is detach's last act). When the mutex cannot be taken (`KVT_ERR_TIMEOUT`) the id
 * is left as it was, still `thread`'s, for a later reclaim to retry.
 */
export function reclaim(c: L1Core, ownerId: number, thread: number): L1ReclaimResult {
  // Only while `thread` still holds the id: once freed it may be a live thread's, and a second
  // reclaim of the same dead owner (or one naming the wrong thread) must not touch anything.
  if (!takeForReclaim(c.registry, ownerId, thread)) return { writesDiscarded: 0, readLocksReleased: 0 };
  SharedMutex.breakIfHeldBy(c.words, Header.MUTEX, ownerId);
  // A reader killed inside a read batch left its gate word set: it reads nothing any more, and
  // lock() folds what its log holds, so the sweep below releases exactly the locks it took.
  c.gate.clear(ownerId - 1);
  // Killed inside a push, it left claimed records it will never publish: the consumer skips them now.
  c.ring.forgetProducer(ownerId - 1);
  // Killed inside a drain, it kept every later consumer out: its drain ends here.
  c.ring.forgetConsumer(ownerId - 1);
  const tw = c.tw;
  const tr = c.threadReads;
  const threads = c.maxThreads;
  const t = ownerId - 1;
  let writesDiscarded = 0;
  let readLocksReleased = 0;
  try {
    c.lock();
  } catch (err) {
    // The mutex stayed held (a live holder stalled): nothing was released, so the id goes back to
    // `thread` and a later reclaim can retry; left marked reclaiming, no reclaim could ever take it.
    releaseFromReclaim(c.registry, ownerId, thread);
    throw err;
  }
  try {
    c.table.sweep((e) => {
      const b = e << ENTRY_SHIFT;
      if (tw[b + STORE_OWNER] === ownerId) {
        tw[b + STORE_OWNER] = 0;
        if (tw[b + WRITE_OWNER] === 0 && (tw[b + FLAGS] & TEMPORARY) === 0) c.setDirty(e, tw[b + SLOT]);
      }
      if (tw[b + WRITE_OWNER] !== ownerId) return false;
      tw[b + WRITE_OWNER] = 0;
      c.removeEntry(e);
      writesDiscarded++;
      return true;
    });
    // One sweep over the slots: its stale holds of each end first, so that a temporary object its
    // last read lock leaves is freed at once unless another thread still holds the slot.
    for (let slot = 0; slot < c.config.totalSlots; slot++) {
      readLocksReleased += reclaimStaleOfSlot(c, slot, ownerId);
      const held = tr[slot * threads + t];
      if (held === 0) continue;
      tr[slot * threads + t] = 0;
      readLocksReleased += held;
      const e = c.slotEntry[slot];
      if (e === SLOT_ORPHANED) continue;
      const b = e << ENTRY_SHIFT;
      tw[b + READ_COUNT] -= held;
      if (tw[b + READ_COUNT] === 0 && (tw[b + FLAGS] & TEMPORARY) !== 0) c.removeEntry(e);
    }
    reclaimOrphans(c, ownerId);
    c.words[Header.RECLAIMED_THREADS]++;
    Atomics.store(c.registry, t, REGISTRY_FREE);
  } finally {
    c.leave();
  }
  return { writesDiscarded, readLocksReleased };
}

/** Applies every lease deadline at `c.now` (mutex held); returns what expired. */
export function expireAll(c: L1Core): L1ExpiryResult {
  const w = c.words;
  const writes = w[Header.EXPIRED_WRITES];
  const reads = w[Header.EXPIRED_READS];
  c.table.sweep((e) => c.expire(e, c.now));
  return { writes: w[Header.EXPIRED_WRITES] - writes, reads: w[Header.EXPIRED_READS] - reads };
}

/**
 * Inspection: accounting, health, per-key state, the live key set and the invariant check. Each
 * runs under the mutex (the caller's `locked`) and only reads.
 */
import { ErrorCode, KvtierError } from '../errors.ts';
import type { DigestBatch, L1KeyState, L1Usage } from './api.ts';
import { findInvariantViolations } from './invariants.ts';
import type { L1Core } from './l1-core.ts';
import * as layout from './layout.ts';

const { ENTRY_SHIFT, REGISTRY_FREE } = layout;
const Header = { ...layout.Header };
const { SLOT, SIZE, FLAGS, WRITE_OWNER, READ_COUNT, STORE_OWNER } = layout.Entry;
const { TEMPORARY, DIRTY, CREATED, STALE_HOLDS } = layout.EntryFlag;

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

/** Byte and object accounting. */
export function usageOf(c: L1Core): L1Usage {
  const total = c.config.totalSlots;
  const free = c.words[Header.FREE_TOP];
  return {
    usedBytes: c.meta64[Header.USED_BYTES_F64],
    capacityBytes: c.config.capacityBytes,
    objects: c.words[Header.OBJECTS],
    freeSlots: free,
    orphanedSlots: c.words[Header.ORPHANS],
    totalSlots: total,
    fraction: (total - free) / total,
  };
}

/** Health and counters. */
export function statusOf(c: L1Core): L1Status {
  const w = c.words;
  const usage = usageOf(c);
  let registered = 0;
  for (let t = 0; t < c.registry.length; t++) if (c.registry[t] !== REGISTRY_FREE) registered++;
  return {
    healthy: usage.objects + usage.freeSlots + usage.orphanedSlots === usage.totalSlots && usage.usedBytes >= 0,
    ownerId: c.ownerId,
    usage,
    dirty: w[Header.DIRTY_COUNT],
    threads: { registered, max: c.maxThreads },
    events: { pending: c.ring.pending(), dropped: c.ring.dropped() },
    counters: {
      emergencyEvictions: w[Header.EMERGENCY_EVICTIONS],
      evictions: w[Header.EVICTIONS],
      expiredWrites: w[Header.EXPIRED_WRITES],
      expiredReads: w[Header.EXPIRED_READS],
      reclaimedThreads: w[Header.RECLAIMED_THREADS],
    },
  };
}

/** Whether entry `e` holds no lock (evicting it would break no one). */
export function isUnlocked(c: L1Core, e: number): boolean {
  const b = e << ENTRY_SHIFT;
  return c.tw[b + WRITE_OWNER] === 0 && c.tw[b + READ_COUNT] === 0;
}

/** The state of the object of entry `e`. */
export function keyState(c: L1Core, e: number): L1KeyState {
  const tw = c.tw;
  const b = e << ENTRY_SHIFT;
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
    slot: c.refOf[tw[b + SLOT]],
  };
}

/** The objects of L1 at one moment, and how many undrained events came before that moment. */
export interface L1LiveKeys {
  /** Every object that was ever readable and is still in L1, as one batch. */
  readonly keys: DigestBatch;
  /**
   * Events in the ring not drained yet that were emitted before `keys` was taken (every call
   * appends its events before it leaves the mutex or the reader gate, so under the mutex the ring
   * holds exactly those): draining this many brings a consumer to the moment `keys` shows.
   */
  readonly pendingEvents: number;
}

/** Every object that was ever readable, with the ring's pending events of that moment (mutex held). */
export function liveKeys(c: L1Core): L1LiveKeys {
  const out = new Uint32Array(c.words[Header.OBJECTS] * 4);
  let n = 0;
  const tw = c.tw;
  c.table.sweep((e) => {
    const b = e << ENTRY_SHIFT;
    if (tw[b + FLAGS] & CREATED) {
      for (let k = 0; k < 4; k++) out[n * 4 + k] = tw[b + k];
      n++;
    }
    return false;
  });
  return { keys: out.slice(0, n * 4), pendingEvents: c.ring.pending() };
}

/**
 * What is still held: objects that hold a lock (write-locked, reserved and never finished,
 * read-locked, claimed for store) or a stale hold (a holder past its lease that has not let go),
 * and the orphaned slots (held past their object's removal), counted in one sweep: the caller's
 * single hold of the mutex makes it one moment's count, never a mix of two (eviction or a store
 * claim between two reads would skew it either way). A leak check that left out stale holds and
 * orphans would miss a holder that never lets go once its lease has passed.
 */
export function lockedObjects(c: L1Core): number {
  const tw = c.tw;
  let locked = c.words[Header.ORPHANS];
  c.table.sweep((e) => {
    if (!isUnlocked(c, e) || (tw[(e << ENTRY_SHIFT) + FLAGS] & STALE_HOLDS) !== 0) locked++;
    return false;
  });
  return locked;
}

/** Throws `KVT_ERR_INTEGRITY` listing every violated invariant (see invariants.ts). */
export function checkInvariants(c: L1Core): void {
  const problems = c.locked(findInvariantViolations);
  if (problems.length > 0) throw new KvtierError(ErrorCode.INTEGRITY, `L1 invariants violated:\n${problems.join('\n')}`);
}

/**
 * Every field of L1's shared metadata buffer (one SharedArrayBuffer, the "meta" buffer), in one
 * place. Regions, in order: header words, thread registry, index table, free-slot stack,
 * slot -> entry map, per-thread read-lock counts, dirty bitmap, event ring. Offsets are in bytes
 * unless a name says words; every region starts on an 8-byte boundary.
 */

/** Int32 word indices of the header. */
export const Header = {
  /**
   * The index mutex: 0 when free, else `(ownerId << 1) | waiters`. Holding the owner id lets
   * reclaimThread release a mutex whose holder died.
   */
  MUTEX: 0,
  /** Logical clock, bumped once per mutating batch; entries store it as their last access. */
  TICK: 1,
  /** Live entries (objects, write-locked ones included). */
  OBJECTS: 2,
  /** Free slots: the top of the free-slot stack. */
  FREE_TOP: 3,
  /** Slots whose dirty bit is set. */
  DIRTY_COUNT: 4,
  /** Bumped and notified whenever objects become dirty: the store worker waits on it. */
  DIRTY_WAKE: 5,
  /** Bumped and notified after inline emergency eviction: the eviction worker waits on it. */
  EMERGENCY_WAKE: 6,
  /** Event ring: next position producers claim (wrapping Int32). */
  RING_HEAD: 7,
  /** Event ring: next position the consumer reads. */
  RING_TAIL: 8,
  /** Event ring: events dropped because the ring was full. */
  RING_DROPPED: 9,
  /** Event ring: 1 while a thread drains (there is one consumer at a time). */
  RING_DRAINING: 10,
  /** Objects dropped by inline emergency eviction. */
  EMERGENCY_EVICTIONS: 11,
  /** Objects dropped by `evict` (the eviction worker). */
  EVICTIONS: 12,
  /** Write locks found past their lease (their objects discarded). */
  EXPIRED_WRITES: 13,
  /** Objects whose read locks were found past their lease (the locks dropped). */
  EXPIRED_READS: 14,
  /** Threads whose locks reclaimThread released. */
  RECLAIMED_THREADS: 15,
  /** Threads waiting on DIRTY_WAKE: wakers skip the notify (a costly call) while it is 0. */
  DIRTY_WAITERS: 16,
  /** Threads waiting on EMERGENCY_WAKE. */
  EMERGENCY_WAITERS: 17,
  /** Bumped at every hold of the index mutex: the batch id of the events emitted during that hold. */
  EVENT_BATCH: 18,
  /** Bumped and notified whenever a store claim ends (finishStore): `flush` waits on it. */
  STORED_WAKE: 19,
  /** Threads waiting on STORED_WAKE. */
  STORED_WAITERS: 20,
  /** Float64 index (not a word index) of the bytes held by live objects: words 30 and 31. */
  USED_BYTES_F64: 15,
} as const;
/** Words in the header. */
export const HEADER_WORDS = 32;

/**
 * Thread registry: one Int32 word per thread slot: 0 when free, else `threadId + 1` of the
 * thread holding it (`worker_threads.threadId`, 0 on the main thread). Owner id = slot + 1.
 */
export const REGISTRY_FREE = 0;

/**
 * An index entry: {@link ENTRY_WORDS} Int32 words. Entries live in an open-addressing table
 * (linear probing on digest word 0, backward-shift deletion: no tombstones), so an entry moves
 * when one before it in its cluster is deleted; anything that must find an entry by slot goes
 * through the slot -> entry map, which moves with it.
 */
export const Entry = {
  /** Digest words 0..3 (digest word 0 is also the hash). */
  DIGEST: 0,
  /** {@link EntryState}. */
  STATE: 4,
  /** Global slot index (segment × slotsPerSegment + slot), not the packed SlotRef. */
  SLOT: 5,
  /** Object size in bytes. */
  SIZE: 6,
  /** {@link EntryFlag} bits. */
  FLAGS: 7,
  /** Header TICK at the last access. */
  TICK: 8,
  /** Owner id holding the write lock, 0 when not write-locked. */
  WRITE_OWNER: 9,
  /** Float64 index within the entry (words 10, 11): write lease deadline, epoch ms. */
  WRITE_DEADLINE_F64: 5,
  /** Float64 index within the entry (words 12, 13): read lease deadline, epoch ms (the latest lock's). */
  READ_DEADLINE_F64: 6,
  /** Read locks held, all threads together (= the sum of the per-thread counts of the slot). */
  READ_COUNT: 14,
  /**
   * Owner id that claimed the object for an L2 store (takeDirty) and has not finished it
   * (finishStore), 0 when none: reclaimThread returns a dead claimer's objects to dirty.
   */
  STORE_OWNER: 15,
} as const;
/** Int32 words per entry (a power of two: entry i starts at word `i << ENTRY_SHIFT`). */
export const ENTRY_WORDS = 16;
/** log2 of {@link ENTRY_WORDS}. */
export const ENTRY_SHIFT = 4;
/** Float64 elements per entry. */
export const ENTRY_F64 = ENTRY_WORDS / 2;

/** Values of {@link Entry.STATE}. */
export const EntryState = { EMPTY: 0, LIVE: 1 } as const;

/** Bits of {@link Entry.FLAGS}. */
export const EntryFlag = {
  /** Loaded by a prefetch: freed at its last finishRead, never stored to L2, never writable. */
  TEMPORARY: 1,
  /** Written and not yet claimed by the store controller (mirrors the slot's dirty bit); a claim clears it and sets Entry.STORE_OWNER. */
  DIRTY: 2,
  /** Readable at least once: its removal is reported to listeners. */
  CREATED: 4,
} as const;

/** One event ring record: {@link RING_RECORD_WORDS} Int32 words. */
export const RingRecord = {
  /**
   * Sequence word (Vyukov's bounded queue): equals the position when the record is free for
   * the producer claiming that position, position + 1 once that producer published it.
   */
  SEQ: 0,
  /** An L1EventKind. */
  KIND: 1,
  /** Digest words 0..3 of the key. */
  DIGEST: 2,
  /** Header EVENT_BATCH of the operation that emitted it: one batch call's events share it. */
  BATCH: 6,
} as const;
/** Int32 words per ring record. */
export const RING_RECORD_WORDS = 8;

/** Byte offsets and sizes of every region of the meta buffer for one configuration. */
export interface MetaLayout {
  readonly maxThreads: number;
  readonly totalSlots: number;
  /** Entries in the index table: a power of two ≥ 2 × totalSlots. */
  readonly tableCapacity: number;
  /** Records in the event ring: a power of two. */
  readonly ringCapacity: number;
  readonly registryOffset: number;
  readonly tableOffset: number;
  /** Int32 per slot: the free-slot stack (global slot indices), FREE_TOP entries valid. */
  readonly freeStackOffset: number;
  /** Int32 per slot: the table index of the entry holding the slot, -1 when free. */
  readonly slotEntryOffset: number;
  /** Int32 per (slot, thread): read locks attributed to a thread, at `slot * maxThreads + ownerId - 1`. */
  readonly threadReadsOffset: number;
  /** Bitmap over global slots: set while the slot's object is dirty. */
  readonly dirtyOffset: number;
  readonly ringOffset: number;
  readonly byteLength: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The layout of the meta buffer for `totalSlots` slots, `maxThreads` threads and a ring of `ringCapacity` records. */
export function metaLayout(totalSlots: number, maxThreads: number, ringCapacity: number): MetaLayout {
  let tableCapacity = 16;
  while (tableCapacity < 2 * totalSlots) tableCapacity *= 2;
  let at = HEADER_WORDS * 4;
  const next = (bytes: number) => {
    const start = at;
    at = align8(at + bytes);
    return start;
  };
  const registryOffset = next(maxThreads * 4);
  const tableOffset = next(tableCapacity * ENTRY_WORDS * 4);
  const freeStackOffset = next(totalSlots * 4);
  const slotEntryOffset = next(totalSlots * 4);
  const threadReadsOffset = next(totalSlots * maxThreads * 4);
  const dirtyOffset = next(Math.ceil(totalSlots / 32) * 4);
  const ringOffset = next(ringCapacity * RING_RECORD_WORDS * 4);
  return {
    maxThreads, totalSlots, tableCapacity, ringCapacity,
    registryOffset, tableOffset, freeStackOffset, slotEntryOffset, threadReadsOffset, dirtyOffset, ringOffset,
    byteLength: at,
  };
}

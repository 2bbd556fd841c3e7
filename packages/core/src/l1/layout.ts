/**
 * Every field of L1's shared metadata buffer (one SharedArrayBuffer, the "meta" buffer), in one
 * place. Regions, in order: header words, thread registry, index table, free-slot stack,
 * slot -> entry map, per-thread read-lock counts, per-thread stale read holds, dirty bitmap, event
 * ring, orphaned slots, and the read path's per-thread regions (reader words, window deadlines,
 * read logs, unfolded read locks and their ticks: fast-reads.ts). Offsets are in bytes
 * unless a name says words; every region starts on an 8-byte boundary. Every field is declared
 * through shm/region.ts, so an index is where its field was declared.
 */
import { Bitmap } from '../shm/bitmap.ts';
import { EventRing } from '../shm/event-ring.ts';
import { READER_STRIDE, WAITING_OFFSET } from '../shm/reader-gate.ts';
import { RegionLayout, WordLayout } from '../shm/region.ts';

const header = new WordLayout();
/** Int32 word indices of the header, in declaration order. */
export const Header = {
  /**
   * The index mutex: 0 when free, else `(ownerId << 1) | waiters`. Holding the owner id lets
   * reclaimThread release a mutex whose holder died.
   */
  MUTEX: header.words(),
  /** Logical clock, bumped once per batch that uses it (a read-path batch with an atomic add); entries store it as their last access. */
  TICK: header.words(),
  /** Live entries (objects, write-locked ones included). */
  OBJECTS: header.words(),
  /** Free slots: the top of the free-slot stack. */
  FREE_TOP: header.words(),
  /** Slots whose dirty bit is set. */
  DIRTY_COUNT: header.words(),
  /** Bumped and notified whenever objects become dirty: the store worker waits on it. */
  DIRTY_WAKE: header.words(),
  /** Bumped and notified after inline emergency eviction: the eviction worker waits on it. */
  EMERGENCY_WAKE: header.words(),
  /** The event ring's control words (shm/event-ring.ts): head, tail, dropped, draining. */
  RING_CONTROL: header.words(EventRing.CONTROL_WORDS),
  /** Objects dropped by inline emergency eviction. */
  EMERGENCY_EVICTIONS: header.words(),
  /** Objects dropped by `evict` (the eviction worker). */
  EVICTIONS: header.words(),
  /** Write locks found past their lease (their objects discarded). */
  EXPIRED_WRITES: header.words(),
  /** Objects whose read locks were found past their lease (the locks dropped). */
  EXPIRED_READS: header.words(),
  /** Threads whose locks reclaimThread released. */
  RECLAIMED_THREADS: header.words(),
  /** Threads waiting on DIRTY_WAKE: wakers skip the notify (a costly call) while it is 0. */
  DIRTY_WAITERS: header.words(),
  /** Threads waiting on EMERGENCY_WAKE. */
  EMERGENCY_WAITERS: header.words(),
  /** Bumped at every hold of the index mutex; twice its value is the batch id of the hold's events (a read-path call's id is odd, made of its tick). */
  EVENT_BATCH: header.words(),
  /** Bumped and notified whenever a store claim ends (finishStore): `flush` waits on it. */
  STORED_WAKE: header.words(),
  /** Threads waiting on STORED_WAKE. */
  STORED_WAITERS: header.words(),
  /** Orphaned slots (see {@link Orphan}): the length of the orphan list. */
  ORPHANS: header.words(),
  /** The highest owner id ever registered: only owners up to it can have read-lease windows open (fast-reads.ts). */
  OWNER_IDS_USED: header.words(),
  /** Float64 index (not a word index) of the bytes held by live objects. */
  USED_BYTES_F64: header.f64(),
};
/** Words in the header (a whole number of Float64s). */
export const HEADER_WORDS = header.size + (header.size % 2);

/**
 * Thread registry: one Int32 word per thread slot: 0 when free, else `threadId + 1` of the
 * thread holding it (`worker_threads.threadId`, 0 on the main thread). Owner id = slot + 1.
 */
export const REGISTRY_FREE = 0;
/**
 * A registry word while its owner is being reclaimed: neither free (no thread may register it
 * yet) nor anyone's (a second reclaim of the same dead owner finds it taken).
 */
export const REGISTRY_RECLAIMING = -1;

/**
 * An index entry: {@link ENTRY_WORDS} Int32 words. Entries live in an open-addressing table
 * (linear probing on digest word 0, backward-shift deletion: no tombstones), so an entry moves
 * when one before it in its cluster is deleted; anything that must find an entry by slot goes
 * through the slot -> entry map, which moves with it.
 */
const entry = new WordLayout();
export const Entry = {
  /** Digest words 0..3 (digest word 0 is also the hash). */
  DIGEST: entry.words(4),
  /** {@link EntryState}. */
  STATE: entry.words(),
  /** Global slot index (segment × slotsPerSegment + slot), not the packed SlotRef. */
  SLOT: entry.words(),
  /** Object size in bytes. */
  SIZE: entry.words(),
  /** {@link EntryFlag} bits. */
  FLAGS: entry.words(),
  /** Header TICK at the last access. */
  TICK: entry.words(),
  /** Owner id holding the write lock, 0 when not write-locked. */
  WRITE_OWNER: entry.words(),
  /** Float64 index within the entry (words 10, 11): write lease deadline, epoch ms. */
  WRITE_DEADLINE_F64: entry.f64(),
  /** Float64 index within the entry (words 12, 13): read lease deadline, epoch ms (the latest lock's). */
  READ_DEADLINE_F64: entry.f64(),
  /** Read locks held, all threads together (= the sum of the per-thread counts of the slot). */
  READ_COUNT: entry.words(),
  /**
   * Owner id that claimed the object for an L2 store (takeDirty) and has not finished it
   * (finishStore), 0 when none: reclaimThread returns a dead claimer's objects to dirty.
   */
  STORE_OWNER: entry.words(),
};
/** Int32 words per entry (a power of two: entry i starts at word `i << ENTRY_SHIFT`). */
export const ENTRY_WORDS = 16;
if (entry.size > ENTRY_WORDS) throw new Error(`l1 layout: an entry declares ${entry.size} words, more than ENTRY_WORDS`);
/** log2 of {@link ENTRY_WORDS}. */
export const ENTRY_SHIFT = 4;
/** Float64 elements per entry. */
export const ENTRY_F64 = ENTRY_WORDS / 2;

/**
 * An orphaned slot's record, {@link ORPHAN_WORDS} Int32 words per global slot. A slot is orphaned
 * when its object leaves the index (write lease expiry, forced delete, eviction or rewrite of an
 * object with stale read holds) while a holder may still use a zero-copy view of it: the key is
 * released, the slot is not. Its read holds are in the per-thread stale counts; it is freed once
 * it has no writer and those counts are all 0 (orphans.ts).
 */
const orphan = new WordLayout();
export const Orphan = {
  /** The digest of the key it held: its holders release it by that key. */
  DIGEST: orphan.words(4),
  /** Owner id whose write lock was cut short, 0 when none (or once it ended). */
  WRITER: orphan.words(),
  /** Its index in the orphan list. */
  POS: orphan.words(),
};
/** Int32 words per orphan record. */
export const ORPHAN_WORDS = orphan.size;

/** {@link MetaLayout.slotEntryOffset} value of an orphaned slot (-1 is a free slot). */
export const SLOT_ORPHANED = -2;

/**
 * A thread's words in the readers region, {@link READER_STRIDE} words (one cache line) per owner
 * id, so a reader writes no line another thread writes.
 */
export const Reader = {
  /** 1 while the owner is inside a read batch (shm/reader-gate.ts). */
  ACTIVE: 0,
  /** Records in the owner's read log (the slots its unfolded read locks touch). */
  LOG_LENGTH: 1,
  /** 1 while a writer sleeps on ACTIVE, waiting for the owner to leave (shm/reader-gate.ts `WAITING_OFFSET`). */
  WAITING: 2,
} as const;

if (Reader.WAITING !== Reader.ACTIVE + WAITING_OFFSET) throw new Error('l1 layout: Reader.WAITING must be where the reader gate looks for it');

/** Most slots one thread's read log holds: a thread whose log is full takes the index mutex, which folds it. */
export const READ_LOG_CAPACITY = 4096;

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
  /**
   * Its slot has stale read holds (read locks past their lease: they no longer lock the key, but
   * their holders may still read the slot), so the slot is never rewritten in place or freed with
   * the object: a rewrite or removal orphans it.
   */
  STALE_HOLDS: 8,
} as const;

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
  /** Int32 per slot: the table index of the entry holding the slot, -1 when free, {@link SLOT_ORPHANED}. */
  readonly slotEntryOffset: number;
  /** Int32 per (slot, thread): read locks attributed to a thread, at `slot * maxThreads + ownerId - 1`. */
  readonly threadReadsOffset: number;
  /**
   * Int32 per (slot, thread), indexed as the read locks: stale read holds, i.e. read locks that
   * lost their lease (or whose object was removed by force) and whose holder has not let go.
   */
  readonly staleReadsOffset: number;
  /** Bitmap over global slots: set while the slot's object is dirty. */
  readonly dirtyOffset: number;
  readonly ringOffset: number;
  /** `CLAIM_STRIDE` Int32 per thread: its claim record of the event ring (shm/event-ring.ts), at `(ownerId - 1) * CLAIM_STRIDE`. */
  readonly ringClaimsOffset: number;
  /** Int32 per slot: the orphan list (global slot indices), ORPHANS entries valid. */
  readonly orphanListOffset: number;
  /** {@link ORPHAN_WORDS} Int32 per slot: the {@link Orphan} record of each slot. */
  readonly orphansOffset: number;
  /** {@link READER_STRIDE} Int32 per thread: its {@link Reader} words. */
  readonly readersOffset: number;
  /** Float64 per thread: the earliest read-lease deadline of its unfolded read locks (their window's), +Infinity when it has none. */
  readonly windowDeadlineOffset: number;
  /** Slots per read log (`min(totalSlots, READ_LOG_CAPACITY)`). */
  readonly readLogCapacity: number;
  /** Int32 per (thread, slot index in its log): each thread's read log, at `(ownerId - 1) * readLogCapacity + i`. */
  readonly readLogOffset: number;
  /**
   * Int32 per (thread, slot), thread-major (`(ownerId - 1) * totalSlots + slot`): a thread's read
   * locks not yet folded into the entry, as `(delta << 1) | tookLock`; 0 when the slot is not in its log.
   */
  readonly unfoldedOffset: number;
  /** Int32 per (thread, slot), indexed as the unfolded locks: the access tick of the thread's last unfolded use. */
  readonly unfoldedTickOffset: number;
  /** Float64 per (thread, slot), indexed as the unfolded locks: the read-lease deadline of the thread's last unfolded lock. */
  readonly unfoldedDeadlineOffset: number;
  readonly byteLength: number;
}

/** The layout of the meta buffer for `totalSlots` slots, `maxThreads` threads and a ring of `ringCapacity` records. */
export function metaLayout(totalSlots: number, maxThreads: number, ringCapacity: number): MetaLayout {
  let tableCapacity = 16;
  while (tableCapacity < 2 * totalSlots) tableCapacity *= 2;
  const regions = new RegionLayout();
  regions.region(HEADER_WORDS * 4);
  const registryOffset = regions.region(maxThreads * 4);
  const tableOffset = regions.region(tableCapacity * ENTRY_WORDS * 4);
  const freeStackOffset = regions.region(totalSlots * 4);
  const slotEntryOffset = regions.region(totalSlots * 4);
  const threadReadsOffset = regions.region(totalSlots * maxThreads * 4);
  const staleReadsOffset = regions.region(totalSlots * maxThreads * 4);
  const dirtyOffset = regions.region(Bitmap.byteLength(totalSlots));
  const ringOffset = regions.region(ringCapacity * EventRing.RECORD_WORDS * 4);
  const ringClaimsOffset = regions.region(EventRing.claimWords(maxThreads) * 4);
  const orphanListOffset = regions.region(totalSlots * 4);
  const orphansOffset = regions.region(totalSlots * ORPHAN_WORDS * 4);
  const readersOffset = regions.region(maxThreads * READER_STRIDE * 4);
  const windowDeadlineOffset = regions.region(maxThreads * 8);
  const readLogCapacity = Math.min(totalSlots, READ_LOG_CAPACITY);
  const readLogOffset = regions.region(maxThreads * readLogCapacity * 4);
  const unfoldedOffset = regions.region(maxThreads * totalSlots * 4);
  const unfoldedTickOffset = regions.region(maxThreads * totalSlots * 4);
  const unfoldedDeadlineOffset = regions.region(maxThreads * totalSlots * 8);
  return {
    maxThreads, totalSlots, tableCapacity, ringCapacity,
    registryOffset, tableOffset, freeStackOffset, slotEntryOffset, threadReadsOffset, staleReadsOffset, dirtyOffset, ringOffset, ringClaimsOffset,
    orphanListOffset, orphansOffset, readersOffset, windowDeadlineOffset, readLogCapacity, readLogOffset, unfoldedOffset, unfoldedTickOffset,
    unfoldedDeadlineOffset, byteLength: regions.byteLength,
  };
}

/**
 * The L1 contract: result codes, slot references and the operations every thread uses.
 * `L1Manager` (l1-manager.ts) implements {@link L1}; this file is what other packages code against.
 */

/** Per-key result of an L1 operation (LMCache's `L1Error`), stored as one byte per key. */
export const L1Error = {
  SUCCESS: 0,
  KEY_NOT_EXIST: 1,
  KEY_NOT_READABLE: 2,
  KEY_NOT_WRITABLE: 3,
  KEY_IN_WRONG_STATE: 4,
  KEY_IS_LOCKED: 5,
  OUT_OF_MEMORY: 6,
  OBJECT_TOO_LARGE: 7,
} as const;
/** One of the {@link L1Error} values. */
export type L1ErrorCode = (typeof L1Error)[keyof typeof L1Error];
/** `L1Error` names by value, for messages and metrics. */
export const L1_ERROR_NAMES: readonly string[] = Object.keys(L1Error);

// The key batch every L1 operation takes; its home is digest-batch.ts.
import type { DigestBatch } from '../digest-batch.ts';
import type { ResolvedL1Config } from './l1-config.ts';
export type { DigestBatch };

/**
 * A slot in the arena, `(segment << SLOT_BITS) | slot` packed in one non-negative integer;
 * {@link NO_SLOT} (-1) where an operation gave none.
 */
export type SlotRef = number;
/** The slot reference of "no slot". */
export const NO_SLOT = -1;

/** Per-key answers of a batch operation that hands out slots; arrays are in input order. */
export interface L1SlotResult {
  /** One {@link L1Error} per key. */
  readonly codes: Uint8Array;
  /** The slot of each key that succeeded, {@link NO_SLOT} for the others. */
  readonly slots: Int32Array;
  /** The object's size in bytes for each key that succeeded, 0 for the others. */
  readonly sizes: Uint32Array;
}

/** `reserveWrite` modes: `new` only absent keys, `update` only existing unlocked keys, `all` both. */
export type WriteMode = 'new' | 'update' | 'all';

/** What `state(key)` answers for a present key. */
export interface L1KeyState {
  readonly readable: boolean;
  readonly writable: boolean;
  readonly writeLocked: boolean;
  readonly readLocks: number;
  readonly temporary: boolean;
  readonly dirty: boolean;
  /** Claimed by a store controller that has not finished storing it. */
  readonly storing: boolean;
  readonly size: number;
  readonly slot: SlotRef;
}

/** Byte and object accounting of L1. */
export interface L1Usage {
  readonly usedBytes: number;
  readonly capacityBytes: number;
  readonly objects: number;
  readonly freeSlots: number;
  /**
   * Slots out of circulation though their object is gone: a lease expired (or a forced delete
   * removed the object) while a holder may still use its view; each returns when its holders let go.
   */
  readonly orphanedSlots: number;
  readonly totalSlots: number;
  /** usedSlots / totalSlots, the figure the eviction watermark compares against. */
  readonly fraction: number;
}

/** The operations of L1 (docs/architecture.md §5; what the tests check of them: docs/behaviours.md, L1). Every batch call answers per key. */
export interface L1 {
  reserveWrite(keys: DigestBatch, sizes: number | ArrayLike<number>, opts?: { mode?: WriteMode; temporary?: boolean }): L1SlotResult;
  finishWrite(keys: DigestBatch): Uint8Array;
  reserveRead(keys: DigestBatch, opts?: { extraCount?: number; into?: L1SlotResult }): L1SlotResult;
  unsafeRead(keys: DigestBatch): L1SlotResult;
  finishRead(keys: DigestBatch, opts?: { extraCount?: number; into?: Uint8Array }): Uint8Array;
  finishWriteAndReserveRead(keys: DigestBatch, opts?: { extraCount?: number }): L1SlotResult;
  delete(keys: DigestBatch, opts?: { force?: boolean }): Uint8Array;
  clear(opts?: { force?: boolean }): number;
  touch(keys: DigestBatch): void;
  isEvictable(keys: DigestBatch, index: number): boolean;
  state(keys: DigestBatch, index: number): L1KeyState | null;
  usage(): L1Usage;
  /** A zero-copy view of `size` bytes of a slot this thread holds a lock on. */
  view(slot: SlotRef, size: number): Uint8Array;
}

/** Kinds of L1 events the eviction worker's policy learns from, one ring record per key. */
export const L1EventKind = {
  /** The object became readable (finishWrite or finishWriteAndReserveRead). */
  CREATED: 1,
  /** The object was read (finishRead) or touched. */
  TOUCHED: 2,
  /** The object left L1 (delete, eviction, temporary free, discarded update). */
  REMOVED: 3,
  /**
   * Not an object event: the digest is the parent (the key before it in its batch call) of the
   * next CREATED key of the same batch, sent when that key does not follow the batch's previous
   * event (the parent was already in L1), so that a policy learns the prefix tree.
   */
  PARENT: 4,
} as const;

/** Bits of an L1 event record's value: where the key sits in the batch call that emitted it. */
export const L1EventFlag = {
  /** The key is the last of its batch call (for CREATED: the chunk that ends its request). */
  LAST: 1,
  /** The batch's previous event is for the key just before this one: its parent in the prefix. */
  FOLLOWS: 2,
} as const;
/** One of the {@link L1EventKind} values. */
export type L1EventKindCode = (typeof L1EventKind)[keyof typeof L1EventKind];

/** Everything another thread needs to attach: plain data and SharedArrayBuffers (structured-cloneable). */
export interface L1Handle {
  readonly config: ResolvedL1Config;
  readonly meta: SharedArrayBuffer;
  readonly segments: readonly SharedArrayBuffer[];
}

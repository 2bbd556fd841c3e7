/**
 * L2 events an adapter host reports to the eviction worker (docs/architecture.md §3, §6): each adapter's
 * eviction policy learns which keys were stored, accessed and deleted from these.
 */
import type { DigestBatch } from '../l1/api.ts';

/** Event kinds, as small integers so they fit a shared ring record. */
export const L2EventKind = {
  /** The key was stored (or replaced); `bytes` is its stored size, envelope included. */
  STORED: 1,
  /** The key was loaded. */
  ACCESSED: 2,
  /** The key was deleted (by eviction, by a caller, or because it failed its integrity check). */
  DELETED: 3,
} as const;
/** One of the {@link L2EventKind} values. */
export type L2EventKindCode = (typeof L2EventKind)[keyof typeof L2EventKind];

/**
 * Where a host reports events: one call per key, in batch order, only for keys that succeeded.
 * Must not block or throw; a full ring drops the event and counts the drop (the eviction worker
 * reconciles with `lookup`).
 */
export interface L2EventSink {
  push(kind: L2EventKindCode, keys: DigestBatch, index: number, bytes: number): void;
}

/**
 * The engine's own tier on the device: chunks whose KV blocks stay resident in the paged cache
 * after their request, in LRU order, so a request sharing the prefix uses them in place (no copy
 * at all). It sits above kvtier's L1 and L2: what it lacks, `GpuKvConnector.retrieve` brings.
 */
import type { BlockPool } from './block-pool.ts';

interface Entry {
  readonly blocks: readonly number[];
  pins: number;
}

/**
 * An LRU of chunk key → device blocks, at most `capacity` chunks, owning those blocks. A prefix's
 * chunks are made recent head last, so the head is the most recent: eviction takes a prefix's
 * tail before its head, and what stays is always a usable prefix.
 */
export class GpuTier {
  /** Chunks it holds at most. */
  readonly capacity: number;
  readonly #pool: BlockPool;
  /** Insertion order is recency order: a touch deletes and re-inserts. */
  readonly #entries = new Map<string, Entry>();

  /**
   * @param capacity - chunks held at most (0 disables the tier)
   * @param pool - where evicted chunks' blocks go back to
   */
  constructor(capacity: number, pool: BlockPool) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new Error(`GpuTier: capacity must be a non-negative integer, got ${String(capacity)}`);
    this.capacity = capacity;
    this.#pool = pool;
  }

  /** Chunks held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The blocks of the longest prefix of `keys` the tier holds, one array per chunk, each entry
   * pinned (not evicted) and made most recent; release them with {@link unpin}.
   */
  pinPrefix(keys: readonly string[]): (readonly number[])[] {
    const found: [string, Entry][] = [];
    for (const key of keys) {
      const e = this.#entries.get(key);
      if (e === undefined) break;
      e.pins++;
      found.push([key, e]);
    }
    for (let i = found.length - 1; i >= 0; i--) {
      this.#entries.delete(found[i][0]);
      this.#entries.set(found[i][0], found[i][1]);
    }
    return found.map(([, e]) => e.blocks);
  }

  /** Releases the pins {@link pinPrefix} took on `keys`. */
  unpin(keys: readonly string[]): void {
    for (const key of keys) {
      const e = this.#entries.get(key);
      if (e === undefined || e.pins === 0) throw new Error(`GpuTier.unpin: chunk ${key} is not pinned`);
      e.pins--;
    }
  }

  /**
   * Records one prefix's chunks (in prefix order), head most recent: each chunk given `blocks`
   * hands their ownership to the tier; a chunk given none is one the tier holds already (the
   * pinned head of a longer prefix) and is only made recent. New chunks evict the least recent
   * unpinned ones past capacity (their blocks go back to the pool). The capacity is strict: when
   * every older chunk is pinned, the new one itself goes. Blocks given for a key already held go
   * back; with capacity 0 all do.
   */
  insertPrefix(chunks: readonly { readonly key: string; readonly blocks?: readonly number[] }[]): void {
    for (let i = chunks.length - 1; i >= 0; i--) {
      const { key, blocks } = chunks[i];
      const held = this.#entries.get(key);
      if (held !== undefined) {
        this.#entries.delete(key);
        this.#entries.set(key, held);
      }
      if (blocks === undefined) continue;
      if (held !== undefined || this.capacity === 0) {
        this.#pool.give(blocks);
        continue;
      }
      this.#entries.set(key, { blocks, pins: 0 });
      for (const [k, e] of this.#entries) {
        if (this.#entries.size <= this.capacity) break;
        if (e.pins > 0) continue;
        this.#entries.delete(k);
        this.#pool.give(e.blocks);
      }
    }
  }

  /** Drops every unpinned chunk (their blocks go back to the pool). */
  clear(): void {
    for (const [k, e] of this.#entries) {
      if (e.pins > 0) continue;
      this.#entries.delete(k);
      this.#pool.give(e.blocks);
    }
  }
}

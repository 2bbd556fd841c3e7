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

/** An LRU of chunk key → device blocks, at most `capacity` chunks, owning those blocks. */
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
    const out: (readonly number[])[] = [];
    for (const key of keys) {
      const e = this.#entries.get(key);
      if (e === undefined) break;
      this.#entries.delete(key);
      this.#entries.set(key, e);
      e.pins++;
      out.push(e.blocks);
    }
    return out;
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
   * Takes ownership of `blocks` as chunk `key`, most recent, and evicts the least recent unpinned
   * chunks past capacity (their blocks go back to the pool). A key already held keeps its blocks;
   * the new ones go back to the pool. With capacity 0 the blocks go straight back.
   */
  insert(key: string, blocks: readonly number[]): void {
    if (this.capacity === 0 || this.#entries.has(key)) {
      this.#pool.give(blocks);
      return;
    }
    this.#entries.set(key, { blocks, pins: 0 });
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.capacity) break;
      if (e.pins > 0) continue;
      this.#entries.delete(k);
      this.#pool.give(e.blocks);
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

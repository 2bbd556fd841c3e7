/** The free list of a paged KV cache's blocks: the engine allocates every sequence's blocks here. */
export class BlockPool {
  /** Blocks in the cache. */
  readonly size: number;
  readonly #free: number[];

  /** @param size - blocks in the cache; all start free */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new Error(`BlockPool: size must be a positive integer, got ${String(size)}`);
    this.size = size;
    this.#free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  /** Free blocks. */
  get available(): number {
    return this.#free.length;
  }

  /** Takes `n` free blocks; throws when fewer are free (the caller sized the cache wrong). */
  take(n: number): number[] {
    if (n > this.#free.length) throw new Error(`BlockPool: ${n} blocks wanted, ${this.#free.length} of ${this.size} free`);
    return this.#free.splice(this.#free.length - n, n).reverse();
  }

  /** Returns blocks taken earlier. */
  give(blocks: readonly number[]): void {
    for (const b of blocks) this.#free.push(b);
  }
}

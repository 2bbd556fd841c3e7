/**
 * How every SharedArrayBuffer structure of kvtier declares its footprint: a {@link WordLayout}
 * names the Int32 words of a record or header one field at a time (so a field's index is where it
 * was declared, never a hand-kept number), and a {@link RegionLayout} places the regions of one
 * buffer one after the other, each on an 8-byte boundary (Float64 views and Atomics need it).
 */

/** Allocates the Int32 words of one record or header, in declaration order. */
export class WordLayout {
  #words = 0;

  /** Reserves `count` consecutive words; returns the index of the first. */
  words(count = 1): number {
    const at = this.#words;
    this.#words += count;
    return at;
  }

  /** Reserves two words on an even word for one Float64; returns its Float64 index (word index / 2). */
  f64(): number {
    this.#words += this.#words % 2;
    const at = this.#words / 2;
    this.#words += 2;
    return at;
  }

  /** Words reserved so far (the record's size once every field is declared). */
  get size(): number {
    return this.#words;
  }
}

/** Places the regions of one buffer in order, each starting on an 8-byte boundary. */
export class RegionLayout {
  #bytes = 0;

  /** Reserves a region of `bytes`; returns its byte offset. */
  region(bytes: number): number {
    const at = this.#bytes;
    this.#bytes = Math.ceil((at + bytes) / 8) * 8;
    return at;
  }

  /** Bytes of the buffer once every region is placed. */
  get byteLength(): number {
    return this.#bytes;
  }
}

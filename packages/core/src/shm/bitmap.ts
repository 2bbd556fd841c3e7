import { invalidArgument } from '../errors.ts';

function popcount32(w: number): number {
  w -= (w >>> 1) & 0x55555555;
  w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
  return (Math.imul((w + (w >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Index of the lowest set bit of a non-zero word. */
function lowestBit(w: number): number {
  return 31 - Math.clz32(w & -w);
}

/**
 * A fixed-size bit set packed in 32-bit words, bit i = key i of a batch (bit i%32 of word i/32).
 * It may live on a SharedArrayBuffer (any ArrayBuffer plus a byte offset) so threads share it;
 * the `*Atomic` methods are the ones to use on shared bitmaps.
 *
 * Invariant: bits at or past `size` in the last word are zero. Every method keeps it; for a
 * caller-supplied buffer the reads also mask them, so foreign garbage there is never counted.
 */
export class Bitmap {
  /** Number of bits. */
  readonly size: number;
  /** The backing words; bit i is `(words[i >>> 5] >>> (i & 31)) & 1`. */
  readonly words: Uint32Array;

  /** Bytes of backing store a bitmap of `size` bits needs (whole words). */
  static byteLength(size: number): number {
    return ((size + 31) >>> 5) * 4;
  }

  /**
   * @param size - number of bits, a non-negative integer below 2^32
   * @param buffer - backing store (e.g. a SharedArrayBuffer); a fresh zeroed one when omitted.
   *   A supplied buffer is used as is, not cleared.
   * @param byteOffset - where the words start in `buffer`; a multiple of 4
   */
  constructor(size: number, buffer?: ArrayBufferLike, byteOffset = 0) {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) invalidArgument(`Bitmap size must be an integer in [0, 2^32), got ${String(size)}`);
    const wordCount = (size + 31) >>> 5;
    this.size = size;
    if (buffer === undefined) {
      this.words = new Uint32Array(wordCount);
      return;
    }
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0) {
      invalidArgument(`Bitmap byteOffset must be a non-negative multiple of 4, got ${String(byteOffset)}`);
    }
    if (byteOffset + wordCount * 4 > buffer.byteLength) {
      invalidArgument(`Bitmap of ${size} bits needs ${wordCount * 4} bytes at offset ${byteOffset}; the buffer has ${buffer.byteLength}`);
    }
    this.words = new Uint32Array(buffer, byteOffset, wordCount);
  }

  /** A bitmap of `n` bits with exactly bits [0, k) set. */
  static prefix(n: number, k: number): Bitmap {
    const b = new Bitmap(n);
    if (!Number.isInteger(k) || k < 0 || k > n) invalidArgument(`Bitmap.prefix: k must be an integer in [0, ${n}], got ${String(k)}`);
    const full = k >>> 5;
    b.words.fill(0xffffffff, 0, full);
    if (k & 31) b.words[full] = 0xffffffff >>> (32 - (k & 31));
    return b;
  }

  /** A bitmap of `n` bits with the given bits set. */
  static fromIndices(n: number, indices: Iterable<number>): Bitmap {
    const b = new Bitmap(n);
    for (const i of indices) b.set(i);
    return b;
  }

  #check(i: number): void {
    if (!(i >>> 0 === i && i < this.size)) invalidArgument(`bit index ${String(i)} is outside the Bitmap of ${this.size} bits`);
  }

  /** The last word with the bits at or past `size` masked off. */
  #lastWord(): number {
    const n = this.words.length;
    const tail = this.size & 31;
    return tail === 0 ? this.words[n - 1] : this.words[n - 1] & (0xffffffff >>> (32 - tail));
  }

  /** Sets bit `i`. */
  set(i: number): void {
    this.#check(i);
    this.words[i >>> 5] |= 1 << (i & 31);
  }

  /** Clears bit `i`. */
  clear(i: number): void {
    this.#check(i);
    this.words[i >>> 5] &= ~(1 << (i & 31));
  }

  /** Whether bit `i` is set. */
  test(i: number): boolean {
    this.#check(i);
    return ((this.words[i >>> 5] >>> (i & 31)) & 1) === 1;
  }

  /** Sets bit `i` atomically; returns whether it was already set. */
  setAtomic(i: number): boolean {
    this.#check(i);
    const bit = 1 << (i & 31);
    return (Atomics.or(this.words, i >>> 5, bit) & bit) !== 0;
  }

  /** Clears bit `i` atomically; returns whether it was set. */
  clearAtomic(i: number): boolean {
    this.#check(i);
    const bit = 1 << (i & 31);
    return (Atomics.and(this.words, i >>> 5, ~bit) & bit) !== 0;
  }

  /** Whether bit `i` is set, read atomically. */
  testAtomic(i: number): boolean {
    this.#check(i);
    return ((Atomics.load(this.words, i >>> 5) >>> (i & 31)) & 1) === 1;
  }

  /** Number of set bits. */
  popcount(): number {
    const n = this.words.length;
    if (n === 0) return 0;
    let c = 0;
    for (let w = 0; w < n - 1; w++) c += popcount32(this.words[w]);
    return c + popcount32(this.#lastWord());
  }

  /** Number of consecutive set bits from bit 0: the length of the set prefix. */
  countLeadingOnes(): number {
    const n = this.words.length;
    let w = 0;
    while (w < n - 1 && this.words[w] === 0xffffffff) w++;
    if (n === 0) return 0;
    const word = w === n - 1 ? this.#lastWord() : this.words[w];
    const inverted = ~word;
    const ones = inverted === 0 ? 32 : lowestBit(inverted);
    return Math.min(w * 32 + ones, this.size);
  }

  /** A fresh bitmap of the smaller size, for a word-wise combination with `other`. */
  #pairResult(other: Bitmap): Bitmap {
    return new Bitmap(Math.min(this.size, other.size));
  }

  #maskTail(): void {
    const tail = this.size & 31;
    if (tail !== 0) this.words[this.words.length - 1] &= 0xffffffff >>> (32 - tail);
  }

  /** Bits set in both; the result has the smaller of the two sizes. */
  and(other: Bitmap): Bitmap {
    const out = this.#pairResult(other);
    const a = this.words, b = other.words, o = out.words;
    for (let w = 0; w < o.length; w++) o[w] = a[w] & b[w];
    out.#maskTail();
    return out;
  }

  /** Bits set in either; the result has the smaller of the two sizes. */
  or(other: Bitmap): Bitmap {
    const out = this.#pairResult(other);
    const a = this.words, b = other.words, o = out.words;
    for (let w = 0; w < o.length; w++) o[w] = a[w] | b[w];
    out.#maskTail();
    return out;
  }

  /** Bits set here and not in `other`; the result has the smaller of the two sizes. */
  andNot(other: Bitmap): Bitmap {
    const out = this.#pairResult(other);
    const a = this.words, b = other.words, o = out.words;
    for (let w = 0; w < o.length; w++) o[w] = a[w] & ~b[w];
    out.#maskTail();
    return out;
  }

  /** The complement within `size` (bits past `size` stay clear). */
  not(): Bitmap {
    const out = new Bitmap(this.size);
    for (let w = 0; w < out.words.length; w++) out.words[w] = ~this.words[w];
    out.#maskTail();
    return out;
  }

  /** Indices of the set bits, ascending. */
  indices(): number[] {
    const out: number[] = [];
    const n = this.words.length;
    for (let w = 0; w < n; w++) {
      let word = w === n - 1 ? this.#lastWord() : this.words[w];
      while (word !== 0) {
        out.push(w * 32 + lowestBit(word));
        word &= word - 1;
      }
    }
    return out;
  }

  /** `seq[i]` for every set bit i, ascending; set bits at or past `seq.length` are ignored. */
  gather<T>(seq: readonly T[]): T[] {
    const out: T[] = [];
    for (const i of this.indices()) {
      if (i >= seq.length) break;
      out.push(seq[i]);
    }
    return out;
  }

  /** An independent copy on a fresh (unshared) buffer. */
  clone(): Bitmap {
    const out = new Bitmap(this.size);
    out.words.set(this.words);
    out.#maskTail();
    return out;
  }

  /** Whether no bit is set. */
  isEmpty(): boolean {
    const n = this.words.length;
    for (let w = 0; w < n - 1; w++) if (this.words[w] !== 0) return false;
    return n === 0 || this.#lastWord() === 0;
  }
}

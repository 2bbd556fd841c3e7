/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every platform. */
export class Prng {
  #state: number;

  /** @param seed - any u32 */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next value, uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  }

  /** True with probability `p`; always draws one value, so sequences stay aligned whatever `p` is. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

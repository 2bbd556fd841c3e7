/** A seeded pseudo-random source for the trace generators: the same seed, the same trace. */

/** Random numbers from one 32-bit seed (mulberry32: small, fast, good enough for workloads). */
export class SeededRandom {
  #state: number;

  /** @param seed - any integer; equal seeds give equal sequences */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A geometric count ≥ 1 with the given mean. */
  geometric(mean: number): number {
    return 1 + Math.floor(Math.log(1 - this.next()) / Math.log(1 - 1 / mean));
  }
}

/** Draws ranks 0..n-1 with probability ∝ 1 / (rank + 1)^s (Zipf), by binary search on the CDF. */
export class Zipf {
  readonly #cdf: Float64Array;

  /**
   * @param n - number of ranks
   * @param s - the exponent (1 is the classic Zipf law)
   */
  constructor(n: number, s: number) {
    this.#cdf = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) this.#cdf[i] = total += 1 / (i + 1) ** s;
    for (let i = 0; i < n; i++) this.#cdf[i] /= total;
  }

  /** One rank drawn with `random`. */
  draw(random: SeededRandom): number {
    const u = random.next();
    let lo = 0, hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

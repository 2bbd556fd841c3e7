/**
 * Spatial sampling for miniature simulations (Waldspurger et al., ATC'17) and SHARDS-style
 * miss-ratio curves: a key is sampled when a hash of it falls under the rate, so every reference
 * to a sampled key is seen and every reference to the others is not, and a cache of
 * `capacity × rate` keys fed the sampled references behaves like the full cache.
 */

/** murmur3's 32-bit finalizer: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const TWO_32 = 2 ** 32;

/**
 * A hash of `key` uniform in [0, 1): numbers (both 32-bit halves), bigints (the low 64 bits) and
 * strings (FNV-1a over the UTF-16 code units); anything else through `String(key)`. The same key
 * always hashes the same, in every thread.
 */
export function sampleHash(key: unknown): number {
  if (typeof key === 'number') return fmix32((key >>> 0) ^ fmix32((Math.floor(key / TWO_32) | 0) + 0x9e3779b9)) / TWO_32;
  if (typeof key === 'bigint') {
    return fmix32(Number(BigInt.asUintN(32, key)) ^ fmix32(Number(BigInt.asUintN(32, key >> 32n)) + 0x9e3779b9)) / TWO_32;
  }
  const s = typeof key === 'string' ? key : String(key);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h) / TWO_32;
}

/**
 * The sampling rate that gives a miniature of `keys` keys at least `minKeys` keys: `rate`, raised
 * (up to 1, no sampling) for small caches, where `keys × rate` alone would be too few to behave
 * like the full cache.
 */
export function miniatureRate(rate: number, keys: number, minKeys: number): number {
  return Math.min(1, Math.max(rate, minKeys / Math.max(1, keys)));
}

/** Keys for benchmarks: distinct, deterministic, and apart from other benchmarks' by model name. */
import { digestBatch, type DigestBatch } from '@kvtier/core';

/** Digests of `n` distinct keys of `model` (chunk hash = the index). */
export function benchKeys(model: string, n: number): DigestBatch {
  return digestBatch(Array.from({ length: n }, (_, i) => {
    const chunkHash = new Uint8Array(32);
    new DataView(chunkHash.buffer).setUint32(0, i, true);
    return { model, kvRank: 0, chunkHash };
  }));
}

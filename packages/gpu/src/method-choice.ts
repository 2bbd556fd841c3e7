/**
 * Picks the gather/scatter method by measurement: the faster differs per backend (a chain of
 * copies wins on lavapipe, where every copy is a memcpy; a kernel can win on a GPU where a copy
 * costs a command each). Measured once per backend, adapter, layout and chunk size, on a scratch
 * cache of the same shape, so the engine's blocks are never touched.
 */
import { ErrorCode, KvtierError } from '@kvtier/core';
import { ChunkMover } from './chunk-mover.ts';
import { GATHER_METHODS, type GatherMethod } from './gather.ts';
import { PagedKvCache } from './paged-kv-cache.ts';

/** Host bytes the measurement moves per method and direction, at most (at least 2 chunks). */
const MEASURE_BYTES = 32 << 20;
const MEASURE_ROUNDS = 2;

/** Measured store + retrieve seconds of one method. */
export interface GatherTiming {
  readonly method: GatherMethod;
  readonly seconds: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * A stride coprime with `n` near n/2: `(i × stride) mod n` is then a deterministic permutation in
 * which table neighbours are far apart on the device, as in a long-running engine's block table.
 */
function scatteringStride(n: number): number {
  let stride = Math.floor(n / 2) + 1;
  while (gcd(stride, n) !== 1) stride++;
  return stride;
}

const choices = new Map<string, Promise<GatherMethod>>();

/**
 * Times store + retrieve of the same chunks with each method on a scratch copy of `cache`'s shape
 * (blocks in shuffled order, as a real block table has them); the best of a few rounds counts.
 * A method the shape cannot use (the kernel past the storage binding limit) is left out.
 */
export async function measureGatherMethods(cache: PagedKvCache, chunkBlocks: number): Promise<GatherTiming[]> {
  const g = cache.geometry;
  const chunkBytes = chunkBlocks * g.blockBytes;
  const chunks = Math.max(2, Math.min(8, Math.floor(MEASURE_BYTES / chunkBytes)));
  const numBlocks = chunks * chunkBlocks;
  const scratch = new PagedKvCache(cache.gpu, {
    layers: g.layers, kvHeads: g.kvHeads, headDim: g.headDim, blockTokens: g.blockTokens, numBlocks,
    dtype: g.dtype, layout: g.layout, maxBufferBytes: g.blocksPerBuffer * g.runBytes,
  });
  try {
    const stride = scatteringStride(numBlocks);
    const order = Array.from({ length: numBlocks }, (_, i) => (i * stride) % numBlocks);
    const host = new Uint8Array(chunks * chunkBytes);
    const transfers = Array.from({ length: chunks }, (_, i) => ({
      blocks: order.slice(i * chunkBlocks, (i + 1) * chunkBlocks),
      view: host.subarray(i * chunkBytes, (i + 1) * chunkBytes),
    }));
    const timings: GatherTiming[] = [];
    for (const method of GATHER_METHODS) {
      let mover: ChunkMover;
      try {
        mover = new ChunkMover(scratch, { chunkBlocks, method });
      } catch (err) {
        // A method this shape cannot use (the kernel past the storage binding limit) is no candidate.
        if (err instanceof KvtierError && err.code === ErrorCode.CONFIG) continue;
        throw err;
      }
      try {
        let best = Infinity;
        for (let round = 0; round <= MEASURE_ROUNDS; round++) {
          const started = performance.now();
          await mover.store(transfers);
          await mover.retrieve(transfers);
          // Round 0 warms up pipelines and page tables.
          if (round > 0) best = Math.min(best, (performance.now() - started) / 1000);
        }
        timings.push({ method, seconds: best });
      } finally {
        mover.destroy();
      }
    }
    return timings;
  } finally {
    scratch.destroy();
  }
}

/** The faster method for `cache`'s device, layout and chunk size; measured once, then remembered. */
export function chooseGatherMethod(cache: PagedKvCache, chunkBlocks: number): Promise<GatherMethod> {
  const g = cache.geometry;
  const key = `${cache.gpu.identity}|${g.layout}|${chunkBlocks * g.blockBytes}|${g.runBytes}`;
  let choice = choices.get(key);
  if (choice === undefined) {
    choice = measureGatherMethods(cache, chunkBlocks).then((timings) => timings.reduce((a, b) => (b.seconds < a.seconds ? b : a)).method);
    // A failed measurement (a lost device) must not stick.
    choice.catch(() => choices.delete(key));
    choices.set(key, choice);
  }
  return choice;
}

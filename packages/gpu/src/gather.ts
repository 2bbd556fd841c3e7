/**
 * Gather (blocks -> contiguous chunk in a staging buffer) and scatter (the reverse), by a chain of
 * `copyBufferToBuffer` or by the WGSL kernel of gather-kernel.ts. Both encode into a caller's
 * command encoder so a chunk is one submit.
 */
import type { PagedKvCache } from './paged-kv-cache.ts';
import { stagingOrder, stagingRuns, type StagingOrder } from './plan.ts';

/** How blocks are gathered and scattered. */
export type GatherMethod = 'copy' | 'kernel';
/** Every {@link GatherMethod}. */
export const GATHER_METHODS: readonly GatherMethod[] = ['copy', 'kernel'];

/** Encodes the device side of moving one piece. `slot` is the staging ring position. */
export interface ChunkGather {
  /** The order `blocks` take in staging with this method (see plan.ts). */
  stagingOrder(blocks: ArrayLike<number>): StagingOrder;
  /** Encodes copying `blocks` into `staging[0, blocks × blockBytes)` in `order` (from {@link stagingOrder}). */
  encodeGather(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, slot: number, order: StagingOrder): void;
  /** Encodes copying `staging[0, blocks × blockBytes)`, in `order`, into `blocks`. */
  encodeScatter(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, slot: number, order: StagingOrder): void;
  /** Frees device resources. */
  destroy(): void;
}

/**
 * Copies straight between the cache buffers and the staging buffer, one copy per run, neighbouring
 * runs merged (in run-major staging order where that merges neighbouring blocks of a per-layer
 * cache): no intermediate device region, so one copy fewer than the kernel path.
 */
export class CopyChainGather implements ChunkGather {
  readonly #cache: PagedKvCache;

  constructor(cache: PagedKvCache) {
    this.#cache = cache;
  }

  stagingOrder(blocks: ArrayLike<number>): StagingOrder {
    return stagingOrder(this.#cache.geometry, blocks);
  }

  encodeGather(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, _slot: number, order: StagingOrder): void {
    const buffers = this.#cache.buffers;
    for (const run of stagingRuns(this.#cache.geometry, blocks, order)) {
      encoder.copyBufferToBuffer(buffers[run.buffer], run.offset, staging, run.chunkOffset, run.bytes);
    }
  }

  encodeScatter(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, _slot: number, order: StagingOrder): void {
    const buffers = this.#cache.buffers;
    for (const run of stagingRuns(this.#cache.geometry, blocks, order)) {
      encoder.copyBufferToBuffer(staging, run.chunkOffset, buffers[run.buffer], run.offset, run.bytes);
    }
  }

  destroy(): void {}
}

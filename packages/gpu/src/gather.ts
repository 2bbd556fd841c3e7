/**
 * Gather (blocks -> contiguous chunk in a staging buffer) and scatter (the reverse), by a chain of
 * `copyBufferToBuffer` or by the WGSL kernel of gather-kernel.ts. Both encode into a caller's
 * command encoder so a chunk is one submit.
 */
import type { PagedKvCache } from './paged-kv-cache.ts';
import { chunkRuns } from './plan.ts';

/** How blocks are gathered and scattered. */
export type GatherMethod = 'copy' | 'kernel';
/** Every {@link GatherMethod}. */
export const GATHER_METHODS: readonly GatherMethod[] = ['copy', 'kernel'];

/** Encodes the device side of moving one chunk. `slot` is the staging ring position. */
export interface ChunkGather {
  /** Encodes copying `blocks` into `staging[0, blocks × blockBytes)` in canonical order. */
  encodeGather(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, slot: number): void;
  /** Encodes copying `staging[0, blocks × blockBytes)` into `blocks`. */
  encodeScatter(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, slot: number): void;
  /** Frees device resources. */
  destroy(): void;
}

/**
 * Copies straight between the cache buffers and the staging buffer, one copy per run, neighbouring
 * runs merged: no intermediate device region, so one copy fewer than the kernel path.
 */
export class CopyChainGather implements ChunkGather {
  readonly #cache: PagedKvCache;

  constructor(cache: PagedKvCache) {
    this.#cache = cache;
  }

  encodeGather(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer): void {
    const buffers = this.#cache.buffers;
    for (const run of chunkRuns(this.#cache.geometry, blocks, true)) {
      encoder.copyBufferToBuffer(buffers[run.buffer], run.offset, staging, run.chunkOffset, run.bytes);
    }
  }

  encodeScatter(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer): void {
    const buffers = this.#cache.buffers;
    for (const run of chunkRuns(this.#cache.geometry, blocks, true)) {
      encoder.copyBufferToBuffer(staging, run.chunkOffset, buffers[run.buffer], run.offset, run.bytes);
    }
  }

  destroy(): void {}
}

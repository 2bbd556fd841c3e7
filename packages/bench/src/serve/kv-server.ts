/**
 * One request through the engine with kvtier, and the same request recomputed in full (the
 * baseline). With kvtier a request goes: chunk keys → the engine's GPU tier (blocks used in place)
 * → `GpuKvConnector.retrieve` for the rest (L1, then L2 through the prefetch worker) → prefill of
 * only the tokens past the restored prefix (at least the last one) → next-token logits, where TTFT
 * ends → `store` of the new chunks into L1 (kvtier copies them to L2 in the background) and into
 * the GPU tier.
 */
import { digestBatch, digestHex, objectKeys, type DigestBatch } from '@kvtier/core';
import type { GpuKvConnector } from '@kvtier/gpu';
import type { BlockPool } from '../engine/block-pool.ts';
import type { ReferenceEngine } from '../engine/engine.ts';
import type { GpuTier } from '../engine/gpu-tier.ts';

/** Where a request's chunks came from, and what it cost. */
export interface ServeResult {
  readonly logits: Float32Array;
  /** Start of the request to logits on the host, ms. */
  readonly ttftMs: number;
  /** Full chunks in the prompt (the partial tail is never cached). */
  readonly chunks: number;
  readonly gpuHits: number;
  readonly l1Hits: number;
  readonly l2Hits: number;
  /** Tokens prefill computed. */
  readonly computedTokens: number;
  /** KV bytes copied host → device (retrieve) and device → host (store). */
  readonly bytesToDevice: number;
  readonly bytesToHost: number;
}

/** A baseline run: the same prompt recomputed from token 0. */
export interface BaselineResult {
  readonly logits: Float32Array;
  readonly ttftMs: number;
}

/** The chunk keys of a prompt: the digest batch kvtier takes, and one string per chunk for the GPU tier. */
export interface PromptKeys {
  readonly digests: DigestBatch;
  readonly names: readonly string[];
}

const WORDS_PER_KEY = 4;

/** Serves prompts through one engine, its GPU tier and a connector to kvtier. Calls run one at a time. */
export class KvServer {
  readonly #engine: ReferenceEngine;
  readonly #connector: GpuKvConnector;
  readonly #tier: GpuTier;
  readonly #pool: BlockPool;
  readonly #model: string;
  readonly #chunkTokens: number;
  readonly #chunkBlocks: number;
  /** Bounce buffer of one block run: WebGPU copies no range of a buffer into the same buffer. */
  readonly #scratch: GPUBuffer;

  /**
   * @param model - the model name in every chunk key (a different model or seed must not share KV)
   */
  constructor(engine: ReferenceEngine, connector: GpuKvConnector, tier: GpuTier, pool: BlockPool, model: string) {
    this.#engine = engine;
    this.#connector = connector;
    this.#tier = tier;
    this.#pool = pool;
    this.#model = model;
    this.#chunkTokens = connector.chunkTokens;
    this.#chunkBlocks = connector.chunkTokens / engine.shape.blockTokens;
    this.#scratch = engine.cache.gpu.device.createBuffer({
      label: 'serve block copy', size: engine.cache.geometry.runBytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  /** The keys of `tokens`' full chunks. */
  keys(tokens: ArrayLike<number>): PromptKeys {
    const digests = digestBatch(objectKeys(this.#model, 0, tokens, { chunkSize: this.#chunkTokens }));
    const names = Array.from({ length: digests.length / WORDS_PER_KEY }, (_, i) => digestHex(digests, i));
    return { digests, names };
  }

  /** Serves `tokens` with kvtier. */
  async serve(tokens: ArrayLike<number>): Promise<ServeResult> {
    const started = performance.now();
    const { digests, names } = this.keys(tokens);
    const chunks = names.length;
    const chunkBlocks = this.#chunkBlocks;
    const blockBytes = this.#engine.cache.blockBytes;
    const needed = Math.ceil(tokens.length / this.#engine.shape.blockTokens);
    const onDevice = this.#tier.pinPrefix(names);
    const gpuHits = onDevice.length;
    let fresh: number[] = [];
    let table: number[] = [];
    let copy: number | undefined;
    let handedOver = false;
    try {
      fresh = this.#pool.take(needed - gpuHits * chunkBlocks);
      table = [...onDevice.flat(), ...fresh];
      const got = gpuHits < chunks
        ? await this.#connector.retrieve(digests.subarray(gpuHits * WORDS_PER_KEY), fresh)
        : { chunks: 0, fromL1: 0, fromL2: 0 };
      const restored = gpuHits + got.chunks;
      const restoredTokens = restored * this.#chunkTokens;
      // A fully cached prompt still computes its last token, rewriting that token's K/V: copy a
      // block the GPU tier owns first, so the tier's copy is never written.
      const start = Math.min(restoredTokens, tokens.length - 1);
      const lastBlock = Math.floor(start / this.#engine.shape.blockTokens);
      if (start < restoredTokens && lastBlock < gpuHits * chunkBlocks) {
        [copy] = this.#pool.take(1);
        this.#copyBlock(table[lastBlock], copy);
        table[lastBlock] = copy;
      }
      const logits = await this.#engine.prefill(tokens, start, table);
      const ttftMs = performance.now() - started;
      const stored = restored < chunks
        ? await this.#connector.store(digests.subarray(restored * WORDS_PER_KEY), table.slice(restored * chunkBlocks))
        : 0;
      this.#tier.insertPrefix(names.map((key, c) => (c < gpuHits ? { key } : { key, blocks: table.slice(c * chunkBlocks, (c + 1) * chunkBlocks) })));
      handedOver = true;
      return {
        logits, ttftMs, chunks, gpuHits, l1Hits: got.fromL1, l2Hits: got.fromL2,
        computedTokens: tokens.length - start,
        bytesToDevice: got.chunks * chunkBlocks * blockBytes,
        bytesToHost: stored * chunkBlocks * blockBytes,
      };
    } finally {
      // The tier owns the full chunks once inserted; the partial tail and a copied block come back.
      this.#pool.give(handedOver ? table.slice(chunks * chunkBlocks) : fresh);
      if (copy !== undefined) this.#pool.give([copy]);
      this.#tier.unpin(names.slice(0, gpuHits));
    }
  }

  /** Recomputes `tokens` in full in fresh blocks, touching no tier. */
  async baseline(tokens: ArrayLike<number>): Promise<BaselineResult> {
    const started = performance.now();
    const blocks = this.#pool.take(Math.ceil(tokens.length / this.#engine.shape.blockTokens));
    try {
      const logits = await this.#engine.prefill(tokens, 0, blocks);
      return { logits, ttftMs: performance.now() - started };
    } finally {
      this.#pool.give(blocks);
    }
  }

  /** Drops the GPU tier (the scenarios that measure L1 and L2 alone). */
  dropGpuTier(): void {
    this.#tier.clear();
  }

  /** Frees the server's device buffer (the engine, connector and tiers belong to the caller). */
  destroy(): void {
    this.#scratch.destroy();
  }

  /** Copies one block's KV on the device (every run of it, in either layout), through the scratch buffer. */
  #copyBlock(from: number, to: number): void {
    const cache = this.#engine.cache;
    const g = cache.geometry;
    const encoder = cache.gpu.device.createCommandEncoder();
    for (let r = 0; r < g.runsPerBlock; r++) {
      const src = g.locate(from, r);
      const dst = g.locate(to, r);
      encoder.copyBufferToBuffer(cache.buffers[src.buffer], src.offset, this.#scratch, 0, g.runBytes);
      encoder.copyBufferToBuffer(this.#scratch, 0, cache.buffers[dst.buffer], dst.offset, g.runBytes);
    }
    cache.gpu.device.queue.submit([encoder.finish()]);
  }
}

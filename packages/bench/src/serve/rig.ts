/**
 * The whole stack the serve benchmark runs on, built and torn down in one place: a Dawn device,
 * the paged KV cache, the reference engine, a `KvCache` (L1 + one L2 adapter) and the
 * `GpuKvConnector` between them, and the {@link KvServer} that drives a request through all of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@kvtier/adapters';
import { KvCache } from '@kvtier/core';
import { GpuKvConnector, openGpu, PagedKvCache, type Gpu } from '@kvtier/gpu';
import { BlockPool } from '../engine/block-pool.ts';
import { ReferenceEngine } from '../engine/engine.ts';
import { GpuTier } from '../engine/gpu-tier.ts';
import { modelShape, type ModelOptions, type ModelShape } from '../engine/model.ts';
import { KvServer } from './kv-server.ts';

/** The L2 adapter types the serve benchmark can put under L1. */
export const SERVE_ADAPTERS = ['fs', 'mock'] as const;
/** One of {@link SERVE_ADAPTERS}. */
export type ServeAdapter = (typeof SERVE_ADAPTERS)[number];

/** Sizes of every tier, and the model. */
export interface RigOptions {
  readonly model: ModelOptions;
  /** Tokens per chunk (the unit kvtier stores); a multiple of the model's blockTokens. */
  readonly chunkTokens: number;
  /** Chunks the engine's GPU tier keeps resident (0: none). */
  readonly gpuChunks: number;
  /** L1 slots, one chunk each. */
  readonly l1Slots: number;
  /** L2 capacity, bytes. */
  readonly l2Bytes: number;
  readonly adapter: ServeAdapter;
  /** Longest prompt the run serves, tokens (sizes the engine and the block pool). */
  readonly maxPromptTokens: number;
}

/** A running stack; {@link Rig.close} frees everything, the L2 directory included. */
export interface Rig {
  readonly gpu: Gpu;
  readonly shape: ModelShape;
  readonly cache: KvCache;
  readonly server: KvServer;
  /** Bytes of one chunk's KV. */
  readonly chunkBytes: number;
  close(): Promise<void>;
}

/** Builds the stack. Everything made before a failure is freed again. */
export async function openRig(opts: RigOptions): Promise<Rig> {
  const shape = modelShape({ ...opts.model, maxTokens: opts.maxPromptTokens });
  const { blockTokens } = shape;
  if (!Number.isSafeInteger(opts.chunkTokens) || opts.chunkTokens < 1 || opts.chunkTokens % blockTokens !== 0) {
    throw new Error(`chunkTokens must be a positive multiple of the block size (${blockTokens}), got ${opts.chunkTokens}`);
  }
  const chunkBlocks = opts.chunkTokens / blockTokens;
  const model = `kvtier-reference-${shape.layers}l-${shape.dModel}d-${shape.heads}x${shape.headDim}-kv${shape.kvHeads}-ffn${shape.ffn}-v${shape.vocab}-seed${shape.seed}`;
  // The GPU tier's chunks, one sequence at its longest, and one block a fully cached prompt copies.
  const numBlocks = opts.gpuChunks * chunkBlocks + Math.ceil(opts.maxPromptTokens / blockTokens) + 1;
  const cleanups: (() => unknown)[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  };
  try {
    const gpu = await openGpu();
    cleanups.push(() => gpu.close());
    const kv = new PagedKvCache(gpu, { layers: shape.layers, kvHeads: shape.kvHeads, headDim: shape.headDim, blockTokens, numBlocks, dtype: 'f16', layout: shape.layout });
    cleanups.push(() => kv.destroy());
    const engine = new ReferenceEngine(gpu, kv, shape);
    cleanups.push(() => engine.destroy());
    const chunkBytes = chunkBlocks * kv.blockBytes;
    let adapter: Record<string, unknown>;
    if (opts.adapter === 'fs') {
      const dir = mkdtempSync(join(tmpdir(), 'kvtier-serve-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      adapter = { type: 'fs', baseDir: dir, capacityBytes: opts.l2Bytes };
    } else {
      adapter = { type: 'mock', capacityBytes: opts.l2Bytes };
    }
    const cache = await KvCache.open({
      l1: { slotBytes: chunkBytes, slotCount: opts.l1Slots },
      adapters: [{ ...adapter, eviction: { policy: 'default', watermark: 0.9, ratio: 0.1 } }],
    });
    cleanups.push(() => cache.close());
    const connector = await GpuKvConnector.create(kv, cache, { chunkTokens: opts.chunkTokens });
    cleanups.push(() => connector.destroy());
    const pool = new BlockPool(numBlocks);
    const server = new KvServer(engine, connector, new GpuTier(opts.gpuChunks, pool), pool, model);
    cleanups.push(() => server.destroy());
    return { gpu, shape, cache, server, chunkBytes, close };
  } catch (err) {
    await close();
    throw err;
  }
}

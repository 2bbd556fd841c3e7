// GpuKvConnector with the KvCache facade as its host side: real workers, the mock L2 adapter, a
// real Dawn device. Chunks stored from the GPU reach L2; after L1 is cleared, a retrieve prefetches
// them back from L2 and loads them into other blocks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '@kvtier/adapters';
import { digestBatch, ErrorCode, KvCache, objectKeys, type KvtierError } from '@kvtier/core';
import { lockedObjects, withDeadline, recordingLogger } from '@kvtier/core/testing';
import { GpuKvConnector, openGpu, PagedKvCache } from '@kvtier/gpu';
import { eventually, inL2, storeSettled } from './engine-helpers.ts';

const TEST_MS = 60_000;
const SHAPE = { layers: 2, kvHeads: 2, headDim: 8, blockTokens: 4, numBlocks: 48, dtype: 'f16', layout: 'per-layer' } as const;
const CHUNK_TOKENS = 16; // 4 blocks, 2 KiB per chunk

async function withRig(
  body: (cache: KvCache, kv: PagedKvCache, connector: GpuKvConnector, content: Uint8Array) => Promise<void>,
  adapter: Record<string, unknown> = { type: 'mock' },
  prefetchTimeoutMs?: number,
): Promise<void> {
  const gpu = await withDeadline(openGpu({ logger: recordingLogger() }), 30_000, 'openGpu');
  const kv = new PagedKvCache(gpu, SHAPE);
  const cache = await withDeadline(KvCache.open({ l1: { capacityBytes: 64 * 4096, slotBytes: 4096 }, adapters: [adapter], adapterCallTimeoutMs: 5_000 }), 30_000, 'KvCache.open');
  try {
    const content = new Uint8Array(SHAPE.numBlocks * kv.blockBytes).map((_, i) => (i * 131 + (i >> 9)) & 0xff);
    kv.writeBlocks(Array.from({ length: SHAPE.numBlocks }, (_, i) => i), content);
    const connector = await GpuKvConnector.create(kv, cache, { chunkTokens: CHUNK_TOKENS, method: 'kernel', prefetchTimeoutMs });
    try {
      await body(cache, kv, connector, content);
    } finally {
      connector.destroy();
    }
  } finally {
    await withDeadline(cache.close(), 30_000, 'KvCache.close');
    kv.destroy();
    gpu.close();
  }
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const keysOf = (seed: number, chunks: number, extraTokens = 0) =>
  digestBatch(objectKeys('gpu-facade', 0, range(seed * 1000, chunks * CHUNK_TOKENS + extraTokens), { chunkSize: CHUNK_TOKENS, includePartial: true }));

function expected(content: Uint8Array, blockBytes: number, blocks: number[]): Uint8Array {
  const out = new Uint8Array(blocks.length * blockBytes);
  blocks.forEach((b, j) => out.set(content.subarray(b * blockBytes, (b + 1) * blockBytes), j * blockBytes));
  return out;
}

test('store to KvCache, clear L1, retrieve prefetches from L2 into other blocks, bit-exact', () =>
  withDeadline(withRig(async (cache, kv, connector, content) => {
    const keys = keysOf(1, 3, 5); // 3 full chunks and one of 5 tokens (2 blocks)
    const source = range(0, 14);
    assert.is(await connector.store(keys, source), 4);
    await storeSettled(cache);
    assert.is(cache.clear(), 4, 'L1 held the 4 chunks');
    const target = range(20, 14);
    assert.equal(await connector.retrieve(keys, target), { chunks: 4, fromL1: 0, fromL2: 4 }, 'every chunk came up from L2');
    assert.equal(await kv.readBlocks(target), expected(content, kv.blockBytes, source));
    assert.is(lockedObjects(cache), 0, 'no lock left behind');
  }), TEST_MS, 'test'));

test('retrieve through the facade stops at the first chunk in no tier', () =>
  withDeadline(withRig(async (cache, kv, connector, content) => {
    const keys = keysOf(2, 3);
    assert.is(await connector.store(keys.subarray(0, 8), range(0, 8)), 2);
    await storeSettled(cache);
    assert.equal(await connector.retrieve(keys, range(30, 12)), { chunks: 2, fromL1: 2, fromL2: 0 }, 'both chunks were still in L1');
    assert.equal(await kv.readBlocks(range(30, 8)), expected(content, kv.blockBytes, range(0, 8)));
    assert.is(lockedObjects(cache), 0);
  }), TEST_MS, 'test'));

test('a lost device during a facade retrieve releases the prefetch locks', () =>
  withDeadline(withRig(async (cache, kv, connector) => {
    const keys = keysOf(3, 10);
    assert.is(await connector.store(keys, range(0, 40)), 10);
    await storeSettled(cache);
    const running = connector.retrieve(keys, range(0, 40).reverse()).then(() => null, (e: KvtierError) => e);
    kv.gpu.device.destroy();
    assert.is((await running)?.code, ErrorCode.DEVICE_LOST);
    assert.is(lockedObjects(cache), 0);
  }), TEST_MS, 'test'));

test('a prefetch slower than prefetchTimeoutMs: TIMEOUT, and its locks are released when it lands', () =>
  withDeadline(withRig(async (cache, kv, connector) => {
    const keys = keysOf(4, 2);
    assert.is(await connector.store(keys, range(0, 8)), 2);
    await storeSettled(cache);
    assert.equal(await inL2(cache, 0, keys), [true, true], 'both chunks reached L2');
    assert.is(cache.clear(), 2);
    const before = await kv.readBlocks(range(30, 8));
    const err = await connector.retrieve(keys, range(30, 8)).then(() => null, (e: KvtierError) => e);
    assert.is(err?.code, ErrorCode.TIMEOUT);
    assert.equal(await kv.readBlocks(range(30, 8)), before, 'nothing was loaded');
    // The prefetch lands later: both chunks read-locked in L1 as temporary objects (for as long as
    // the delayed adapter unlock takes, ~delayMs, before the result is published) …
    await eventually(() => cache.l1.usage().objects === 2, 'the late prefetch to land');
    // … then the connector releases them, and temporary objects leave L1 at their last read lock.
    await eventually(() => cache.l1.usage().objects === 0 && lockedObjects(cache) === 0, 'the late prefetch to be released');
  }, { type: 'fault', inner: { type: 'mock' }, delayRate: 1, delayMs: 400 }, 100), TEST_MS, 'test'));

test.run();

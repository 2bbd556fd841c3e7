// GpuKvConnector against the real L1Manager and a real Dawn device (lavapipe in CI).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestBatch, ErrorCode, objectKeys, type DigestBatch, type KvtierError } from '@kvtier/core';
import { L1Manager, withDeadline, recordingLogger } from '@kvtier/core/testing';
import { GATHER_METHODS, GpuKvConnector, openGpu, PagedKvCache, type Gpu, type PagedKvCacheOptions } from '@kvtier/gpu';

const TEST_MS = 60_000;
const BLOCK_TOKENS = 4;
const CHUNK_TOKENS = 12; // 3 blocks per chunk
const SHAPE: PagedKvCacheOptions = { layers: 2, kvHeads: 2, headDim: 6, blockTokens: BLOCK_TOKENS, numBlocks: 64, dtype: 'f16' };

interface Rig {
  gpu: Gpu;
  cache: PagedKvCache;
  l1: L1Manager;
  connector: GpuKvConnector;
  /** Canonical bytes of every block as written at the start, by block id. */
  content: Uint8Array;
}

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x;
  }
  return out;
}

async function rig(opts: { layout?: PagedKvCacheOptions['layout']; dtype?: PagedKvCacheOptions['dtype']; slots?: number; seed?: number } = {}): Promise<Rig> {
  const gpu = await withDeadline(openGpu({ logger: recordingLogger() }), 30_000, 'openGpu');
  // Buffers of 10 blocks' runs: chunks span device buffers.
  const probe = new PagedKvCache(gpu, { ...SHAPE, numBlocks: 1, layout: opts.layout, dtype: opts.dtype });
  const runBytes = probe.geometry.runBytes;
  probe.destroy();
  const cache = new PagedKvCache(gpu, { ...SHAPE, layout: opts.layout, dtype: opts.dtype, maxBufferBytes: 10 * runBytes });
  const content = noise(SHAPE.numBlocks * cache.blockBytes, opts.seed ?? 1);
  cache.writeBlocks(Array.from({ length: SHAPE.numBlocks }, (_, i) => i), content);
  const l1 = L1Manager.create({ slotBytes: (CHUNK_TOKENS / BLOCK_TOKENS) * cache.blockBytes, slotCount: opts.slots ?? 32 });
  const connector = await GpuKvConnector.create(cache, l1, { chunkTokens: CHUNK_TOKENS, method: 'copy' });
  return { gpu, cache, l1, connector, content };
}

function teardown(r: Rig): void {
  r.connector.destroy();
  r.cache.destroy();
  r.gpu.close();
  r.l1.detach();
}

/** Runs `body` on a fresh rig under the test deadline and tears the rig down whatever happens. */
function withRig(opts: Parameters<typeof rig>[0], body: (r: Rig) => Promise<void>): Promise<void> {
  return withDeadline((async () => {
    const r = await rig(opts);
    try {
      await body(r);
    } finally {
      teardown(r);
    }
  })(), TEST_MS, 'test');
}

/** Keys of a token sequence, with its trailing partial chunk. */
function keysOf(tokens: number[], salt = ''): DigestBatch {
  return digestBatch(objectKeys('llama-test', 0, tokens, { chunkSize: CHUNK_TOKENS, includePartial: true, cacheSalt: salt }));
}

function tokens(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % 32000);
}

function blocksContent(r: Rig, blocks: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(blocks.length * r.cache.blockBytes);
  for (let j = 0; j < blocks.length; j++) out.set(r.content.subarray(blocks[j] * r.cache.blockBytes, (blocks[j] + 1) * r.cache.blockBytes), j * r.cache.blockBytes);
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Asserts no key of `keys` holds a lock, and returns how many are present. */
function presentUnlocked(l1: L1Manager, keys: DigestBatch): number {
  let present = 0;
  for (let i = 0; i < keys.length / 4; i++) {
    const s = l1.state(keys, i);
    if (s === null) continue;
    present++;
    assert.not.ok(s.writeLocked, `key ${i} is write-locked`);
    assert.is(s.readLocks, 0, `key ${i} read locks`);
  }
  return present;
}

function errorOf(p: Promise<unknown>): Promise<KvtierError | null> {
  return p.then(() => null, (e: KvtierError) => e);
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

for (const [layout, dtype] of [['block-contiguous', 'f16'], ['per-layer', 'f32']] as const) {
  test(`${layout} ${dtype}: store then retrieve through L1 is bit-exact, partial last chunk included`, () =>
    withDeadline((async () => {
      const r = await rig({ layout, dtype });
      try {
        const seq = tokens(4 * CHUNK_TOKENS + 5, 1); // 4 full chunks and one of 5 tokens (2 blocks)
        const keys = keysOf(seq);
        assert.is(keys.length / 4, 5);
        const source = [40, 3, 17, 8, 9, 10, 22, 1, 60, 33, 5, 12, 50, 51];
        assert.is(await r.connector.store(keys, source), 5);
        assert.is(presentUnlocked(r.l1, keys), 5);
        assert.is(r.l1.state(keys, 4)?.size, 2 * r.cache.blockBytes, 'the partial chunk holds 2 blocks');
        const target = [0, 2, 4, 6, 11, 13, 14, 15, 16, 18, 19, 20, 21, 23];
        assert.equal(await r.connector.retrieve(keys, target), { chunks: 5, fromL1: 5, fromL2: 0 }, 'a plain L1 serves every chunk');
        assert.ok(same(await r.cache.readBlocks(target), blocksContent(r, source)));
        assert.is(presentUnlocked(r.l1, keys), 5);
      } finally {
        teardown(r);
      }
    })(), TEST_MS, 'test'));
}

test('object keys and their digest batch name the same chunks', () =>
  withRig({}, async (r) => {
    const objects = objectKeys('llama-test', 1, tokens(2 * CHUNK_TOKENS, 12), { chunkSize: CHUNK_TOKENS });
    assert.is(await r.connector.store(objects, range(0, 6)), 2);
    assert.is((await r.connector.retrieve(digestBatch(objects), range(30, 6))).chunks, 2);
    assert.ok(same(await r.cache.readBlocks(range(30, 6)), blocksContent(r, range(0, 6))));
  }));

test('store skips chunks L1 already holds and leaves their bytes alone', () =>
  withRig({}, async (r) => {
    const keys = keysOf(tokens(4 * CHUNK_TOKENS, 2));
    assert.is(await r.connector.store(keys.subarray(0, 8), range(0, 6)), 2);
    // Same keys, other blocks: the first two are present and must keep blocks 0–5's bytes.
    assert.is(await r.connector.store(keys, range(20, 12)), 2);
    assert.is((await r.connector.retrieve(keys, range(40, 12))).chunks, 4);
    const expected = new Uint8Array(12 * r.cache.blockBytes);
    expected.set(blocksContent(r, range(0, 6)));
    expected.set(blocksContent(r, range(26, 6)), 6 * r.cache.blockBytes);
    assert.ok(same(await r.cache.readBlocks(range(40, 12)), expected));
  }));

test('retrieve loads only the leading chunks L1 holds and returns their count', () =>
  withRig({}, async (r) => {
    const keys = keysOf(tokens(4 * CHUNK_TOKENS, 3));
    assert.is(await r.connector.store(keys, range(0, 12)), 4);
    r.l1.delete(keys.subarray(8, 12)); // chunk 2 gone: the prefix ends there
    const before = await r.cache.readBlocks(range(40, 12));
    assert.is((await r.connector.retrieve(keys, range(40, 12))).chunks, 2);
    const after = await r.cache.readBlocks(range(40, 12));
    assert.ok(same(after.subarray(0, 6 * r.cache.blockBytes), blocksContent(r, range(0, 6))), 'chunks 0 and 1 loaded');
    assert.ok(same(after.subarray(6 * r.cache.blockBytes), before.subarray(6 * r.cache.blockBytes)), 'chunk 3 not loaded past the gap');
    assert.is(presentUnlocked(r.l1, keys), 3, 'no read lock left on chunk 3 either');
    assert.is((await r.connector.retrieve(keysOf(tokens(CHUNK_TOKENS, 99)), range(40, 3))).chunks, 0, 'unknown keys load nothing');
  }));

test('stores and retrieves of different sequences interleaved through one connector', () =>
  withRig({ slots: 64 }, async (r) => {
    const seqs = range(0, 6).map((s) => keysOf(tokens(2 * CHUNK_TOKENS, 10 + s)));
    // Sequences 0–2 are in L1 already; 3–5 are being computed (their blocks hold fresh KV).
    for (let s = 0; s < 3; s++) assert.is(await r.connector.store(seqs[s], range(6 * s, 6)), 2);
    const work: Promise<number>[] = [];
    for (let s = 0; s < 3; s++) {
      work.push(r.connector.store(seqs[3 + s], range(18 + 6 * s, 6)));
      work.push(r.connector.retrieve(seqs[s], range(36 + 6 * s, 6)).then((got) => got.chunks));
    }
    assert.equal(await Promise.all(work), [2, 2, 2, 2, 2, 2]);
    assert.ok(same(await r.cache.readBlocks(range(36, 18)), blocksContent(r, range(0, 18))), 'retrieved sequences');
    assert.is((await r.connector.retrieve(seqs.slice(3).reduce((a, k) => { const o = new Uint32Array(a.length + k.length); o.set(a); o.set(k, a.length); return o; }, new Uint32Array(0)), range(0, 18))).chunks, 6);
    assert.ok(same(await r.cache.readBlocks(range(0, 18)), blocksContent(r, range(18, 18))), 'stored sequences');
  }));

test('device lost mid-store: DEVICE_LOST, no reservation left behind, earlier objects intact', () =>
  withRig({ slots: 40 }, async (r) => {
    const early = keysOf(tokens(CHUNK_TOKENS, 4));
    assert.is(await r.connector.store(early, range(60, 3)), 1);
    const keys = keysOf(tokens(20 * CHUNK_TOKENS, 5));
    const running = errorOf(r.connector.store(keys, Array.from({ length: 60 }, (_, i) => i % 60)));
    await new Promise((res) => setImmediate(res));
    r.gpu.device.destroy();
    const err = await running;
    assert.is(err?.code, ErrorCode.DEVICE_LOST);
    assert.is(presentUnlocked(r.l1, keys), 0, 'the failed batch left nothing in L1');
    assert.is(r.l1.usage().objects, 1);
    const read = r.l1.reserveRead(early);
    assert.is(read.codes[0], 0);
    assert.ok(same(r.l1.view(read.slots[0], read.sizes[0]), blocksContent(r, range(60, 3))), 'host copy readable');
    r.l1.finishRead(early);
    assert.is((await errorOf(r.connector.store(keysOf(tokens(CHUNK_TOKENS, 6)), range(0, 3))))?.code, ErrorCode.DEVICE_LOST);
    assert.is((await errorOf(r.connector.retrieve(early, range(0, 3))))?.code, ErrorCode.DEVICE_LOST);
    assert.is(presentUnlocked(r.l1, early), 1, 'a refused retrieve takes no lock');
  }));

test('device lost mid-retrieve: DEVICE_LOST, read locks released, L1 data intact', () =>
  withRig({ slots: 40 }, async (r) => {
    const keys = keysOf(tokens(20 * CHUNK_TOKENS, 7));
    assert.is(await r.connector.store(keys, range(0, 60)), 20);
    const running = errorOf(r.connector.retrieve(keys, range(0, 60).reverse()));
    await new Promise((res) => setImmediate(res));
    r.gpu.device.destroy();
    assert.is((await running)?.code, ErrorCode.DEVICE_LOST);
    assert.is(presentUnlocked(r.l1, keys), 20);
    const read = r.l1.reserveRead(keys);
    for (let i = 0; i < 20; i++) {
      assert.ok(same(r.l1.view(read.slots[i], read.sizes[i]), blocksContent(r, range(3 * i, 3))), `chunk ${i}`);
    }
    r.l1.finishRead(keys);
  }));

test('after a device loss, a reopened device and cache load the chunks back from L1', () =>
  withDeadline((async () => {
    const r = await rig();
    let reopened: Gpu | null = null;
    try {
      const keys = keysOf(tokens(3 * CHUNK_TOKENS + 4, 13));
      const table = [5, 9, 2, 30, 31, 32, 7, 8, 40, 41, 50];
      assert.is(await r.connector.store(keys, table), 4);
      r.gpu.device.destroy();
      assert.is((await errorOf(r.connector.retrieve(keys, table)))?.code, ErrorCode.DEVICE_LOST);
      reopened = await withDeadline(openGpu({ logger: recordingLogger() }), 30_000, 'openGpu');
      const cache = new PagedKvCache(reopened, r.cache.options);
      const connector = await GpuKvConnector.create(cache, r.l1, r.connector.options);
      try {
        assert.is((await connector.retrieve(keys, table)).chunks, 4);
        assert.ok(same(await cache.readBlocks(table), blocksContent(r, table)), 'the KV is back on the new device');
      } finally {
        connector.destroy();
        cache.destroy();
      }
    } finally {
      reopened?.close();
      teardown(r);
    }
  })(), TEST_MS, 'test'));

test('misuse is INVALID_ARGUMENT before L1 is touched', () =>
  withRig({}, async (r) => {
    const keys = keysOf(tokens(2 * CHUNK_TOKENS, 8));
    const outOfRange = await errorOf(r.connector.store(keys, [0, 1, 2, 3, 4, SHAPE.numBlocks]));
    assert.is(outOfRange?.code, ErrorCode.INVALID_ARGUMENT);
    assert.match(outOfRange!.message, /entry 5 is 64/);
    const tooShort = await errorOf(r.connector.store(keys, [0, 1, 2]));
    assert.is(tooShort?.code, ErrorCode.INVALID_ARGUMENT);
    assert.is((await errorOf(r.connector.retrieve(new Uint32Array(5), [0])))?.code, ErrorCode.INVALID_ARGUMENT);
    assert.is(r.l1.usage().objects, 0);
  }));

test('an L1 slot too small for a chunk is a clear error and leaves no reservation', () =>
  withDeadline((async () => {
    const gpu = await withDeadline(openGpu({ logger: recordingLogger() }), 30_000, 'openGpu');
    const cache = new PagedKvCache(gpu, SHAPE);
    const l1 = L1Manager.create({ slotBytes: cache.blockBytes, slotCount: 8 });
    const connector = await GpuKvConnector.create(cache, l1, { chunkTokens: 64 * BLOCK_TOKENS, method: 'copy' });
    try {
      // Chunk 0 (64 blocks) is far larger than a slot (L1: OBJECT_TOO_LARGE); chunk 1 (1 block) fits.
      const seq = tokens(64 * BLOCK_TOKENS + 3, 9);
      const keys = digestBatch(objectKeys('llama-test', 0, seq, { chunkSize: 64 * BLOCK_TOKENS, includePartial: true }));
      const err = await errorOf(connector.store(keys, [...range(0, 64), 5]));
      assert.is(err?.code, ErrorCode.INVALID_ARGUMENT);
      assert.match(err!.message, /chunk 0 takes \d+ bytes, more than an L1 slot holds/);
      assert.is(l1.usage().objects, 0, 'the chunk that fitted was not left reserved');
    } finally {
      connector.destroy(); cache.destroy(); gpu.close(); l1.detach();
    }
  })(), TEST_MS, 'test'));

test('chunkTokens must be a multiple of blockTokens (CONFIG)', () =>
  withRig({}, async (r) => {
    const err = await errorOf(GpuKvConnector.create(r.cache, r.l1, { chunkTokens: 10 }));
    assert.is(err?.code, ErrorCode.CONFIG);
    assert.match(err!.message, /chunkTokens/);
  }));

test('method auto measures both methods and picks one that works', () =>
  withRig({}, async (r) => {
    const auto = await GpuKvConnector.create(r.cache, r.l1, { chunkTokens: CHUNK_TOKENS });
    try {
      assert.ok(GATHER_METHODS.includes(auto.method));
      const keys = keysOf(tokens(2 * CHUNK_TOKENS, 11));
      assert.is(await auto.store(keys, range(0, 6)), 2);
      assert.is((await auto.retrieve(keys, range(10, 6))).chunks, 2);
      assert.ok(same(await r.cache.readBlocks(range(10, 6)), blocksContent(r, range(0, 6))));
    } finally {
      auto.destroy();
    }
  }));

test.run();

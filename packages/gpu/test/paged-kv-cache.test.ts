import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, type KvtierError } from '@kvtier/core';
import { withDeadline } from '@kvtier/core/testing';
import { KvGeometry, PagedKvCache, type Gpu, type KvLayout } from '../src/index.ts';
import { openTestGpu, pseudoRandomBytes, sameBytes, sharedBytes, shuffledBlocks, TEST_MS } from './helpers.ts';

let gpu: Gpu;
test.before(async () => { gpu = await openTestGpu(); });
test.after(() => gpu.close());

const SHAPE = { layers: 3, kvHeads: 2, headDim: 6, blockTokens: 4, numBlocks: 20 } as const;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as KvtierError).code;
  }
  return 'no error';
}

test('geometry: block, slab and run sizes for both layouts', () => {
  const contiguous = new KvGeometry({ ...SHAPE, dtype: 'f16' }, 1 << 30);
  assert.is(contiguous.slabBytes, 4 * 2 * 6 * 2);
  assert.is(contiguous.blockBytes, 3 * 2 * 96);
  assert.is(contiguous.runBytes, contiguous.blockBytes);
  assert.is(contiguous.bufferCount, 1);
  const perLayer = new KvGeometry({ ...SHAPE, dtype: 'f32', layout: 'per-layer' }, 1 << 30);
  assert.is(perLayer.runsPerBlock, 3);
  assert.is(perLayer.runBytes, 2 * 4 * 2 * 6 * 4);
  assert.is(perLayer.bufferCount, 3);
});

test('geometry: a small buffer limit splits on whole blocks, the last buffer shorter', () => {
  const g = new KvGeometry(SHAPE, 3 * 576 + 100);
  assert.is(g.blocksPerBuffer, 3);
  assert.is(g.buffersPerLogical, 7);
  assert.is(g.bufferBytes(6), 2 * 576);
  assert.equal(g.locate(10, 0), { buffer: 3, offset: 576 });
});

test('geometry: bad shapes are CONFIG errors naming the field', () => {
  assert.is(code(() => new KvGeometry({ ...SHAPE, layers: 0 }, 1 << 20)), ErrorCode.CONFIG);
  assert.is(code(() => new KvGeometry({ ...SHAPE, dtype: 'bf16' as never }, 1 << 20)), ErrorCode.CONFIG);
  assert.is(code(() => new KvGeometry({ ...SHAPE, layout: 'paged' as never }, 1 << 20)), ErrorCode.CONFIG);
  assert.throws(() => new KvGeometry(SHAPE, 100), /maxBufferBytes/);
});

for (const layout of ['block-contiguous', 'per-layer'] as KvLayout[]) {
  test(`${layout}: writeBlocks / readBlocks round-trip across split buffers`, () =>
    withDeadline((async () => {
      const cache = new PagedKvCache(gpu, { ...SHAPE, layout, maxBufferBytes: 700 });
      try {
        assert.ok(cache.buffers.length > cache.geometry.logicalBuffers, 'buffers were split');
        const blocks = shuffledBlocks(SHAPE.numBlocks, 1);
        const bytes = pseudoRandomBytes(blocks.length * cache.blockBytes, 2);
        cache.writeBlocks(blocks, bytes);
        assert.ok(sameBytes(await cache.readBlocks(blocks), bytes));
        // Reading in another order gives each block's own bytes.
        const first = await cache.readBlocks([blocks[5]]);
        assert.ok(sameBytes(first, bytes.subarray(5 * cache.blockBytes, 6 * cache.blockBytes)));
      } finally {
        cache.destroy();
      }
    })(), TEST_MS, 'test'));
}

test('writeBlocks accepts bytes on a SharedArrayBuffer', () =>
  withDeadline((async () => {
    const cache = new PagedKvCache(gpu, SHAPE);
    try {
      const bytes = sharedBytes(2 * cache.blockBytes);
      bytes.set(pseudoRandomBytes(bytes.length, 3));
      cache.writeBlocks([7, 2], bytes);
      assert.ok(sameBytes(await cache.readBlocks([7, 2]), bytes));
    } finally {
      cache.destroy();
    }
  })(), TEST_MS, 'test'));

test('a block id out of range is INVALID_ARGUMENT and writes nothing', () =>
  withDeadline((async () => {
    const cache = new PagedKvCache(gpu, SHAPE);
    try {
      const before = pseudoRandomBytes(cache.blockBytes, 4);
      cache.writeBlocks([3], before);
      for (const bad of [20, -1, 1.5, Number.NaN]) {
        const err = (() => { try { cache.writeBlocks([3, bad], pseudoRandomBytes(2 * cache.blockBytes, 5)); } catch (e) { return e as KvtierError; } return null; })();
        assert.is(err?.code, ErrorCode.INVALID_ARGUMENT, `block ${bad}`);
        assert.match(err!.message, /block table entry 1/);
      }
      assert.ok(sameBytes(await cache.readBlocks([3]), before), 'block 3 unchanged');
    } finally {
      cache.destroy();
    }
  })(), TEST_MS, 'test'));

test('writeBlocks with the wrong byte count is INVALID_ARGUMENT', () => {
  const cache = new PagedKvCache(gpu, SHAPE);
  try {
    assert.is(code(() => cache.writeBlocks([1, 2], new Uint8Array(cache.blockBytes))), ErrorCode.INVALID_ARGUMENT);
  } finally {
    cache.destroy();
  }
});

test('maxBufferBytes must be an integer ≥ 4', () => {
  assert.is(code(() => new PagedKvCache(gpu, { ...SHAPE, maxBufferBytes: 2 })), ErrorCode.CONFIG);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, type KvtierError } from '@kvtier/core';
import { withDeadline } from '@kvtier/core/testing';
import { ChunkMover, GATHER_METHODS, PagedKvCache, type ChunkMoverOptions, type ChunkTransfer, type Gpu, type KvDtype, type KvLayout } from '../src/index.ts';
import { openTestGpu, pseudoRandomBytes, sameBytes, sharedBytes, shuffledBlocks, TEST_MS } from './helpers.ts';

let gpu: Gpu;
test.before(async () => { gpu = await openTestGpu(); });
test.after(() => gpu.close());

// Odd sizes on purpose: f16 slabs of 2 mod 4 bytes, runs not multiples of 16 bytes.
const SHAPE = { layers: 3, kvHeads: 1, headDim: 5, blockTokens: 3, numBlocks: 48 } as const;
const CHUNK_BLOCKS = 4;

interface Fixture {
  cache: PagedKvCache;
  /** The canonical bytes of every block, by block id. */
  content: Uint8Array;
}

/** A cache split into buffers of 5 blocks (so chunks span buffers) filled with known bytes. */
function filledCache(layout: KvLayout, dtype: KvDtype, seed: number): Fixture {
  const probe = new PagedKvCache(gpu, { ...SHAPE, layout, dtype, numBlocks: 1 });
  const runBytes = probe.geometry.runBytes;
  probe.destroy();
  const cache = new PagedKvCache(gpu, { ...SHAPE, layout, dtype, maxBufferBytes: 5 * runBytes });
  const all = Array.from({ length: SHAPE.numBlocks }, (_, i) => i);
  const content = pseudoRandomBytes(SHAPE.numBlocks * cache.blockBytes, seed);
  cache.writeBlocks(all, content);
  return { cache, content };
}

function blockBytes(f: Fixture, blocks: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(blocks.length * f.cache.blockBytes);
  for (let j = 0; j < blocks.length; j++) out.set(f.content.subarray(blocks[j] * f.cache.blockBytes, (blocks[j] + 1) * f.cache.blockBytes), j * f.cache.blockBytes);
  return out;
}

/** Cuts `table` into chunks of CHUNK_BLOCKS (the last partial) with views into one shared L1-like arena. */
function chunksOf(table: number[], bytesPerBlock: number, arena: Uint8Array): ChunkTransfer[] {
  const chunks: ChunkTransfer[] = [];
  for (let i = 0; i * CHUNK_BLOCKS < table.length; i++) {
    const blocks = table.slice(i * CHUNK_BLOCKS, (i + 1) * CHUNK_BLOCKS);
    // Slots a little larger than the chunk, as L1's 4 KiB-rounded slots are.
    const slot = CHUNK_BLOCKS * bytesPerBlock + 12;
    chunks.push({ blocks, view: arena.subarray(i * slot, (i + 1) * slot) });
  }
  return chunks;
}

function errorOf(p: Promise<unknown>): Promise<KvtierError | null> {
  return p.then(() => null, (e: KvtierError) => e);
}

for (const layout of ['block-contiguous', 'per-layer'] as KvLayout[]) {
  for (const dtype of ['f16', 'f32'] as KvDtype[]) {
    for (const method of GATHER_METHODS) {
      test(`${layout} ${dtype} ${method}: device -> L1 -> device is bit-exact, partial last chunk, chunks across split buffers`, () =>
        withMover(layout, dtype, 11, { chunkBlocks: CHUNK_BLOCKS, method }, async (f, mover) => {
          const order = shuffledBlocks(SHAPE.numBlocks, 7);
          const source = order.slice(0, 22); // 5 full chunks and one of 2 blocks
          const target = order.slice(22, 44);
          const arena = sharedBytes(6 * (CHUNK_BLOCKS * f.cache.blockBytes + 12));
          const stored = chunksOf(source, f.cache.blockBytes, arena);
          await mover.store(stored);
          for (const c of stored) assert.ok(sameBytes(c.view.subarray(0, c.blocks.length * f.cache.blockBytes), blockBytes(f, c.blocks)), `chunk of blocks ${Array.from(c.blocks)}`);
          await mover.retrieve(stored.map((c, i) => ({ blocks: target.slice(i * CHUNK_BLOCKS, i * CHUNK_BLOCKS + c.blocks.length), view: c.view })));
          assert.ok(sameBytes(await f.cache.readBlocks(target), blockBytes(f, source)), 'target blocks hold the source blocks');
          assert.ok(sameBytes(await f.cache.readBlocks(order.slice(44)), blockBytes(f, order.slice(44))), 'blocks outside both tables untouched');
        }));
    }
  }
}

for (const layout of ['block-contiguous', 'per-layer'] as KvLayout[]) {
  test(`${layout} kernel with 16-byte-multiple runs (vec4 words): bit-exact round trip`, () =>
    withDeadline((async () => {
      const cache = new PagedKvCache(gpu, { layers: 2, kvHeads: 2, headDim: 8, blockTokens: 2, numBlocks: 16, dtype: 'f16', layout, maxBufferBytes: 1024 });
      const mover = new ChunkMover(cache, { chunkBlocks: 3, method: 'kernel' });
      try {
        assert.is(cache.geometry.runBytes % 16, 0);
        const bb = cache.blockBytes;
        const all = Array.from({ length: 16 }, (_, i) => i);
        const content = pseudoRandomBytes(16 * bb, 91);
        cache.writeBlocks(all, content);
        const source = [15, 0, 7, 3, 9];
        const arena = sharedBytes(5 * bb);
        await mover.store([{ blocks: source.slice(0, 3), view: arena.subarray(0, 3 * bb) }, { blocks: source.slice(3), view: arena.subarray(3 * bb) }]);
        const expected = new Uint8Array(5 * bb);
        source.forEach((b, j) => expected.set(content.subarray(b * bb, (b + 1) * bb), j * bb));
        assert.ok(sameBytes(arena, expected), 'stored');
        const target = [1, 2, 4, 5, 6];
        await mover.retrieve([{ blocks: target.slice(0, 3), view: arena.subarray(0, 3 * bb) }, { blocks: target.slice(3), view: arena.subarray(3 * bb) }]);
        assert.ok(sameBytes(await cache.readBlocks(target), expected), 'retrieved');
      } finally {
        mover.destroy();
        cache.destroy();
      }
    })(), TEST_MS, 'test'));
}

for (const method of GATHER_METHODS) {
  test(`${method}: chunks larger than a piece move as several pieces, bit-exact`, () =>
    withMover('per-layer', 'f16', 95, (f) => ({ chunkBlocks: 5, method, pieceBytes: 2 * f.cache.blockBytes + 1 }), async (f, mover) => {
      const bb = f.cache.blockBytes;
      assert.is(mover.pieceBlocks, 2);
      const order = shuffledBlocks(SHAPE.numBlocks, 96);
      const source = order.slice(0, 13); // chunks of 5, 5 and 3 blocks: pieces of 2 blocks, the last of 1
      const target = order.slice(13, 26);
      const arena = sharedBytes(13 * bb);
      const cut = (table: number[]) => [0, 5, 10].map((first) => ({ blocks: table.slice(first, first + 5), view: arena.subarray(first * bb, Math.min(13, first + 5) * bb) }));
      await mover.store(cut(source));
      assert.ok(sameBytes(arena, blockBytes(f, source)), 'stored');
      await mover.retrieve(cut(target));
      assert.ok(sameBytes(await f.cache.readBlocks(target), blockBytes(f, source)), 'retrieved');
    }));
}

for (const method of GATHER_METHODS) {
  test(`${method}: small chunks share pieces, a piece holds the end of one chunk and the start of the next, bit-exact`, () =>
    withMover('block-contiguous', 'f32', 97, (f) => ({ chunkBlocks: 2, method, pieceBytes: 3 * f.cache.blockBytes, stagingBuffers: 2 }), async (f, mover) => {
      const bb = f.cache.blockBytes;
      assert.is(mover.pieceBlocks, 3);
      const order = shuffledBlocks(SHAPE.numBlocks, 98);
      const source = order.slice(0, 9); // chunks of 2, 2, 2, 2 and 1 blocks: pieces of 3, 3 and 3 blocks
      const target = order.slice(9, 18);
      // Slots apart from each other with bytes between them that no piece may touch.
      const slot = 2 * bb + 8;
      const arena = sharedBytes(5 * slot);
      const guard = pseudoRandomBytes(arena.byteLength, 99);
      arena.set(guard);
      const cut = (table: number[]) => [0, 2, 4, 6, 8].map((first, i) => ({ blocks: table.slice(first, first + 2), view: arena.subarray(i * slot, (i + 1) * slot) }));
      await mover.store(cut(source));
      const expected = guard.slice();
      cut(source).forEach((c, i) => expected.set(blockBytes(f, c.blocks), i * slot));
      assert.ok(sameBytes(arena, expected), 'each slot holds its chunk, the bytes past it are untouched');
      await mover.retrieve(cut(target));
      assert.ok(sameBytes(await f.cache.readBlocks(target), blockBytes(f, source)), 'retrieved');
    }));
}

/** Runs `move` counting the calls of `proto[name]` made while it runs (the method itself runs as always). */
async function callsDuring(proto: object, name: string, move: () => Promise<void>): Promise<number> {
  let calls = 0;
  const own = Object.getOwnPropertyDescriptor(proto, name);
  const original = (proto as Record<string, (...args: unknown[]) => unknown>)[name];
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function counted(this: unknown, ...args: unknown[]) {
      calls++;
      return original.apply(this, args);
    },
  });
  try {
    await move();
  } finally {
    if (own === undefined) delete (proto as Record<string, unknown>)[name];
    else Object.defineProperty(proto, name, own);
  }
  return calls;
}

/** The mover's host copies (`TypedArray.set` on a `Uint8Array`) while `move` runs. */
function hostCopiesOf(move: () => Promise<void>): Promise<number> {
  return callsDuring(Uint8Array.prototype, 'set', move);
}

/** The copy commands encoded while `move` runs. */
function copyCommandsOf(move: () => Promise<void>): Promise<number> {
  return callsDuring(GPUCommandEncoder.prototype, 'copyBufferToBuffer', move);
}

for (const method of GATHER_METHODS) {
  test(`${method}: views that continue each other in memory are one host copy per piece, views apart one each, bit-exact`, () =>
    withMover('block-contiguous', 'f16', 103, (f) => ({ chunkBlocks: 2, method, pieceBytes: 3 * f.cache.blockBytes, stagingBuffers: 2 }), async (f, mover) => {
      const bb = f.cache.blockBytes;
      const order = shuffledBlocks(SHAPE.numBlocks, 104);
      const source = order.slice(0, 9); // chunks of 2, 2, 2, 2 and 1 blocks: pieces of 3, 3 and 3 blocks
      const target = order.slice(9, 18);
      for (const gap of [0, 8]) {
        const slot = 2 * bb + gap;
        const arena = sharedBytes(5 * slot);
        const cut = (table: number[]) => [0, 2, 4, 6, 8].map((first, i) => ({ blocks: table.slice(first, first + 2), view: arena.subarray(i * slot, i * slot + 2 * bb) }));
        // Back to back, each piece is one range of the arena; apart, pieces 1 and 3 have two parts of two chunks, piece 2 the end of one and the start of another.
        const expected = gap === 0 ? 3 : 6;
        assert.is(await hostCopiesOf(() => mover.store(cut(source))), expected, `store, slots ${gap} bytes apart`);
        const want = new Uint8Array(arena.byteLength);
        cut(source).forEach((c, i) => want.set(blockBytes(f, c.blocks), i * slot));
        assert.ok(sameBytes(arena, want), `stored, slots ${gap} bytes apart`);
        assert.is(await hostCopiesOf(() => mover.retrieve(cut(target))), expected, `retrieve, slots ${gap} bytes apart`);
        assert.ok(sameBytes(await f.cache.readBlocks(target), blockBytes(f, source)), `retrieved, slots ${gap} bytes apart`);
      }
    }));
}

test('per-layer copy: neighbouring blocks move run-major, one copy per run and device buffer; a shuffled table stays one copy per block and run; bit-exact', () =>
  withMover('per-layer', 'f16', 105, { chunkBlocks: 4, method: 'copy' }, async (f, mover) => {
    const bb = f.cache.blockBytes;
    const layers = SHAPE.layers;
    // 20 neighbouring blocks over device buffers of 5 blocks: 4 copies per layer in run-major order, 20 per layer canonical.
    const sequential = Array.from({ length: 20 }, (_, i) => i);
    const shuffled = shuffledBlocks(SHAPE.numBlocks, 106).filter((b) => b >= 20).slice(0, 20);
    for (const [table, target, copies] of [[sequential, shuffled, 4 * layers], [shuffled, sequential, 20 * layers]] as const) {
      const arena = sharedBytes(20 * bb);
      const cut = (t: readonly number[]) => [0, 4, 8, 12, 16].map((first) => ({ blocks: t.slice(first, first + 4), view: arena.subarray(first * bb, (first + 4) * bb) }));
      let hostCopies = 0;
      const stored = await copyCommandsOf(async () => { hostCopies = await hostCopiesOf(() => mover.store(cut(table))); });
      assert.is(stored, copies, 'copy commands of the store');
      assert.is(hostCopies, copies === 4 * layers ? 20 * layers : 1, 'host copies of the store: one per block and run run-major, one per piece canonical');
      assert.ok(sameBytes(arena, blockBytes(f, table)), `stored, ${copies} copies`);
      // The target table decides the retrieve's order: the other one.
      const retrieved = await copyCommandsOf(() => mover.retrieve(cut(target)));
      assert.is(retrieved, copies === 4 * layers ? 20 * layers : 4 * layers, 'copy commands of the retrieve');
      const moved = blockBytes(f, table);
      assert.ok(sameBytes(await f.cache.readBlocks(target), moved), `retrieved, ${copies} copies`);
      // The target blocks now hold the moved bytes; the next round stores them.
      target.forEach((b, i) => f.content.set(moved.subarray(i * bb, (i + 1) * bb), b * bb));
    }
  }));

/**
 * Runs `body` on a filled cache and a mover over it (options given, or made from the fixture), under the test deadline, and destroys both
 * afterwards whatever happens.
 */
function withMover(
  layout: KvLayout, dtype: KvDtype, seed: number, opts: ChunkMoverOptions | ((f: Fixture) => ChunkMoverOptions),
  body: (f: Fixture, mover: ChunkMover) => Promise<void>,
): Promise<void> {
  return withDeadline((async () => {
    const f = filledCache(layout, dtype, seed);
    const mover = new ChunkMover(f.cache, typeof opts === 'function' ? opts(f) : opts);
    try {
      await body(f, mover);
    } finally {
      mover.destroy();
      f.cache.destroy();
    }
  })(), TEST_MS, 'test');
}

test('a chunk stored from one layout loads into the other unchanged', () =>
  withDeadline((async () => {
    const a = filledCache('block-contiguous', 'f16', 21);
    const b = filledCache('per-layer', 'f16', 22);
    const from = new ChunkMover(a.cache, { chunkBlocks: CHUNK_BLOCKS });
    const to = new ChunkMover(b.cache, { chunkBlocks: CHUNK_BLOCKS, method: 'kernel' });
    try {
      const view = sharedBytes(CHUNK_BLOCKS * a.cache.blockBytes);
      await from.store([{ blocks: [9, 3, 30, 1], view }]);
      await to.retrieve([{ blocks: [40, 41, 0, 17], view }]);
      assert.ok(sameBytes(await b.cache.readBlocks([40, 41, 0, 17]), blockBytes(a, [9, 3, 30, 1])));
    } finally {
      from.destroy(); to.destroy(); a.cache.destroy(); b.cache.destroy();
    }
  })(), TEST_MS, 'test'));

test('many chunks pipelined through a ring of two buffers', () =>
  withMover('block-contiguous', 'f16', 31, { chunkBlocks: 1, stagingBuffers: 2 }, async (f, mover) => {
    const table = shuffledBlocks(SHAPE.numBlocks, 32);
    const arena = sharedBytes(table.length * f.cache.blockBytes);
    const chunks = table.map((b, i) => ({ blocks: [b], view: arena.subarray(i * f.cache.blockBytes, (i + 1) * f.cache.blockBytes) }));
    await mover.store(chunks);
    assert.ok(sameBytes(arena, blockBytes(f, table)));
    const reversed = table.slice().reverse();
    await mover.retrieve(chunks.map((c, i) => ({ blocks: [reversed[i]], view: c.view })));
    assert.ok(sameBytes(await f.cache.readBlocks(reversed), blockBytes(f, table)));
  }));

test('store and retrieve interleaved on one mover, each on its own blocks', () =>
  withMover('per-layer', 'f32', 41, { chunkBlocks: CHUNK_BLOCKS }, async (f, mover) => {
    const order = shuffledBlocks(SHAPE.numBlocks, 42);
    const storeTable = order.slice(0, 24);
    const loadTable = order.slice(24, 48);
    const incoming = pseudoRandomBytes(loadTable.length * f.cache.blockBytes, 43);
    const outArena = sharedBytes(6 * (CHUNK_BLOCKS * f.cache.blockBytes + 12));
    const inArena = sharedBytes(6 * (CHUNK_BLOCKS * f.cache.blockBytes + 12));
    const loads = chunksOf(loadTable, f.cache.blockBytes, inArena);
    loads.forEach((c, i) => c.view.set(incoming.subarray(i * CHUNK_BLOCKS * f.cache.blockBytes, (i + 1) * CHUNK_BLOCKS * f.cache.blockBytes)));
    const stores = chunksOf(storeTable, f.cache.blockBytes, outArena);
    const work: Promise<void>[] = [];
    for (let i = 0; i < stores.length; i++) {
      work.push(mover.store([stores[i]]), mover.retrieve([loads[i]]));
    }
    await Promise.all(work);
    for (const c of stores) assert.ok(sameBytes(c.view.subarray(0, c.blocks.length * f.cache.blockBytes), blockBytes(f, c.blocks)));
    assert.ok(sameBytes(await f.cache.readBlocks(loadTable), incoming));
  }));

test('a block id out of range fails before any chunk moves', () =>
  withMover('block-contiguous', 'f16', 51, { chunkBlocks: CHUNK_BLOCKS }, async (f, mover) => {
    const view = sharedBytes(CHUNK_BLOCKS * f.cache.blockBytes);
    view.set(pseudoRandomBytes(view.length, 52));
    const err = await errorOf(mover.retrieve([{ blocks: [1, 2], view }, { blocks: [3, 48], view }]));
    assert.is(err?.code, ErrorCode.INVALID_ARGUMENT);
    assert.match(err!.message, /chunk 1.*entry 1 is 48/);
    assert.ok(sameBytes(await f.cache.readBlocks([1, 2, 3]), blockBytes(f, [1, 2, 3])), 'no block was written');
  }));

test('a slot too small for its chunk fails before any chunk moves', () =>
  withMover('per-layer', 'f16', 61, { chunkBlocks: CHUNK_BLOCKS }, async (f, mover) => {
    const big = sharedBytes(CHUNK_BLOCKS * f.cache.blockBytes);
    const small = sharedBytes(2 * f.cache.blockBytes - 1);
    const err = await errorOf(mover.store([{ blocks: [0, 1, 2, 3], view: big }, { blocks: [4, 5], view: small }]));
    assert.is(err?.code, ErrorCode.INVALID_ARGUMENT);
    assert.match(err!.message, /chunk 1 view has \d+ bytes/);
    assert.ok(big.every((x) => x === 0), 'the first chunk was not stored either');
  }));

test('a chunk with more blocks than chunkBlocks, or none, is INVALID_ARGUMENT', () =>
  withMover('block-contiguous', 'f32', 71, { chunkBlocks: 2 }, async (f, mover) => {
    const view = sharedBytes(3 * f.cache.blockBytes);
    assert.is((await errorOf(mover.store([{ blocks: [0, 1, 2], view }])))?.code, ErrorCode.INVALID_ARGUMENT);
    assert.is((await errorOf(mover.store([{ blocks: [], view }])))?.code, ErrorCode.INVALID_ARGUMENT);
  }));

test('bad mover options are CONFIG errors', () => {
  const f = filledCache('block-contiguous', 'f16', 81);
  try {
    for (const opts of [{ chunkBlocks: 0 }, { chunkBlocks: 2, stagingBuffers: 1 }, { chunkBlocks: 2, method: 'dma' as never }, { chunkBlocks: 2, pieceBytes: 0 }]) {
      assert.throws(() => new ChunkMover(f.cache, opts), (e: KvtierError) => e.code === ErrorCode.CONFIG);
    }
  } finally {
    f.cache.destroy();
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, type KvtierError } from '@kvtier/core';
import { withDeadline } from '@kvtier/core/testing';
import { ChunkMover, PagedKvCache } from '../src/index.ts';
import { openTestGpu, pseudoRandomBytes, sameBytes, sharedBytes, TEST_MS } from './helpers.ts';

const SHAPE = { layers: 4, kvHeads: 4, headDim: 64, blockTokens: 16, numBlocks: 64, dtype: 'f16' } as const;

function errorOf(p: Promise<unknown>): Promise<KvtierError | null> {
  return p.then(() => null, (e: KvtierError) => e);
}

test('device destroyed mid-store: DEVICE_LOST, finished chunks intact, every later call DEVICE_LOST', () =>
  withDeadline((async () => {
    const log: string[] = [];
    const gpu = await openTestGpu(log);
    const cache = new PagedKvCache(gpu, SHAPE);
    // One block per piece: the store is 64 pieces through a ring of 2, so it is still running when
    // the device goes (with the default 3 MiB pieces the whole call could land before the loss).
    const mover = new ChunkMover(cache, { chunkBlocks: 1, stagingBuffers: 2, pieceBytes: cache.blockBytes });
    const bytes = cache.blockBytes;
    const all = Array.from({ length: SHAPE.numBlocks }, (_, i) => i);
    const content = pseudoRandomBytes(SHAPE.numBlocks * bytes, 1);
    cache.writeBlocks(all, content);
    const arena = sharedBytes(SHAPE.numBlocks * bytes);
    const chunks = all.map((b) => ({ blocks: [b], view: arena.subarray(b * bytes, (b + 1) * bytes) }));
    const running = errorOf(mover.store(chunks));
    // Destroy as soon as the first chunk reached the host: the rest are in flight or not started.
    while (chunks[0].view.every((x) => x === 0)) await new Promise((r) => setImmediate(r));
    gpu.device.destroy();
    const err = await running;
    assert.is(err?.code, ErrorCode.DEVICE_LOST);
    assert.match(err!.message, /host copies are intact/);
    let copied = 0;
    for (const c of chunks) {
      const expected = content.subarray(c.blocks[0] * bytes, (c.blocks[0] + 1) * bytes);
      if (c.view.every((x) => x === 0)) continue;
      assert.ok(sameBytes(c.view, expected), `chunk ${c.blocks[0]} is whole, not torn`);
      copied++;
    }
    assert.ok(copied >= 1 && copied < chunks.length, `${copied} of ${chunks.length} chunks reached the host before the loss`);
    assert.ok(gpu.lost);
    assert.ok(log.some((m) => /lost/.test(m)), 'the loss was logged');
    for (const call of [
      () => mover.store(chunks.slice(0, 1)),
      () => mover.retrieve(chunks.slice(0, 1)),
      () => cache.readBlocks([0]),
      async () => new PagedKvCache(gpu, SHAPE),
    ]) {
      const later = await errorOf(call());
      assert.is(later?.code, ErrorCode.DEVICE_LOST);
    }
    // The host copy still reads back: nothing lives on the device any more, the arena is plain memory.
    assert.ok(sameBytes(chunks[0].view, content.subarray(0, bytes)));
  })(), TEST_MS, 'test'));

test('device destroyed mid-retrieve: DEVICE_LOST and the source views are untouched', () =>
  withDeadline((async () => {
    const gpu = await openTestGpu();
    const cache = new PagedKvCache(gpu, SHAPE);
    const mover = new ChunkMover(cache, { chunkBlocks: 2, method: 'kernel', pieceBytes: cache.blockBytes });
    const bytes = 2 * cache.blockBytes;
    const arena = sharedBytes(32 * bytes);
    const source = pseudoRandomBytes(arena.length, 2);
    arena.set(source);
    const chunks = Array.from({ length: 32 }, (_, i) => ({ blocks: [2 * i, 2 * i + 1], view: arena.subarray(i * bytes, (i + 1) * bytes) }));
    const running = errorOf(mover.retrieve(chunks));
    await new Promise((r) => setImmediate(r));
    gpu.device.destroy();
    assert.is((await running)?.code, ErrorCode.DEVICE_LOST);
    assert.ok(sameBytes(arena, source), 'retrieve only reads its views');
  })(), TEST_MS, 'test'));

test.run();

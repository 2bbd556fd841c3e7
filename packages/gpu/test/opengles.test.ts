// The OpenGL ES fallback (llvmpipe, compatibility mode) runs the same moves as Vulkan.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '@kvtier/core/testing';
import { ChunkMover, GATHER_METHODS, PagedKvCache, type Gpu, type KvLayout } from '../src/index.ts';
import { openTestGpu, pseudoRandomBytes, sameBytes, sharedBytes, TEST_MS } from './helpers.ts';

let gpu: Gpu;
test.before(async () => { gpu = await openTestGpu([], { sources: ['software-opengles'] }); });
test.after(() => gpu.close());

for (const layout of ['block-contiguous', 'per-layer'] as KvLayout[]) {
  for (const method of GATHER_METHODS) {
    test(`opengles ${layout} ${method}: store and retrieve are bit-exact across split buffers`, () =>
      withDeadline((async () => {
        assert.is(gpu.backend, 'opengles');
        const cache = new PagedKvCache(gpu, { layers: 2, kvHeads: 1, headDim: 5, blockTokens: 3, numBlocks: 12, dtype: 'f16', layout, maxBufferBytes: 300 });
        const mover = new ChunkMover(cache, { chunkBlocks: 3, method });
        try {
          assert.ok(cache.buffers.length > cache.geometry.logicalBuffers, 'buffers were split');
          const all = Array.from({ length: 12 }, (_, i) => i);
          const content = pseudoRandomBytes(12 * cache.blockBytes, 1);
          cache.writeBlocks(all, content);
          const bb = cache.blockBytes;
          const source = [0, 5, 7, 2, 3];
          const expected = new Uint8Array(5 * bb);
          source.forEach((b, j) => expected.set(content.subarray(b * bb, (b + 1) * bb), j * bb));
          const arena = sharedBytes(5 * bb);
          await mover.store([{ blocks: [0, 5, 7], view: arena.subarray(0, 3 * bb) }, { blocks: [2, 3], view: arena.subarray(3 * bb) }]);
          await mover.retrieve([{ blocks: [11, 10, 9], view: arena.subarray(0, 3 * bb) }, { blocks: [8, 6], view: arena.subarray(3 * bb) }]);
          assert.ok(sameBytes(arena, expected), 'stored chunks');
          assert.ok(sameBytes(await cache.readBlocks([11, 10, 9, 8, 6]), expected), 'retrieved blocks');
        } finally {
          mover.destroy();
          cache.destroy();
        }
      })(), TEST_MS, 'test'));
  }
}

test.run();

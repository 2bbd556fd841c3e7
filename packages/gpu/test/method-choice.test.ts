import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '@kvtier/core/testing';
import { chooseGatherMethod, GATHER_METHODS, measureGatherMethods, PagedKvCache, type Gpu } from '../src/index.ts';
import { openTestGpu, pseudoRandomBytes, sameBytes, TEST_MS } from './helpers.ts';

let gpu: Gpu;
test.before(async () => { gpu = await openTestGpu(); });
test.after(() => gpu.close());

const SHAPE = { layers: 2, kvHeads: 2, headDim: 16, blockTokens: 4, numBlocks: 16, dtype: 'f16', layout: 'per-layer' } as const;

test('measureGatherMethods times every method on a scratch cache, leaving the engine blocks alone', () =>
  withDeadline((async () => {
    const cache = new PagedKvCache(gpu, SHAPE);
    try {
      const all = Array.from({ length: SHAPE.numBlocks }, (_, i) => i);
      const content = pseudoRandomBytes(SHAPE.numBlocks * cache.blockBytes, 5);
      cache.writeBlocks(all, content);
      const timings = await measureGatherMethods(cache, 4);
      assert.equal(timings.map((t) => t.method), [...GATHER_METHODS]);
      for (const t of timings) assert.ok(Number.isFinite(t.seconds) && t.seconds > 0, `${t.method}: ${t.seconds} s`);
      assert.ok(sameBytes(await cache.readBlocks(all), content));
    } finally {
      cache.destroy();
    }
  })(), TEST_MS, 'test'));

test('chooseGatherMethod measures once per device, layout and chunk size', () =>
  withDeadline((async () => {
    const a = new PagedKvCache(gpu, SHAPE);
    const b = new PagedKvCache(gpu, SHAPE);
    try {
      const first = chooseGatherMethod(a, 2);
      assert.is(chooseGatherMethod(b, 2), first, 'same shape on the same device: the remembered choice');
      const other = chooseGatherMethod(a, 3);
      assert.is.not(other, first, 'another chunk size is measured on its own');
      for (const method of await Promise.all([first, other])) assert.ok(GATHER_METHODS.includes(method));
    } finally {
      a.destroy();
      b.destroy();
    }
  })(), TEST_MS, 'test'));

test.run();

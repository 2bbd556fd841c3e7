/**
 * The reference engine on the real device (lavapipe here): batch invariance bit for bit, and
 * logits through a real KvCache + fs tier + GpuKvConnector identical to a full recompute,
 * including a prompt whose every chunk is cached (only its last token is computed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lockedObjects, withDeadline } from '@kvtier/core/testing';
import { openGpu, PagedKvCache, type Gpu } from '@kvtier/gpu';
import { Prng } from '@kvtier/adapters';
import { ReferenceEngine } from '../src/engine/engine.ts';
import { modelShape, type ModelShape } from '../src/engine/model.ts';
import { openRig, type Rig } from '../src/serve/rig.ts';
import { differingBits } from '../src/serve/stats.ts';

const TEST_MS = 120_000;
/** A small model: 2 layers, GQA (4 query heads on 2 KV heads), 8-token blocks. */
const SMALL = { layers: 2, dModel: 64, heads: 4, kvHeads: 2, headDim: 32, ffn: 128, vocab: 512, blockTokens: 8 } as const;
const MAX_TOKENS = 256;

function prompt(n: number, seed: number): Uint32Array {
  const rng = new Prng(seed);
  return Uint32Array.from({ length: n }, () => rng.below(SMALL.vocab));
}

function withEngine(layout: 'block-contiguous' | 'per-layer', body: (e: ReferenceEngine, shape: ModelShape, gpu: Gpu) => Promise<void>): Promise<void> {
  return withDeadline((async () => {
    const gpu = await openGpu();
    const shape = modelShape({ ...SMALL, maxTokens: MAX_TOKENS, layout });
    const cache = new PagedKvCache(gpu, { ...SMALL, numBlocks: 96, dtype: 'f16', layout });
    const engine = new ReferenceEngine(gpu, cache, shape);
    try {
      await body(engine, shape, gpu);
    } finally {
      engine.destroy();
      cache.destroy();
      gpu.close();
    }
  })(), TEST_MS, 'engine test');
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test('prefill is batch-invariant: twice, stepped on other blocks, one token at a time at the end', () =>
  withEngine('block-contiguous', async (engine) => {
    const tokens = prompt(200, 1);
    const a = await engine.prefill(tokens, 0, range(0, 25));
    assert.is(differingBits(a, await engine.prefill(tokens, 0, range(0, 25))), 0, 'the same prefill twice');
    assert.ok(a.every(Number.isFinite) && a.some((v) => v !== 0), 'real logits');
    const other = range(40, 25).reverse();
    await engine.prefill(tokens.subarray(0, 77), 0, other);
    await engine.prefill(tokens.subarray(0, 150), 77, other);
    assert.is(differingBits(a, await engine.prefill(tokens, 150, other)), 0, 'three steps of 77, 73 and 50 tokens on reversed blocks');
    assert.equal(await engine.cache.readBlocks(other), await engine.cache.readBlocks(range(0, 25)), 'the same KV bytes');
    assert.is(differingBits(a, await engine.prefill(tokens, 199, other)), 0, 'only the last token recomputed');
    const b = await engine.prefill(prompt(200, 2), 0, range(0, 25));
    assert.ok(differingBits(a, b) > 0, 'another prompt gives other logits');
  }));

test('both cache layouts give the same logits and the same canonical KV bytes', () =>
  withDeadline((async () => {
    const tokens = prompt(120, 3);
    const results: { logits: Float32Array; kv: Uint8Array }[] = [];
    for (const layout of ['block-contiguous', 'per-layer'] as const) {
      await withEngine(layout, async (engine) => {
        const logits = await engine.prefill(tokens, 0, range(10, 15));
        results.push({ logits, kv: await engine.cache.readBlocks(range(10, 15)) });
      });
    }
    assert.is(differingBits(results[0].logits, results[1].logits), 0);
    assert.equal(results[0].kv, results[1].kv);
  })(), TEST_MS, 'layouts'));

test('prefill refuses bad input, naming it', () =>
  withEngine('block-contiguous', async (engine) => {
    const tokens = prompt(40, 4);
    const fails = async (call: () => Promise<unknown>, message: RegExp) => {
      const err = await call().then(() => null, (e: Error) => e);
      assert.ok(err !== null, `expected an error matching ${message}`);
      assert.match(err!.message, message);
    };
    await fails(() => engine.prefill(tokens, 40, range(0, 5)), /start must be in \[0, 39\], got 40/);
    await fails(() => engine.prefill(tokens, 0, range(0, 4)), /40 tokens need 5 blocks, the block table has 4/);
    await fails(() => engine.prefill([1, 2, SMALL.vocab], 0, [0]), /token 2 is 512, not in \[0, 512\)/);
    await fails(() => engine.prefill(prompt(MAX_TOKENS + 1, 5), 0, range(0, 33)), /257 tokens exceed maxTokens 256/);
    await fails(() => engine.prefill(tokens, 0, [0, 1, 2, 3, 999]), /block table entry 4 is 999/);
    assert.is(differingBits(await engine.prefill(tokens, 0, range(0, 5)), await engine.prefill(tokens, 0, range(5, 5))), 0, 'still serves after refusals');
  }));

test('model options are validated, naming the field', () => {
  assert.throws(() => modelShape({ heads: 4, kvHeads: 3 }), /model\.kvHeads: must divide heads \(4\), got 3/);
  assert.throws(() => modelShape({ headDim: 30 }), /model\.headDim: must be a positive integer multiple of 4, got 30/);
  assert.throws(() => modelShape({ layers: 0 }), /model\.layers: must be a positive integer, got 0/);
});

function withRig(gpuChunks: number, body: (rig: Rig) => Promise<void>): Promise<void> {
  return withDeadline((async () => {
    const rig = await openRig({ model: SMALL, chunkTokens: 32, gpuChunks, l1Slots: 32, l2Bytes: 64 << 20, adapter: 'fs', maxPromptTokens: MAX_TOKENS });
    try {
      await body(rig);
      // The store worker holds read locks while it copies new chunks to L2: let it finish first.
      await rig.cache.flush({ timeoutMs: TEST_MS / 2 });
      assert.is(lockedObjects(rig.cache), 0, 'no L1 lock left');
    } finally {
      await rig.close();
    }
  })(), TEST_MS, 'rig test');
}

async function identical(rig: Rig, tokens: Uint32Array) {
  const served = await rig.server.serve(tokens);
  const base = await rig.server.baseline(tokens);
  assert.is(differingBits(served.logits, base.logits), 0, 'bit-identical to a full recompute');
  return served;
}

test('through KvCache + fs + GpuKvConnector: miss, L1 hit, L2 hit, partial hit, all bit-identical', () =>
  withRig(0, async (rig) => {
    const doc = prompt(256, 6);
    const cold = await identical(rig, doc);
    assert.equal([cold.chunks, cold.gpuHits, cold.l1Hits, cold.l2Hits, cold.computedTokens], [8, 0, 0, 0, 256]);
    assert.is(cold.bytesToHost, 8 * rig.chunkBytes, 'every chunk stored');
    const warm = await identical(rig, doc);
    assert.equal([warm.l1Hits, warm.l2Hits, warm.computedTokens], [8, 0, 1], 'whole prompt from L1: only the last token computed');
    assert.is(warm.bytesToDevice, 8 * rig.chunkBytes);
    await rig.cache.flush({ timeoutMs: 30_000 });
    rig.cache.clear();
    const fromL2 = await identical(rig, doc);
    assert.equal([fromL2.l1Hits, fromL2.l2Hits, fromL2.computedTokens], [0, 8, 1], 'whole prompt from L2');
    const branch = new Uint32Array(200);
    branch.set(doc.subarray(0, 100));
    branch.set(prompt(100, 7), 100);
    const partial = await identical(rig, branch);
    assert.equal([partial.chunks, partial.l1Hits + partial.l2Hits, partial.computedTokens], [6, 3, 104], 'the 3 shared chunks restored, the rest computed');
  }));

test('the GPU tier serves chunks in place and a fully cached prompt never writes the tier\'s blocks', () =>
  withRig(16, async (rig) => {
    const doc = prompt(160, 8);
    await identical(rig, doc);
    for (let round = 0; round < 3; round++) {
      const warm = await identical(rig, doc);
      assert.equal([warm.gpuHits, warm.l1Hits, warm.computedTokens, warm.bytesToDevice], [5, 0, 1, 0], `round ${round}: all on the device`);
    }
    const longer = new Uint32Array(224);
    longer.set(doc);
    longer.set(prompt(64, 9), 160);
    const extended = await identical(rig, longer);
    assert.equal([extended.gpuHits, extended.computedTokens], [5, 64]);
  }));

test.run();

/** The serve benchmark's host-side parts: block pool, GPU tier, trace sampling, hit bound, statistics. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BlockPool } from '../src/engine/block-pool.ts';
import { GpuTier } from '../src/engine/gpu-tier.ts';
import { differingBits, quantile, summarize } from '../src/serve/stats.ts';
import { infiniteCacheHits, sampleWorkload, type WorkloadOptions } from '../src/serve/workload.ts';

test('BlockPool hands out distinct blocks, takes them back, refuses to overdraw', () => {
  const pool = new BlockPool(6);
  const a = pool.take(4);
  assert.is(new Set(a).size, 4);
  assert.is(pool.available, 2);
  assert.throws(() => pool.take(3), /3 blocks wanted, 2 of 6 free/);
  pool.give(a);
  assert.is(pool.available, 6);
  assert.throws(() => new BlockPool(0), /size must be a positive integer/);
});

test('GpuTier: LRU prefix, pins keep chunks, strict capacity, evicted blocks go back to the pool', () => {
  const pool = new BlockPool(10);
  const tier = new GpuTier(2, pool);
  const chunk = (key: string) => ({ key, blocks: pool.take(2) });
  tier.insertPrefix([chunk('a'), chunk('b')]);
  assert.is(pool.available, 6);
  assert.equal(tier.pinPrefix(['a', 'b', 'x']).length, 2, 'stops at the first chunk it lacks');
  tier.insertPrefix([chunk('c')]);
  assert.is(tier.size, 2, 'every older chunk pinned: the new one is not kept');
  assert.is(pool.available, 6, 'its blocks came back');
  tier.unpin(['a', 'b']);
  tier.insertPrefix([chunk('c')]);
  assert.equal(tier.pinPrefix(['a']).length, 1, 'a prefix is made recent head last: its tail b went first');
  assert.equal(tier.pinPrefix(['b']).length, 0);
  tier.unpin(['a']);
  assert.throws(() => tier.unpin(['a']), /chunk a is not pinned/);
  const before = pool.available;
  tier.insertPrefix([chunk('c')]);
  assert.is(pool.available, before, 'a chunk held already keeps its blocks; the new ones come back');
  tier.insertPrefix([chunk('p'), chunk('q'), chunk('r')]);
  assert.equal([tier.pinPrefix(['p', 'q']).length, tier.size], [2, 2], 'a prefix longer than the tier keeps its head');
  tier.unpin(['p', 'q']);
  tier.clear();
  assert.is(pool.available, 10, 'every block is back');
  const off = new GpuTier(0, pool);
  off.insertPrefix([{ key: 'a', blocks: pool.take(3) }]);
  assert.equal([off.size, pool.available], [0, 10]);
});

test('GpuTier: extending a held prefix keeps the head recent, so a later eviction takes the new tail', () => {
  const pool = new BlockPool(8);
  const tier = new GpuTier(3, pool);
  tier.insertPrefix([{ key: 'a', blocks: pool.take(2) }, { key: 'b', blocks: pool.take(2) }]);
  assert.is(tier.pinPrefix(['a', 'b']).length, 2);
  tier.insertPrefix([{ key: 'a' }, { key: 'b' }, { key: 'c', blocks: pool.take(2) }]);
  tier.unpin(['a', 'b']);
  tier.insertPrefix([{ key: 'x', blocks: pool.take(2) }]);
  assert.equal([tier.pinPrefix(['a', 'b', 'c']).length, tier.size], [2, 3], 'c, the tail, went; the head a, b stayed');
  tier.unpin(['a', 'b']);
  tier.clear();
  assert.is(pool.available, 8);
});

const OPTS: WorkloadOptions = { keepOneIn: 2, tokensPerBlock: 4, maxBlocks: 3, maxRequests: 100, vocab: 50, seed: 7 };

test('sampleWorkload keeps whole prefix groups, caps prompts, and maps equal ids to equal tokens', () => {
  const trace = Array.from({ length: 40 }, (_, i) => [i % 10, 100 + i, 200 + i, 300 + i]);
  const kept = sampleWorkload(trace, OPTS);
  const groups = new Set(kept.map((r) => trace[r.traceIndex][0]));
  for (const [i, ids] of trace.entries()) {
    assert.is(kept.some((r) => r.traceIndex === i), groups.has(ids[0]), `request ${i} is kept exactly when its group is`);
  }
  assert.ok(groups.size > 0 && groups.size < 10, `some groups kept: ${groups.size}`);
  for (const r of kept) {
    assert.is(r.tokens.length, 12, '3 blocks of 4 tokens');
    assert.ok(r.tokens.every((t) => t < 50));
  }
  const sameGroup = kept.filter((r) => trace[r.traceIndex][0] === trace[kept[0].traceIndex][0]);
  assert.ok(sameGroup.length >= 2);
  assert.equal(sameGroup[0].tokens.subarray(0, 4), sameGroup[1].tokens.subarray(0, 4), 'the shared first block');
  assert.not.equal(sameGroup[0].tokens.subarray(4, 8), sameGroup[1].tokens.subarray(4, 8), 'different second blocks');
  assert.is(sampleWorkload(trace, { ...OPTS, maxRequests: 3 }).length, 3);
  assert.equal(sampleWorkload(trace, OPTS).map((r) => r.traceIndex), kept.map((r) => r.traceIndex), 'deterministic');
  assert.not.equal(sampleWorkload(trace, { ...OPTS, seed: 8 }).map((r) => r.traceIndex), kept.map((r) => r.traceIndex), 'the seed picks other groups');
});

test('infiniteCacheHits counts leading runs of keys seen before', () => {
  assert.is(infiniteCacheHits([['a', 'b', 'c'], ['a', 'b', 'x'], ['a', 'y', 'c'], ['q']]), 0 + 2 + 1 + 0);
  assert.is(infiniteCacheHits([]), 0);
});

test('quantile, summarize and differingBits', () => {
  assert.is(quantile([5, 1, 3, 2, 4], 0.5), 3);
  assert.is(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  assert.equal(summarize([1, 2, 3]), { p50: 2, p90: 3, mean: 2 });
  assert.is(differingBits(Float32Array.of(1, 2, 3), Float32Array.of(1, 2, 3)), 0);
  assert.is(differingBits(Float32Array.of(0, NaN), Float32Array.of(-0, NaN)), 1, '-0 differs from 0 in its bits; the same NaN does not');
  assert.is(differingBits(Float32Array.of(1), Float32Array.of(1, 2)), 2);
});

test.run();

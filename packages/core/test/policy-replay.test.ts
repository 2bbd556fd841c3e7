// The trace replay behind `kvtier-bench policies`: prefix hits, exact eviction, Belady.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { createEvictionPolicy } from '../src/policies/eviction-policies.ts';
import { replayBelady, replayPolicy, type ChunkTrace } from '../src/policies/replay.ts';

/** The Mooncake trace the repository ships (packages/bench/data; source and licence in the README there). */
const TRACE_PATH = fileURLToPath(new URL('../../bench/data/mooncake_synthetic.jsonl', import.meta.url));

function loadBundledTrace(): ChunkTrace {
  return readFileSync(TRACE_PATH, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { hash_ids: number[] }).hash_ids);
}

const lru = () => createEvictionPolicy<number>('lru');
const unbounded = (trace: ChunkTrace) => replayPolicy(trace, createEvictionPolicy<number>('noop'), Infinity);

test('a hit is the longest run of leading chunks already cached', () => {
  const r = unbounded([[1, 2, 3], [1, 2, 4], [5, 2, 3], [1, 9, 3]]);
  // request 2: 1, 2 hit (4 misses); request 3: 5 misses first; request 4: 1 hits, 9 misses.
  assert.equal(r, { hits: 3, references: 12, hitRatio: 3 / 12 });
});

test('the bundled Mooncake trace: an infinite cache hits 64.0% of 121,877 references', () => {
  const r = unbounded(loadBundledTrace());
  assert.is(r.references, 121_877);
  assert.is(r.hits, 77_953);
  assert.is((r.hitRatio * 100).toFixed(1), '64.0');
});

test('eviction keeps the prefix: the tail of the older request is evicted first', () => {
  // Capacity 3: request 2 needs one slot; LRU takes chunk 2 (the tail of request 1), so
  // request 3 still hits chunk 1. Evicting the head (the reference system's order) would hit 0.
  const r = replayPolicy([[1, 2], [3, 4], [1, 2]], lru(), 3);
  assert.is(r.hits, 1);
});

test('exactly the excess is evicted: the cache stays full, never over', () => {
  const trace: number[][] = [];
  for (let i = 0; i < 200; i++) trace.push([i % 7, 100 + (i % 13), 1000 + i]);
  for (const name of ['lru', 'arc', 's3fifo']) {
    const policy = createEvictionPolicy<number>(name);
    replayPolicy(trace, policy, 10);
    assert.is(policy.size, 10, name);
  }
});

test('a request larger than the cache inserts the prefix that fits', () => {
  const r = replayPolicy([[1, 2, 3], [1, 2, 3]], lru(), 2);
  assert.is(r.hits, 2);
});

test('a policy that does not give the victims needed is reported, not silently tolerated', () => {
  assert.throws(
    () => replayPolicy([[1], [2]], createEvictionPolicy<number>('noop'), 1),
    (e: unknown) => e instanceof KvtierError && e.code === ErrorCode.INVALID_ARGUMENT && /'noop' gave 0 victims, 1 were needed/.test(e.message),
  );
});

test('an invalid capacity is an INVALID_ARGUMENT error', () => {
  for (const capacity of [0, -1, 2.5]) {
    assert.throws(() => replayBelady([[1]], capacity), (e: unknown) => e instanceof KvtierError && e.code === ErrorCode.INVALID_ARGUMENT);
  }
});

test('Belady evicts the chunk used farthest in the future', () => {
  // Capacity 2. Request 3 evicts 2 (next used at request 5) rather than 1 (request 4).
  const trace = [[1], [2], [3], [1], [2]];
  assert.is(replayBelady(trace, 2).hits, 1);
  assert.is(replayPolicy(trace, lru(), 2).hits, 0);
});

test('Belady breaks ties by depth: the deeper chunk of a chain goes first', () => {
  // Chunks 1 and 2 are next used by the same request; keeping 1 keeps a prefix hit.
  const trace = [[1, 2], [3], [1, 2]];
  assert.is(replayBelady(trace, 2).hits, 1);
});

test('an unbounded Belady replay equals the unbounded policy replay', () => {
  const trace = [[1, 2, 3], [1, 2, 4], [5, 2, 3], [1, 9, 3]];
  assert.equal(replayBelady(trace, Infinity), unbounded(trace));
});

test('on the bundled trace, Belady is above every online policy at 2000 chunks', () => {
  const trace = loadBundledTrace();
  const belady = replayBelady(trace, 2000).hitRatio;
  for (const name of ['lru', 'arc', 's3fifo']) {
    const online = replayPolicy(trace, createEvictionPolicy<number>(name), 2000).hitRatio;
    assert.ok(online > 0.1 && online < belady, `${name}: ${online} vs belady ${belady}`);
  }
});

test('default (adaptive) stays within 0.002 hit ratio of the best of lru/arc/s3fifo at 2000, 5000 and 10000 chunks', () => {
  const trace = loadBundledTrace();
  for (const capacity of [2000, 5000, 10_000]) {
    const ratio = (name: string) => replayPolicy(trace, createEvictionPolicy<number>(name, { capacity }), capacity).hitRatio;
    const best = Math.max(ratio('lru'), ratio('arc'), ratio('s3fifo'));
    assert.is(createEvictionPolicy<number>('default').name, 'adaptive');
    assert.ok(ratio('default') >= best - 0.002, `capacity ${capacity}: default ${ratio('default')}, best classic ${best}`);
  }
});

test.run();

// Prefetch controller and facade through the engine: real workers, real L1, mock adapters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { AdapterCounter, Counter, engineCounters, adapterHosts } from '@kvtier/core/testing';
import { OBJECT_BYTES, inL2, makeKeys, pattern, pick, prefetch, readLocks, seedL2, slice, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

const TWO = [{ type: 'mock' }, { type: 'mock' }];

test('L2 has keys 0..4 -> 5, all 5 read-locked in L1', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  await seedL2(cache, keys);
  assert.is(await prefetch(cache, keys), 5);
  assert.equal(readLocks(cache, keys), [1, 1, 1, 1, 1]);
  assert.is(await adapterHosts(cache)[0].pinCount(), 0);
  cache.finishReadPrefetched(keys);
}));

test('L2 has {0,1,3,4} -> 2; keys 0,1 read-locked; keys 2,3,4 not in L1', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  await seedL2(cache, pick(keys, [0, 1, 3, 4]));
  assert.is(await prefetch(cache, keys), 2);
  assert.equal(readLocks(cache, keys), [1, 1, -1, -1, -1]);
  assert.is(await adapterHosts(cache)[0].pinCount(), 0, 'pins of the trimmed suffix released');
  cache.finishReadPrefetched(slice(keys, 0, 2));
}));

test('L2 has {1,2,3} (key 0 missing) -> 0, nothing in L1', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  await seedL2(cache, slice(keys, 1));
  assert.is(await prefetch(cache, keys), 0);
  assert.equal(readLocks(cache, keys), [-1, -1, -1, -1]);
  assert.is(await adapterHosts(cache)[0].pinCount(), 0);
}));

test('two adapters {0,1} and {2,3} -> 4', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  await seedL2(cache, keys);
  await adapterHosts(cache)[0].delete(slice(keys, 2));
  await adapterHosts(cache)[1].delete(slice(keys, 0, 2));
  assert.is(await prefetch(cache, keys), 4);
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.LOAD_KEYS), 2);
  assert.is(engineCounters(cache).getAdapter(1, AdapterCounter.LOAD_KEYS), 2);
  cache.finishReadPrefetched(keys);
}, TWO));

test('overlapping {0,1} and {1,2} -> 3, key 1 loaded from adapter 0', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  await seedL2(cache, keys);
  await adapterHosts(cache)[0].delete(slice(keys, 2));
  await adapterHosts(cache)[1].delete(slice(keys, 0, 1));
  assert.is(await prefetch(cache, keys), 3);
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.LOAD_KEYS), 2);
  assert.is(engineCounters(cache).getAdapter(1, AdapterCounter.LOAD_KEYS), 1);
  for (let a = 0; a < 2; a++) assert.is(await adapterHosts(cache)[a].pinCount(), 0);
  cache.finishReadPrefetched(keys);
}, TWO));

test('nothing stored -> 0', () => withCache(async (cache) => {
  assert.is(await prefetch(cache, makeKeys(3)), 0);
}));

test('no adapters -> 0', () => withCache(async (cache) => {
  assert.is(await prefetch(cache, makeKeys(3)), 0);
}, []));

test('queryPrefetch: null while running, the count once, then null; a hand-made handle (unknown id) -> INVALID_ARGUMENT', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  await seedL2(cache, keys);
  const h = cache.submitPrefetch(keys);
  assert.is(cache.queryPrefetch(h), null, 'still loading (the adapter moves 100 KB/s)');
  let count: number | null = null;
  while (count === null) {
    await new Promise((r) => setTimeout(r, 5));
    count = cache.queryPrefetch(h);
  }
  assert.is(count, 2);
  assert.is(cache.queryPrefetch(h), null);
  // A handle is an object this cache minted (docs/core/KvCache.md): a hand-made one is refused, not taken for an unknown id.
  assert.throws(() => cache.queryPrefetch({ requestId: 123456, l1PrefixHits: 0, totalKeys: 1 }),
    (err: unknown) => err instanceof KvtierError && err.code === ErrorCode.INVALID_ARGUMENT);
  cache.finishReadPrefetched(keys);
}, [{ type: 'mock', bandwidthGBps: 0.0001 }]));

test('maxInFlight 2 with 4 requests of 2 keys -> [2,2,2,2]', () => withCache(async (cache) => {
  const keys = makeKeys(8);
  await seedL2(cache, keys);
  const handles = [0, 1, 2, 3].map((r) => cache.submitPrefetch(slice(keys, r * 2, r * 2 + 2)));
  const counts = await Promise.all(handles.map((h) => cache.waitPrefetch(h, { timeoutMs: 10_000 })));
  assert.equal(counts, [2, 2, 2, 2]);
  cache.finishReadPrefetched(keys);
}, [{ type: 'mock' }], { prefetchMaxInFlight: 2 }));

test('sequential requests of 3 and 4 keys -> 3 then 4', () => withCache(async (cache) => {
  const keys = makeKeys(7);
  await seedL2(cache, keys);
  assert.is(await prefetch(cache, slice(keys, 0, 3)), 3);
  assert.is(await prefetch(cache, slice(keys, 3)), 4);
  cache.finishReadPrefetched(keys);
}));

test('extraCount 0 / 1 / 3: 1, 2, 4 releases', () => withCache(async (cache) => {
  for (const extraCount of [0, 1, 3]) {
    const keys = makeKeys(2);
    await seedL2(cache, keys);
    assert.is(await prefetch(cache, keys, extraCount), 2);
    for (let r = 0; r < extraCount; r++) {
      cache.finishReadPrefetched(keys);
      assert.ok(cache.readPrefetched(keys) !== null, `readable after ${r + 1} of ${extraCount + 1} releases`);
    }
    cache.finishReadPrefetched(keys);
    assert.equal(readLocks(cache, keys), [-1, -1], 'gone after the last release');
  }
}));

test('extraCount 1 with a gap: only prefix keys get 2 locks; keys past the gap are not in L1', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  await seedL2(cache, pick(keys, [0, 1, 3]));
  assert.is(await prefetch(cache, keys, 1), 2);
  assert.equal(readLocks(cache, keys), [2, 2, -1, -1]);
  cache.finishReadPrefetched(slice(keys, 0, 2), { extraCount: 1 });
}));

test('key 1 already write-locked in L1 and L2 has {0,1,2} -> 1; key 2 does not stay in L1', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  await seedL2(cache, keys);
  const w = cache.reserveWrite(slice(keys, 1, 2), OBJECT_BYTES);
  assert.is(w.codes[0], 0);
  assert.is(await prefetch(cache, keys), 1);
  assert.is(cache.l1.state(keys, 2), null);
  cache.finishReadPrefetched(slice(keys, 0, 1));
  cache.l1.delete(slice(keys, 1, 2), { force: true });
}));

test('L1 holds {0,1} and L2 holds {2,3,4} -> 5', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  await seedL2(cache, slice(keys, 2));
  writeKeys(cache, slice(keys, 0, 2));
  const h = cache.submitPrefetch(keys);
  assert.is(h.l1PrefixHits, 2);
  assert.is(await cache.waitPrefetch(h, { timeoutMs: 10_000 }), 5);
  const views = cache.readPrefetched(keys)!;
  assert.equal(views[0], pattern(slice(keys, 0, 2), 0));
  assert.equal(views[4], pattern(slice(keys, 2), 2));
  cache.finishReadPrefetched(keys);
}));

test('L1 hits after the first gap are released at submit (deletable afterwards)', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  writeKeys(cache, pick(keys, [0, 2, 3]));
  await storeSettled(cache);
  const h = cache.submitPrefetch(keys);
  assert.is(h.l1PrefixHits, 1);
  assert.equal(readLocks(cache, keys).slice(2), [0, 0]);
  assert.equal(Array.from(cache.l1.delete(slice(keys, 2))), [0, 0]);
  assert.is(await cache.waitPrefetch(h, { timeoutMs: 10_000 }), 1);
  cache.finishReadPrefetched(slice(keys, 0, 1));
}));

test('readPrefetched after a full hit yields the 5 slots in key order; afterwards all deletable', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  await seedL2(cache, keys);
  assert.is(await prefetch(cache, keys), 5);
  const views = cache.readPrefetched(keys)!;
  views.forEach((v, i) => assert.equal(v, pattern(keys, i)));
  cache.finishReadPrefetched(keys);
  assert.equal(readLocks(cache, keys), [-1, -1, -1, -1, -1], 'temporary objects left with their last lock');
}));

test('prefetch keys[1:], then readPrefetched(all keys) -> null, and keys[1:] end up unlocked', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  await seedL2(cache, keys);
  assert.is(await prefetch(cache, slice(keys, 1)), 3);
  assert.is(cache.readPrefetched(keys), null);
  assert.equal(readLocks(cache, keys), [-1, -1, -1, -1]);
}));

test('two concurrent prefetches of the same keys both complete correctly', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  await seedL2(cache, keys);
  const a = cache.submitPrefetch(keys);
  const b = cache.submitPrefetch(keys);
  assert.equal(await Promise.all([a, b].map((h) => cache.waitPrefetch(h, { timeoutMs: 10_000 }))), [5, 5]);
  assert.equal(readLocks(cache, keys), [2, 2, 2, 2, 2]);
  cache.readPrefetched(keys)!.forEach((v, i) => assert.equal(v, pattern(keys, i)));
  cache.finishReadPrefetched(keys);
  cache.finishReadPrefetched(keys);
}, [{ type: 'mock', bandwidthGBps: 0.001 }]));

test('a load whose integrity check fails is a miss for that key and its suffix; the bad object is deleted', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  await seedL2(cache, keys);
  assert.is(await prefetch(cache, keys), 0);
  assert.equal(await inL2(cache, 0, keys), [false, false, false]);
  assert.equal(readLocks(cache, keys), [-1, -1, -1]);
}, [{ type: 'fault', corruptRate: 1, inner: { type: 'mock' } }]));

test('hit accounting: requested keys and hits per tier, in the counters and in metrics()', () => withCache(async (cache) => {
  const keys = makeKeys(6);
  await writeKeys(cache, slice(keys, 0, 2));
  await seedL2(cache, slice(keys, 2, 4));
  assert.is(await prefetch(cache, keys), 4, '2 from L1, 2 from L2, then a miss');
  cache.finishReadPrefetched(slice(keys, 0, 4));
  assert.is(await prefetch(cache, slice(keys, 4)), 0);
  const c = engineCounters(cache);
  assert.equal([c.get(Counter.PREFETCH_REQUESTED_KEYS), c.get(Counter.PREFETCH_L1_HIT_KEYS), c.get(Counter.PREFETCH_L2_HIT_KEYS)], [8, 2, 2]);
  const text = await cache.metrics();
  assert.match(text, /^kvtier_prefetch_requested_keys_total 8$/m);
  assert.match(text, /^kvtier_prefetch_l1_hit_keys_total 2$/m);
  assert.match(text, /^kvtier_prefetch_l2_hit_keys_total 2$/m);
}));

test.run();

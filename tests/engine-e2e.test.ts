// Storage manager: the thin end-to-end paths through real workers, real L1 and the mock adapter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { L1Error, objectKeys } from '@kvtier/core';
import { OBJECT_BYTES, inL2, makeKeys, pattern, pick, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

test('write 5 keys -> prefetch -> 5, readable with the written bytes', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  writeKeys(cache, keys);
  const h = cache.submitPrefetch(keys);
  assert.is(await cache.waitPrefetch(h, { timeoutMs: 5000 }), 5);
  const views = cache.readPrefetched(keys);
  assert.ok(views !== null);
  views!.forEach((v, i) => assert.equal(v, pattern(keys, i)));
  cache.finishReadPrefetched(keys);
  await storeSettled(cache);
}));

test('L2 path: write -> wait for L2 -> clear L1 -> prefetch -> 5 from L2, readable', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  writeKeys(cache, keys);
  await storeSettled(cache);
  assert.equal(await inL2(cache, 0, keys), [true, true, true, true, true]);
  assert.is(cache.clear(), 5);
  const h = cache.submitPrefetch(keys);
  assert.is(h.l1PrefixHits, 0);
  assert.is(await cache.waitPrefetch(h, { timeoutMs: 5000 }), 5);
  const views = cache.readPrefetched(keys);
  assert.ok(views !== null);
  views!.forEach((v, i) => { assert.is(v.length, OBJECT_BYTES); assert.equal(v, pattern(keys, i)); });
  cache.finishReadPrefetched(keys);
  assert.is(cache.l1.state(keys, 0), null, 'prefetched objects are temporary and leave at their last read');
}));

test('write {0,1,3,4} -> prefetch -> 2, and keys 3,4 are unlocked afterwards', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  writeKeys(cache, pick(keys, [0, 1, 3, 4]));
  await storeSettled(cache);
  const h = cache.submitPrefetch(keys);
  assert.is(await cache.waitPrefetch(h, { timeoutMs: 5000 }), 2);
  assert.is(cache.l1.state(keys, 3)!.readLocks, 0);
  assert.is(cache.l1.state(keys, 4)!.readLocks, 0);
  cache.finishReadPrefetched(pick(keys, [0, 1]));
}));

test('ObjectKeys are accepted wherever digests are', () => withCache(async (cache) => {
  const keys = objectKeys('llama', 0, Array.from({ length: 3 * 16 }, (_, i) => i), { chunkSize: 16 });
  const r = cache.reserveWrite(keys, OBJECT_BYTES);
  assert.equal(Array.from(r.codes), [0, 0, 0]);
  cache.finishWrite(keys);
  await storeSettled(cache);
  cache.clear();
  assert.is(await cache.waitPrefetch(cache.submitPrefetch(keys), { timeoutMs: 5000 }), 3);
  assert.is(cache.readPrefetched(keys)!.length, 3);
  cache.finishReadPrefetched(keys);
}));

test('reserveWrite for 1 and 5 keys returns slots; an over-full batch returns a prefix, every returned slot usable', () => withCache(async (cache) => {
  const one = makeKeys(1);
  const five = makeKeys(5);
  assert.is(cache.reserveWrite(one, OBJECT_BYTES).codes[0], 0);
  assert.equal(Array.from(cache.reserveWrite(five, OBJECT_BYTES).codes), [0, 0, 0, 0, 0]);
  const over = makeKeys(4);
  const r = cache.reserveWrite(over, OBJECT_BYTES);
  assert.equal(Array.from(r.codes), [0, 0, L1Error.OUT_OF_MEMORY, L1Error.OUT_OF_MEMORY], 'the 8-slot L1 holds 1 + 5 + 2');
  const granted = pick(over, [0, 1]);
  for (let i = 0; i < 2; i++) cache.view(r.slots[i], OBJECT_BYTES).set(pattern(granted, i));
  cache.finishWrite(granted);
  assert.is(await cache.waitPrefetch(cache.submitPrefetch(granted), { timeoutMs: 5000 }), 2);
  cache.readPrefetched(granted)!.forEach((v, i) => assert.equal(v, pattern(granted, i)));
  cache.finishReadPrefetched(granted);
  cache.clear({ force: true });
  // L1 is full on purpose: no eviction policy, or the worker could evict `granted` before the prefetch.
}, [], { l1: { capacityBytes: 8 * OBJECT_BYTES, slotBytes: OBJECT_BYTES }, l1Eviction: { policy: 'noop' } }));

test('nothing anywhere -> 0', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  assert.is(await cache.waitPrefetch(cache.submitPrefetch(keys), { timeoutMs: 5000 }), 0);
}));

test('status() is a tree with healthy at every node; metrics() is Prometheus text', () => withCache(async (cache) => {
  const status = await cache.status();
  assert.ok(status.healthy);
  assert.ok(status.l1.healthy);
  for (const [name, w] of Object.entries(status.workers)) assert.ok(w.healthy, name);
  assert.is(status.adapters.length, 1);
  assert.ok(status.adapters[0].healthy);
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await storeSettled(cache);
  const text = await cache.metrics();
  assert.match(text, /^kvtier_l1_writes_total 2$/m);
  assert.match(text, /^kvtier_l2_store_keys_total\{adapter="0"\} 2$/m);
  assert.match(text, /^kvtier_l1_objects 2$/m);
}));

test.run();

// L1 watermark eviction and the unified L2 eviction controller, through the engine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { HEADER_BYTES, withDeadline } from '@kvtier/core/authoring';
import { AdapterCounter, Counter, engineCounters, adapterHosts, newPinOwner } from '@kvtier/core/testing';
import { OBJECT_BYTES, eventually, inL2, makeKeys, openCache, prefetch, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

const TEN_SLOTS = { l1: { capacityBytes: 10 * OBJECT_BYTES, slotBytes: OBJECT_BYTES }, evictionIntervalMs: 10 };

test('L1 at the watermark evicts through the policy, the tail of the oldest batch first, down to below the watermark', () => withCache(async (cache) => {
  const old = makeKeys(4);
  const young = makeKeys(4);
  writeKeys(cache, old);
  await storeSettled(cache);
  writeKeys(cache, young);
  await storeSettled(cache);
  // 8/10 ≥ 0.8: one cycle evicts max(1, ⌊0.2 × 8⌋) = 1, leaving 7/10 < 0.8.
  await eventually(() => engineCounters(cache).get(Counter.L1_EVICTIONS) === 1, 'one eviction');
  assert.is(cache.l1.state(old, 3), null, 'the tail of the oldest batch left first');
  for (let i = 0; i < 3; i++) assert.ok(cache.l1.state(old, i) !== null, `key ${i} of the oldest batch stays`);
  for (let i = 0; i < 4; i++) assert.ok(cache.l1.state(young, i) !== null);
  await new Promise((r) => setTimeout(r, 100));
  assert.is(engineCounters(cache).get(Counter.L1_EVICTIONS), 1, 'below the watermark nothing more leaves');
}, [], TEN_SLOTS));

test('L1 eviction skips locked keys', () => withCache(async (cache) => {
  const locked = makeKeys(7);
  writeKeys(cache, locked);
  await storeSettled(cache);
  assert.is(await prefetch(cache, locked), 7);
  // 9/10 ≥ 0.8 with 7 locked: the 2 unlocked objects go, the locked ones stay.
  const unlocked = makeKeys(2);
  writeKeys(cache, unlocked);
  await eventually(() => cache.l1.state(unlocked, 0) === null && cache.l1.state(unlocked, 1) === null, 'the unlocked objects to be evicted');
  for (let i = 0; i < 7; i++) assert.ok(cache.l1.state(locked, i) !== null, `locked object ${i} stays`);
  cache.finishReadPrefetched(locked);
}, [], TEN_SLOTS));

const OBJECT_L2_BYTES = OBJECT_BYTES + HEADER_BYTES;

test('L2 at or above its watermark deletes ratio × tracked keys, oldest first', () => withCache(async (cache) => {
  const old = makeKeys(3);
  const young = makeKeys(3);
  writeKeys(cache, old);
  await storeSettled(cache);
  writeKeys(cache, young);
  // 6 objects of 10: ≥ 0.5 → delete ⌊0.5 × 6⌋ = 3, the oldest.
  await eventually(() => engineCounters(cache).getAdapter(0, AdapterCounter.EVICTED_KEYS) >= 3, 'L2 eviction');
  assert.equal(await inL2(cache, 0, old), [false, false, false]);
  assert.equal(await inL2(cache, 0, young), [true, true, true]);
}, [{ type: 'mock', capacityBytes: 10 * OBJECT_L2_BYTES, eviction: { policy: 'lru', watermark: 0.5, ratio: 0.5 } }], { evictionIntervalMs: 10 }));

test('below the watermark nothing is deleted', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  writeKeys(cache, keys);
  await storeSettled(cache);
  await eventually(() => engineCounters(cache).getAdapter(0, AdapterCounter.USAGE_POLLS) > 5, 'a few eviction cycles');
  assert.equal(await inL2(cache, 0, keys), [true, true, true, true]);
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.EVICTED_KEYS), 0);
}, [{ type: 'mock', capacityBytes: 10 * OBJECT_L2_BYTES, eviction: { policy: 'lru', watermark: 0.5, ratio: 0.5 } }], { evictionIntervalMs: 10 }));

test('below the watermark nothing is evicted; adapters without an eviction block are never polled', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  writeKeys(cache, keys);
  await storeSettled(cache);
  await eventually(() => engineCounters(cache).getAdapter(0, AdapterCounter.USAGE_POLLS) > 5, 'a few eviction cycles');
  assert.equal(await inL2(cache, 0, keys), [true, true, true, true], 'usage 4/100 < 0.5: nothing deleted');
  assert.is(engineCounters(cache).getAdapter(1, AdapterCounter.USAGE_POLLS), 0, 'adapter 1 has no eviction block');
}, [
  { type: 'mock', capacityBytes: OBJECT_L2_BYTES * 100, eviction: { policy: 'lru', watermark: 0.5, ratio: 1 } },
  { type: 'mock', capacityBytes: OBJECT_L2_BYTES * 4 },
], { evictionIntervalMs: 10 }));

test('an eviction block on an adapter of unknown capacity (it would never evict) is refused at open', () => withDeadline((async () => {
  const err = await openCache([{ type: 'mock', eviction: { policy: 'lru' } }]).then((c) => c.close().then(() => undefined), (e: unknown) => e);
  assert.instance(err, KvtierError);
  assert.is((err as KvtierError).code, ErrorCode.CONFIG);
  assert.match((err as KvtierError).message, /^config\.adapters\[0\]\.eviction: needs adapters\[0\]\.capacityBytes/);
})(), 10_000, 'open'));

test('a pinned key is never deleted and does not stall later cycles', () => withCache(async (cache) => {
  const pinned = makeKeys(2);
  writeKeys(cache, pinned);
  await storeSettled(cache);
  const owner = newPinOwner(cache);
  await adapterHosts(cache)[0].lookupAndLock(pinned, owner);
  // Twice: usage 6/8 ≥ 0.3 with ratio 1 deletes every unpinned key; the pinned ones stay.
  for (let round = 0; round < 2; round++) {
    const keys = makeKeys(4);
    writeKeys(cache, keys);
    await eventually(async () => (await inL2(cache, 0, keys)).every((x) => !x), `round ${round}: unpinned keys deleted`);
    assert.equal(await inL2(cache, 0, pinned), [true, true], `round ${round}: pinned keys stay`);
  }
  await adapterHosts(cache)[0].unlock(pinned, owner);
}, [{ type: 'mock', capacityBytes: 8 * OBJECT_L2_BYTES, eviction: { policy: 'lru', watermark: 0.3, ratio: 1 } }], { evictionIntervalMs: 10 }));

test('an L1 allocation that fell back to emergency eviction wakes the eviction worker at once', () => withCache(async (cache) => {
  const keys = makeKeys(10);
  writeKeys(cache, keys.slice(0, 9 * 4));
  // The eviction loop sleeps 60 s between cycles; only the emergency wake can run it now.
  await new Promise((r) => setTimeout(r, 100));
  const before = engineCounters(cache).get(Counter.L1_EVICTIONS);
  writeKeys(cache, keys.slice(9 * 4));
  const extra = makeKeys(1);
  const r = cache.reserveWrite(extra, OBJECT_BYTES);
  assert.is(r.codes[0], 0, 'the full L1 made room inline');
  cache.finishWrite(extra);
  await eventually(() => engineCounters(cache).get(Counter.L1_EVICTIONS) > before, 'the woken eviction worker to evict', 3_000);
}, [], { ...TEN_SLOTS, evictionIntervalMs: 60_000 }));

test.run();

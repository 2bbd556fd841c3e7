// Store controller through the engine: real workers, real L1, mock and fault adapters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '@kvtier/core';
import { AdapterCounter, AdapterOp, Counter, engineCounters, soak } from '@kvtier/core/testing';
import { OBJECT_BYTES, eventually, inL2, makeKeys, openCache, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

test('start and stop with one adapter and with none', async () => {
  for (const adapters of [[{ type: 'mock' }], []]) {
    const cache = await openCache(adapters);
    const status = await cache.status();
    assert.ok(status.healthy);
    assert.equal(Object.keys(status.workers).sort(), ['eviction', 'prefetch', 'store', ...adapters.map((_, i) => `adapter[${i}]`)].sort());
    await cache.close();
  }
});

test('one L1 write reaches L2', () => withCache(async (cache) => {
  const keys = makeKeys(1);
  writeKeys(cache, keys);
  await storeSettled(cache);
  assert.equal(await inL2(cache, 0, keys), [true]);
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.STORE_KEYS), 1);
}));

test('5 keys -> 5 stored', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  writeKeys(cache, keys);
  await storeSettled(cache);
  assert.equal(await inL2(cache, 0, keys), [true, true, true, true, true]);
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.STORE_KEYS), 5);
}));

test('after the L2 store the read lock is released: the key is writable in mode update', () => withCache(async (cache) => {
  const keys = makeKeys(1);
  writeKeys(cache, keys);
  await storeSettled(cache);
  const r = cache.reserveWrite(keys, OBJECT_BYTES, { mode: 'update' });
  assert.is(r.codes[0], 0);
  cache.finishWrite(keys);
  await storeSettled(cache);
}));

test('two write batches to one adapter: both reach L2, all read locks released', () => withCache(async (cache) => {
  const a = makeKeys(3);
  const b = makeKeys(4);
  writeKeys(cache, a);
  writeKeys(cache, b);
  await storeSettled(cache);
  assert.ok((await inL2(cache, 0, a)).every(Boolean));
  assert.ok((await inL2(cache, 0, b)).every(Boolean));
}));

test('two adapters: both get every key; the read lock is held until the slower one completes', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  writeKeys(cache, keys);
  await eventually(async () => (await inL2(cache, 0, keys)).every(Boolean), 'adapter 0 to store');
  // Adapter 1 moves 20 KB/s: 12 KiB take ~600 ms, so the lock is still held now.
  assert.not.ok((await inL2(cache, 1, keys)).every(Boolean));
  assert.ok(cache.l1.state(keys, 0)!.readLocks > 0, 'read lock held while adapter 1 stores');
  await storeSettled(cache);
  assert.ok((await inL2(cache, 1, keys)).every(Boolean));
}, [{ type: 'mock' }, { type: 'mock', bandwidthGBps: 0.00002 }]));

test('no adapters: after a write no read lock remains', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await storeSettled(cache);
  assert.is(cache.l1.state(keys, 0)!.readLocks, 0);
  assert.is(cache.l1.state(keys, 1)!.dirty, false);
}, []));

test('skip_l1: the key leaves L1 after the store and can be created again in mode new', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await eventually(() => cache.l1.state(keys, 0) === null && cache.l1.state(keys, 1) === null, 'skip_l1 to drop the keys');
  assert.ok((await inL2(cache, 0, keys)).every(Boolean));
  const r = cache.reserveWrite(keys, OBJECT_BYTES, { mode: 'new' });
  assert.equal(Array.from(r.codes), [0, 0]);
  cache.finishWrite(keys);
  await eventually(() => cache.l1.state(keys, 0) === null, 'the rewrite to be stored and dropped');
}, [{ type: 'mock' }], { storePolicy: 'skip_l1' }));

test('prefetched (temporary) objects are never stored', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  writeKeys(cache, keys);
  await storeSettled(cache);
  cache.clear();
  assert.is(await cache.waitPrefetch(cache.submitPrefetch(keys), { timeoutMs: 5000 }), 3);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.STORE_KEYS), 3, 'only the original write was stored');
  assert.is((await cache.status()).l1.dirty, 0);
  cache.finishReadPrefetched(keys);
}));

test('an adapter whose store fails: read locks released, failure counted, key stays in L1', () => soak('engine-store/failing-store', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await eventually(() => engineCounters(cache).get(Counter.STORE_DROPPED_KEYS) === 2, 'the store to be dropped after its retries');
  await storeSettled(cache);
  assert.is(engineCounters(cache).getFailures(0, AdapterOp.STORE), 3, 'first attempt and 2 retries failed');
  assert.is(engineCounters(cache).get(Counter.STORE_RETRIES), 2);
  assert.ok(cache.l1.state(keys, 0) !== null && cache.l1.state(keys, 1) !== null);
  assert.equal(await inL2(cache, 0, keys), [false, false]);
  assert.match(await cache.metrics(), /kvtier_l2_failures_total\{adapter="0",op="store",reason="error"\} 3/);
  // 2 keys written, 3 failed store calls.
  return 5;
}, [{ type: 'fault', storeErrorRate: 1, inner: { type: 'mock' } }], { store: { maxRetries: 2, backoffMs: 1 } })));

test('flush resolves once every object written before it reached every adapter', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  writeKeys(cache, keys);
  // 5 × 4 KiB at 100 KB/s per adapter: ~0.2 s in flight when flush is called.
  await cache.flush({ timeoutMs: 10_000 });
  for (const a of [0, 1]) assert.is(engineCounters(cache).getAdapter(a, AdapterCounter.STORE_KEYS), 5, `adapter ${a} stored every key`);
  for (const a of [0, 1]) assert.equal(await inL2(cache, a, keys), [true, true, true, true, true]);
}, [{ type: 'mock', bandwidthGBps: 0.0001 }, { type: 'mock', bandwidthGBps: 0.0001 }]));

test('flush counts a store that failed every retry as done', () => soak('engine-store/flush-failing-store', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await cache.flush({ timeoutMs: 10_000 });
  assert.is(engineCounters(cache).get(Counter.STORE_DROPPED_KEYS), 2);
  assert.is(cache.l1.state(keys, 0)!.storing, false);
  // 2 keys written, 1 flush.
  return 3;
}, [{ type: 'fault', storeErrorRate: 1, inner: { type: 'mock' } }], { store: { maxRetries: 1, backoffMs: 1 } })));

test('flush past its timeout rejects with TIMEOUT naming what is left', () => withCache(async (cache) => {
  writeKeys(cache, makeKeys(3));
  try {
    await cache.flush({ timeoutMs: 50 });
    assert.unreachable('flush must time out');
  } catch (err) {
    assert.is((err as { code?: string }).code, ErrorCode.TIMEOUT);
    assert.match((err as Error).message, /flush: 3 objects were not stored within 50 ms/);
  }
  await cache.flush({ timeoutMs: 10_000 });
}, [{ type: 'mock', bandwidthGBps: 0.00002 }]));

test.run();

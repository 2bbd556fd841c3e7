// Prefetch failures are observable and never leak: adapter errors reach the caller's outcome with
// their code, and requests submitted while the prefetch worker restarts reach its successor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, type KvCache, type PrefetchHandle, type PrefetchOutcome } from '@kvtier/core';
import { AdapterCounter, Counter, adapterHosts, newPinOwner, soak, terminateWorker, engineCounters, workerHealth } from '@kvtier/core/testing';
import { eventually, makeKeys, pattern, seedL2, slice, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

/** Waits for a prefetch and releases what it holds; returns its outcome. */
async function settle(cache: KvCache, handle: PrefetchHandle, keys: Uint32Array): Promise<PrefetchOutcome> {
  const outcome = await cache.waitPrefetchResult(handle, { timeoutMs: 10_000 });
  if (outcome.count > 0) cache.finishReadPrefetched(slice(keys, 0, outcome.count));
  return outcome;
}

test('a failed lookup: the outcome keeps the L1 prefix count and carries KVT_ERR_ADAPTER', () => soak('engine-prefetch-failures/failed-lookup', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  writeKeys(cache, slice(keys, 0, 2));
  await storeSettled(cache);
  const outcome = await settle(cache, cache.submitPrefetch(keys), keys);
  assert.is(outcome.count, 2, 'the two L1 keys are held');
  assert.is(outcome.l1PrefixHits, 2);
  assert.is(outcome.l2PrefixHits, 0);
  assert.is(outcome.error?.code, ErrorCode.ADAPTER);
  assert.is(engineCounters(cache).get(Counter.PREFETCH_FAILURES), 1);
  // 2 keys written, 1 prefetch.
  return 3;
}, [{ type: 'fault', lookupErrorRate: 1, inner: { type: 'mock' } }])));

test('a failed load: count 0 and KVT_ERR_ADAPTER; waitPrefetch resolves the same count', () => soak('engine-prefetch-failures/failed-load', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  await seedL2(cache, keys);
  const outcome = await settle(cache, cache.submitPrefetch(keys), keys);
  assert.is(outcome.count, 0);
  assert.is(outcome.error?.code, ErrorCode.ADAPTER);
  assert.match(outcome.error!.message, /failed \(KVT_ERR_ADAPTER\) after 0 of 3 keys/);
  assert.is(await cache.waitPrefetch(cache.submitPrefetch(keys), { timeoutMs: 10_000 }), 0);
  // 3 keys seeded, 2 prefetches.
  return 5;
}, [{ type: 'fault', loadErrorRate: 1, inner: { type: 'mock' } }])));

test('a clean miss is not an error', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  const outcome = await settle(cache, cache.submitPrefetch(keys), keys);
  assert.equal({ count: outcome.count, error: outcome.error }, { count: 0, error: undefined });
}));

test('a request the dead prefetch worker had fails with KVT_ERR_WORKER', () => soak('engine-prefetch-failures/kill-during-lookup', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  // Every adapter call starts 1 s late: the request is still looking up when its worker dies.
  const handle = cache.submitPrefetch(keys);
  await new Promise((r) => setTimeout(r, 100));
  await terminateWorker(cache, 'prefetch');
  const outcome = await settle(cache, handle, keys);
  assert.is(outcome.count, 0);
  assert.is(outcome.error?.code, ErrorCode.WORKER);
  // 1 prefetch, 1 kill.
  return 2;
}, [{ type: 'fault', delayRate: 1, delayMs: 1_000, inner: { type: 'mock' } }])));

test('failing a request of a dead prefetch worker releases only its own pins: the pin of another owner on the same key stays', () => withCache(async (cache) => {
  const key = makeKeys(1);
  const [fast, slow] = adapterHosts(cache);
  // The request looks the key up while no adapter has it; adapter 1 answers 4 s late, so the request
  // is still running (holding no pin on adapter 0) when its worker dies.
  const handle = cache.submitPrefetch(key);
  await eventually(() => engineCounters(cache).getAdapter(0, AdapterCounter.LOOKUP_KEYS) === 1, 'adapter 0 to answer the request\'s lookup');
  writeKeys(cache, key);
  // Another owner pins the key on adapter 0 once the store put it there.
  const other = newPinOwner(cache);
  await eventually(async () => (await fast.lookupAndLock(key, other)).found.words[0] === 1, 'the key to be stored on adapter 0 and pinned');
  await terminateWorker(cache, 'prefetch');
  const outcome = await settle(cache, handle, key);
  assert.is(outcome.error?.code, ErrorCode.WORKER);
  assert.is(await fast.pinCount(), 1, 'the other owner\'s pin survived the failed request\'s release');
  assert.equal([...(await fast.delete(key))], [0], 'eviction cannot delete what the other owner pinned');
  await fast.unlock(key, other);
  // The request's late lookup on adapter 1 pins nothing: its owner was released there. The store
  // to adapter 1 started after that lookup and is delayed as long, so once it settled the lookup ended.
  await storeSettled(cache);
  assert.is(await slow.pinCount(), 0);
}, [{ type: 'mock' }, { type: 'fault', delayRate: 1, delayMs: 4_000, inner: { type: 'mock' } }], { adapterCallTimeoutMs: 20_000 }));

test('requests submitted while the prefetch worker restarts reach its successor; none hangs or leaks', () => soak('engine-prefetch-failures/submit-during-restart', () => withCache(async (cache) => {
  const keys = makeKeys(3);
  await seedL2(cache, keys);
  await terminateWorker(cache, 'prefetch');
  const during: PrefetchHandle[] = [cache.submitPrefetch(keys)];
  while (workerHealth(cache).get('prefetch') !== true) {
    during.push(cache.submitPrefetch(keys));
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(during.length > 1, 'requests were submitted while the worker restarted');
  for (const handle of during) {
    const outcome = await settle(cache, handle, keys);
    assert.ok(outcome.error === undefined || outcome.error.code === ErrorCode.WORKER, `outcome error ${String(outcome.error?.code)}`);
  }
  const after = await cache.waitPrefetchResult(cache.submitPrefetch(keys), { timeoutMs: 10_000 });
  assert.equal({ count: after.count, error: after.error }, { count: 3, error: undefined });
  const views = cache.readPrefetched(keys);
  views!.forEach((v, i) => assert.equal(v, pattern(keys, i), `key ${i}: exact bytes`));
  cache.finishReadPrefetched(keys);
  // 3 keys seeded, 1 kill, the prefetches during the restart and the one after.
  return 4 + during.length + 1;
}, undefined, undefined, 60_000)));

test.run();

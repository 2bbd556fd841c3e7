// Faults: adapter errors, corruption, delays and lost completions; crashed workers; close() with
// work in flight. Never wrong bytes, never a leaked lock or pin.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, type KvCache } from '@kvtier/core';
import { AdapterCounter, Counter, WorkerKind, soak, terminateWorker, engineCounters, lockedObjects, workerHealth } from '@kvtier/core/testing';
import {
  assertNoLeaks, eventually, inL2, makeKeys, openCache, pattern, prefetch, readLocks, seedL2, storeSettled, withCache, withTempDir,
  writeKeys,
} from './engine-helpers.ts';

/** Runs `body` with a fresh temporary directory. */
function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  return withTempDir('kvtier-engine-faults-', body);
}

/** The fault adapter of the random-faults test; its seed is the soak round's (7 in CI). */
const FAULTY = {
  type: 'fault', storeErrorRate: 0.15, loadErrorRate: 0.15, lookupErrorRate: 0.15, corruptRate: 0.15,
  delayRate: 0.2, delayMs: 150, lostRate: 0.1, inner: { type: 'mock' },
};

test('errors, corruption, delays and lost completions never return wrong bytes nor leak locks or pins', () => soak('engine-faults/random-faults', ({ seed }) => withCache(async (cache) => {
  let hits = 0;
  let ops = 0;
  for (let round = 0; round < 12; round++) {
    const keys = makeKeys(4);
    writeKeys(cache, keys);
    await storeSettled(cache);
    cache.clear();
    const count = await prefetch(cache, keys);
    hits += count;
    ops += 4 + count;
    if (count === 0) continue;
    const prefix = keys.slice(0, count * 4);
    const views = cache.readPrefetched(prefix);
    assert.ok(views !== null, `round ${round}: the ${count} prefetched keys are readable`);
    views!.forEach((v, i) => assert.equal(v, pattern(keys, i), `round ${round}, key ${i}: exact bytes`));
    cache.finishReadPrefetched(prefix);
  }
  assert.ok(hits > 0, 'some prefetches got through');
  assert.ok(engineCounters(cache).getAdapter(0, AdapterCounter.ABANDONED_CALLS) > 0, 'lost completions were abandoned');
  await eventually(() => lockedObjects(cache) === 0, 'quarantined slots to be released', 5_000);
  return ops;
}, [{ ...FAULTY, seed }], { adapterCallTimeoutMs: 100, store: { maxRetries: 3, backoffMs: 1 } }, 60_000), { seed: 7 }));

test('a store call silent past its grace period: its slot stays locked until its adapter host is terminated and restarted', () => soak('engine-faults/silent-store', () => withCache(async (cache) => {
  const keys = makeKeys(1);
  writeKeys(cache, keys);
  await eventually(() => cache.l1.state(keys, 0)!.readLocks === 1, 'the store to claim the object');
  // Every call starts 3 s late: abandoned at 200 ms, and the host is still alive 200 ms later.
  while (readLocks(cache, keys)[0] !== 0) {
    await new Promise((r) => setTimeout(r, 2));
    if (readLocks(cache, keys)[0] === 0) {
      assert.ok(engineCounters(cache).getRestarts(WorkerKind.ADAPTER) >= 1, 'the read lock went while the host that may read the slot was alive');
    }
  }
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.HOST_TERMINATIONS), 1);
  assert.is(engineCounters(cache).get(Counter.STORE_DROPPED_KEYS), 1);
  await eventually(() => workerHealth(cache).get('adapter[0]') === true, 'the adapter host to be restarted');
  assert.match(await cache.metrics(), /kvtier_l2_host_terminations_total\{adapter="0"\} 1/);
  // 1 write, 1 abandoned store, 1 host termination.
  return 3;
}, [{ type: 'fault', delayRate: 1, delayMs: 3_000, inner: { type: 'mock' } }], { adapterCallTimeoutMs: 200, store: { maxRetries: 0 } })));

test('a store worker killed mid-store is reported, its locks released, and it is restarted', () => soak('engine-faults/kill-during-store', () => withCache(async (cache) => {
  const keys = makeKeys(5);
  writeKeys(cache, keys);
  // The adapter moves 20 KB/s: the 20 KiB batch is in flight for ~1 s.
  await eventually(async () => (await cache.status()).l1.dirty === 0 && lockedObjects(cache) === 5, 'the store to be in flight');
  await terminateWorker(cache, 'store');
  await eventually(() => engineCounters(cache).getRestarts(WorkerKind.STORE) === 1, 'the crash to be counted');
  await eventually(() => lockedObjects(cache) === 0, 'the read locks of the dead worker to be reclaimed');
  await eventually(() => workerHealth(cache).get('store') === true, 'the store worker to be restarted');
  assert.match(await cache.metrics(), /kvtier_worker_restarts_total\{worker="store"\} 1/);
  const more = makeKeys(1);
  writeKeys(cache, more);
  await eventually(() => engineCounters(cache).getAdapter(0, AdapterCounter.STORE_KEYS) >= 1, 'the restarted worker to store');
  await storeSettled(cache);
  // 6 keys written, 1 kill.
  return 7;
}, [{ type: 'mock', bandwidthGBps: 0.00002 }])));

test('a store worker killed mid-store loses no stores, and its host is ended before its slots are released', () => soak('engine-faults/kill-during-fs-store', () => withDir((dir) => withCache(async (cache) => {
  const keys = makeKeys(5);
  writeKeys(cache, keys);
  await eventually(async () => (await cache.status()).l1.dirty === 0 && lockedObjects(cache) === 5, 'the store to be in flight');
  // The store is still in its 1 s delay. Its host is ended with the dead worker (the call
  // could still read slots reused meanwhile); the files survive it.
  await terminateWorker(cache, 'store');
  // Two restarts (the store worker, the host) and a 1 s delayed store: generous for a loaded machine.
  await eventually(() => engineCounters(cache).getAdapter(0, AdapterCounter.STORE_KEYS) >= 5, 'every claimed object to be stored by the restarted worker', 40_000);
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.HOST_TERMINATIONS), 1, 'the host the dead worker was calling was ended');
  await storeSettled(cache);
  assert.equal(await inL2(cache, 0, keys), [true, true, true, true, true]);
  // 5 keys written, 1 kill.
  return 6;
}, [{ type: 'fault', delayRate: 1, delayMs: 1_000, inner: { type: 'fs', baseDir: dir } }], {}, 60_000))));

test('a prefetch worker killed mid-load: the request fails to its L1 hits, its host is ended, pins and locks are released, it restarts', () => soak('engine-faults/kill-during-prefetch', () => withDir((dir) => withCache(async (cache) => {
  const keys = makeKeys(5);
  await seedL2(cache, keys);
  const h = cache.submitPrefetch(keys);
  // Its temporary slots are reserved in the step that sends the load, which then waits 0.5 s.
  await eventually(() => lockedObjects(cache) === 5, 'the prefetch to load into its reserved slots');
  // The load call leaves a moment after the reservation; on a loaded machine that moment can be
  // long enough for a kill to land before it (then no host needs ending). 150 ms is well inside
  // the 500 ms the load then waits.
  await new Promise((r) => setTimeout(r, 150));
  await terminateWorker(cache, 'prefetch');
  assert.is(await cache.waitPrefetch(h, { timeoutMs: 10_000 }), 0);
  assert.is(engineCounters(cache).get(Counter.PREFETCH_FAILURES), 1);
  await eventually(() => workerHealth(cache).get('prefetch') === true, 'the prefetch worker to be restarted');
  await assertNoLeaks(cache);
  assert.is(engineCounters(cache).getAdapter(0, AdapterCounter.HOST_TERMINATIONS), 1, 'the host its load was running on was ended');
  assert.is(await prefetch(cache, keys), 5);
  cache.finishReadPrefetched(keys);
  // 5 keys seeded, 1 kill, 5 prefetched.
  return 11;
}, [{ type: 'fault', delayRate: 1, delayMs: 500, inner: { type: 'fs', baseDir: dir } }]))));

test('a prefetch worker killed after its request finished: the user keeps the read locks it was given', () => soak('engine-faults/kill-after-prefetch', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  await seedL2(cache, keys);
  assert.is(await prefetch(cache, keys, 1), 4);
  await terminateWorker(cache, 'prefetch');
  await eventually(() => workerHealth(cache).get('prefetch') === true, 'the prefetch worker to be restarted');
  assert.equal(readLocks(cache, keys), [2, 2, 2, 2], 'the locks are the requester\'s, not the dead worker\'s');
  const views = cache.readPrefetched(keys, { extraCount: 1 });
  assert.ok(views !== null);
  views!.forEach((v, i) => assert.equal(v, pattern(keys, i), `key ${i}: exact bytes`));
  cache.finishReadPrefetched(keys, { extraCount: 1 });
  assert.equal(readLocks(cache, keys), [-1, -1, -1, -1], 'temporary objects left L1 at their last release');
  // 4 keys seeded, 4 prefetched, 1 kill.
  return 9;
})));

test('an eviction worker killed is restarted and evicts again', () => soak('engine-faults/kill-eviction', () => withCache(async (cache) => {
  await terminateWorker(cache, 'eviction');
  await eventually(() => engineCounters(cache).getRestarts(WorkerKind.EVICTION) === 1 && workerHealth(cache).get('eviction') === true, 'the restart');
  writeKeys(cache, makeKeys(9));
  await eventually(() => engineCounters(cache).get(Counter.L1_EVICTIONS) >= 1, 'the new eviction worker to evict');
  // 1 kill, 9 keys written.
  return 10;
}, [], { l1: { capacityBytes: 10 * 4096, slotBytes: 4096 }, evictionIntervalMs: 10 })));

/**
 * The eviction worker and adapter 0's host killed together: the host's restart must not wait on
 * the dead eviction worker (a call to it never answers), the eviction worker's successor must not
 * connect to the dead host, and it must end up with the new host: it evicts from it.
 */
test('the eviction worker and an adapter host killed together: both restart, and the new eviction worker evicts from the new host', () => withCache(async (cache) => {
  await Promise.all([terminateWorker(cache, 'eviction'), terminateWorker(cache, 'adapter[0]')]);
  const m = engineCounters(cache);
  await eventually(() => m.getRestarts(WorkerKind.EVICTION) === 1 && m.getRestarts(WorkerKind.ADAPTER) === 1, 'both deaths to be seen');
  await eventually(() => workerHealth(cache).get('eviction') === true && workerHealth(cache).get('adapter[0]') === true, 'both to restart', 20_000);
  writeKeys(cache, makeKeys(8));
  await cache.flush({ timeoutMs: 10_000 });
  await eventually(() => m.getAdapter(0, AdapterCounter.EVICTED_KEYS) >= 1, 'the new eviction worker to evict from the new host');
  assert.ok((await cache.status()).healthy, 'healthy');
}, [{ type: 'mock', capacityBytes: 10 * 4096, eviction: { policy: 'lru', watermark: 0.5, ratio: 0.5 } }], { evictionIntervalMs: 10 }));

test('close() with stores and prefetches in flight releases everything, ends every worker, and is idempotent', () => soak('engine-faults/close-in-flight', async () => {
  const cache: KvCache = await openCache([{ type: 'mock', bandwidthGBps: 0.0001 }]);
  const stored = makeKeys(3);
  await seedL2(cache, stored);
  const written = makeKeys(5);
  writeKeys(cache, written);
  const h = cache.submitPrefetch(stored);
  const started = Date.now();
  await Promise.all([cache.close(), cache.close()]);
  assert.ok(Date.now() - started < 10_000);
  await cache.close();
  // Each worker and comlink channel is a MessagePort resource; none is left.
  await new Promise((r) => setTimeout(r, 20));
  assert.is(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length, 0, 'every worker ended');
  for (const call of [() => cache.submitPrefetch(stored), () => cache.queryPrefetch(h), () => cache.reserveWrite(written, 4096), () => cache.clear()]) {
    try {
      call();
      assert.unreachable('a call after close must throw');
    } catch (err) {
      assert.is((err as { code?: string }).code, ErrorCode.CLOSED);
    }
  }
  // 3 keys seeded, 5 written, 1 prefetch, 3 closes, 4 calls after close.
  return 16;
}));

test.run();

// Prefetch handles are capabilities bound to the cache that minted them: another cache's handle, a
// copy or a hand-made object is refused with KVT_ERR_INVALID_ARGUMENT and changes nothing; so is
// any non-handle argument, on all four query/wait methods.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError, type KvCache, type PrefetchHandle } from '@kvtier/core';
import { lockedObjects, withDeadline } from '@kvtier/core/testing';
import { assertNoLeaks, eventually, makeKeys, openCache, readLocks, seedL2, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

const SLOW = [{ type: 'mock', bandwidthGBps: 0.0001 }];

/** The error `f` throws or rejects with (undefined when it returns). */
async function errorOf(f: () => unknown): Promise<unknown> {
  try {
    await f();
    return undefined;
  } catch (err) {
    return err;
  }
}

function assertInvalid(err: unknown, what: string, pattern = /handle must be a PrefetchHandle returned by this cache's submitPrefetch/): void {
  assert.ok(err instanceof KvtierError, `${what}: a KvtierError, got ${String(err)}`);
  assert.is((err as KvtierError).code, ErrorCode.INVALID_ARGUMENT, `${what}: code`);
  assert.match((err as KvtierError).message, pattern, `${what}: message names the argument`);
}

/** Every query/wait method of `cache` refuses `handle` with INVALID_ARGUMENT. */
async function assertRefused(cache: KvCache, handle: unknown, what: string): Promise<void> {
  const h = handle as PrefetchHandle;
  assertInvalid(await errorOf(() => cache.queryPrefetch(h)), `queryPrefetch(${what})`);
  assertInvalid(await errorOf(() => cache.queryPrefetchResult(h)), `queryPrefetchResult(${what})`);
  assertInvalid(await errorOf(() => cache.waitPrefetch(h, { timeoutMs: 50 })), `waitPrefetch(${what})`);
  assertInvalid(await errorOf(() => cache.waitPrefetchResult(h, { timeoutMs: 50 })), `waitPrefetchResult(${what})`);
}

/** Runs `body` with a second cache open next to `withCache`'s, leak-checked and closed after. */
async function withTwoCaches(body: (c: KvCache, d: KvCache) => Promise<void>, adapters?: unknown[]): Promise<void> {
  await withCache(async (c) => {
    const d = await withDeadline(openCache(adapters), 30_000, 'KvCache.open (D)');
    try {
      await body(c, d);
      await assertNoLeaks(d);
    } finally {
      await withDeadline(d.close(), 30_000, 'KvCache.close (D)');
    }
  }, adapters);
}

test('two caches: D refuses C\'s finished handle (same requestId); D\'s own result is intact and released', () => withTwoCaches(async (c, d) => {
  const keysC = makeKeys(2);
  const keysD = makeKeys(3);
  writeKeys(c, keysC);
  writeKeys(d, keysD);
  await storeSettled(c);
  await storeSettled(d);
  const hC = c.submitPrefetch(keysC);
  const hD = d.submitPrefetch(keysD);
  assert.is(hC.requestId, hD.requestId, 'both caches issued the same request id');
  assert.equal(readLocks(d, keysD), [1, 1, 1], 'D holds its prefix');
  await assertRefused(d, hC, 'C\'s handle');
  assert.equal(readLocks(d, keysD), [1, 1, 1], 'the refusal touched no lock');
  assert.is(d.queryPrefetch(hD), 3, 'D\'s real caller still gets its result');
  assert.is(d.queryPrefetch(hD), null, 'once');
  assert.is(await c.waitPrefetch(hC, { timeoutMs: 10_000 }), 2, 'C\'s handle still answers at C');
  c.finishReadPrefetched(keysC);
  d.finishReadPrefetched(keysD);
  await eventually(() => lockedObjects(c) === 0 && lockedObjects(d) === 0, 'both caches unlocked');
}));

test('two caches: D refuses C\'s handle while D\'s request with that id is pending; D\'s caller then waits it out', () => withTwoCaches(async (c, d) => {
  const keysC = makeKeys(2);
  const keysD = makeKeys(2);
  await seedL2(c, keysC);
  await seedL2(d, keysD);
  const hC = c.submitPrefetch(keysC);
  const hD = d.submitPrefetch(keysD);
  assert.is(hC.requestId, hD.requestId, 'both caches issued the same request id');
  await assertRefused(d, hC, 'C\'s handle');
  assert.is(d.queryPrefetch(hD), null, 'D\'s request still loading (the adapter moves 100 KB/s)');
  const outcome = await d.waitPrefetchResult(hD, { timeoutMs: 10_000 });
  assert.is(outcome.count, 2, 'D\'s real caller gets its result');
  assert.is(outcome.error, undefined);
  // After D's result is consumed, C's handle is refused at D all the same (not "consumed").
  await assertRefused(d, hC, 'C\'s handle, after D consumed its own');
  assert.is(await c.waitPrefetch(hC, { timeoutMs: 10_000 }), 2);
  c.finishReadPrefetched(keysC);
  d.finishReadPrefetched(keysD);
  await eventually(() => lockedObjects(c) === 0 && lockedObjects(d) === 0, 'both caches unlocked');
}, SLOW));

test('hand-made, copied and cloned handles are refused; the real one still answers', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await storeSettled(cache);
  const h = cache.submitPrefetch(keys);
  assert.is(h.requestId, 1);
  assert.is(h.l1PrefixHits, 2, 'documented fields stay readable');
  assert.is(h.totalKeys, 2);
  await assertRefused(cache, { requestId: 1, l1PrefixHits: 0, totalKeys: 1 }, 'a hand-made handle');
  await assertRefused(cache, { ...h }, 'a spread copy');
  await assertRefused(cache, structuredClone(h), 'a structured clone');
  await assertRefused(cache, Object.create(h), 'an object inheriting from a handle');
  assert.ok(Object.isFrozen(h), 'a minted handle cannot be altered');
  assert.equal(readLocks(cache, keys), [1, 1], 'nothing was released');
  assert.is(await cache.waitPrefetch(h, { timeoutMs: 10_000 }), 2);
  cache.finishReadPrefetched(keys);
}));

test('null, undefined, {requestId: -1}, a number, a string -> INVALID_ARGUMENT on all four methods, nothing changes', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await storeSettled(cache);
  const h = cache.submitPrefetch(keys);
  for (const [bad, what] of [[null, 'null'], [undefined, 'undefined'], [{ requestId: -1 }, '{requestId: -1}'], [1, 'the number 1'], ['1', 'a string'], [{}, '{}']] as const) {
    await assertRefused(cache, bad, what);
  }
  assert.equal(readLocks(cache, keys), [1, 1]);
  assert.is(cache.queryPrefetch(h), 2);
  cache.finishReadPrefetched(keys);
}));

test('a bad timeoutMs is INVALID_ARGUMENT, not a timeout, and leaves the result to take', () => withCache(async (cache) => {
  const keys = makeKeys(1);
  writeKeys(cache, keys);
  await storeSettled(cache);
  const h = cache.submitPrefetch(keys);
  for (const timeoutMs of [-1, Number.NaN, '5' as unknown as number]) {
    assertInvalid(await errorOf(() => cache.waitPrefetch(h, { timeoutMs })), `waitPrefetch timeoutMs ${String(timeoutMs)}`, /timeoutMs must be a non-negative number/);
    assertInvalid(await errorOf(() => cache.waitPrefetchResult(h, { timeoutMs })), `waitPrefetchResult timeoutMs ${String(timeoutMs)}`, /timeoutMs must be a non-negative number/);
  }
  assert.is((await cache.waitPrefetchResult(h, { timeoutMs: 10_000 })).count, 1);
  assertInvalid(await errorOf(() => cache.waitPrefetch(h, { timeoutMs: 10_000 })), 'waitPrefetch after consumption', /already consumed/);
  assert.is(cache.queryPrefetch(h), null, 'a consumed handle of this cache answers null');
  cache.finishReadPrefetched(keys);
}));

test.run();

// The facade treats extraCount as L1 does ("extraCount is clamped to [0, 127]"):
// integers outside the range are clamped, only non-integers are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { makeKeys, prefetch, readLocks, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

test('extraCount above 127 takes 128 locks per key, and 128 finishReadPrefetched calls release them', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await storeSettled(cache);
  assert.is(await prefetch(cache, keys, 1000), 2);
  assert.equal(readLocks(cache, keys), [128, 128]);
  cache.finishReadPrefetched(keys, { extraCount: 500 });
  assert.equal(readLocks(cache, keys), [0, 0], 'one release with a clamped extraCount drops all 128');
}, [], { l1Eviction: { watermark: 1 } }));

test('a negative extraCount is 0: one lock per key', () => withCache(async (cache) => {
  const keys = makeKeys(1);
  writeKeys(cache, keys);
  await storeSettled(cache);
  assert.is(await prefetch(cache, keys, -3), 1);
  assert.equal(readLocks(cache, keys), [1]);
  cache.finishReadPrefetched(keys, { extraCount: -3 });
}, []));

test('a non-integer extraCount is refused with KVT_ERR_INVALID_ARGUMENT and takes no lock', () => withCache(async (cache) => {
  const keys = makeKeys(1);
  writeKeys(cache, keys);
  await storeSettled(cache);
  assert.throws(() => cache.submitPrefetch(keys, { extraCount: 1.5 }),
    (err: unknown) => err instanceof KvtierError && err.code === ErrorCode.INVALID_ARGUMENT && /extraCount must be an integer/.test(err.message));
  assert.equal(readLocks(cache, keys), [0]);
}, []));

test.run();

// The end-of-test leak check of the engine tests (assertNoLeaks in engine-helpers.ts) against a
// real cache: its verdict is the count it waited for, so a store claim that begins after it saw
// nothing locked is no leak (the flake of engine-policies), and a lock that stays still fails it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lockedObjects } from '@kvtier/core/testing';
import { assertNoLeaks, makeKeys, withCache, writeKeys } from './engine-helpers.ts';

/**
 * The interleaving of the flake, injected: right after the check's first count (0), the test
 * read-locks two objects as the store worker claims the objects a test left dirty. A check that
 * counted again would see 2; this one judges the 0 it saw.
 */
test('the leak check judges the count it waited for: a claim taken after it saw none is no leak', () => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await assertNoLeaks(cache);
  let counts = 0;
  await assertNoLeaks(cache, 5_000, () => {
    const n = lockedObjects(cache);
    if (counts++ === 0) assert.ok(cache.l1.reserveRead(keys).codes.every((c) => c === 0), 'reserveRead');
    return n;
  });
  assert.is(counts, 1, 'one count, taken before the claim');
  assert.is(lockedObjects(cache), 2, 'the claim began after it');
  cache.l1.finishRead(keys);
}, []));

test('the leak check fails on a lock still held after its wait, saying what is locked', () => withCache(async (cache) => {
  const keys = makeKeys(1);
  writeKeys(cache, keys);
  cache.l1.reserveRead(keys);
  const err = await assertNoLeaks(cache, 100).then(() => undefined, (e: unknown) => e);
  assert.instance(err, assert.Assertion);
  assert.match((err as Error).message, /^L1 objects still locked/);
  cache.l1.finishRead(keys);
}, []));

test.run();

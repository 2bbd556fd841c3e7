// The engine over the redis adapter and a real server (scripts/redis-servers.mjs, started once per
// test run): write-through and reload byte for byte, and the server killed in the middle of
// stores and prefetches, then restarted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestHex } from '@kvtier/core';
import { AdapterOp, engineCounters } from '@kvtier/core/testing';
import { cli, killNode, redisFixture, startNode } from '../scripts/redis-servers.mjs';
import { eventually, inL2, makeKeys, pattern, prefetch, seedL2, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

const { single } = await redisFixture();
let prefixes = 0;

/** A redis adapter config with a key prefix of its own (this file shares the server with others). */
function redisConfig(extra: Record<string, unknown> = {}) {
  return { type: 'redis', url: single.url, keyPrefix: `engine-redis-${process.pid}-${++prefixes}:`, commandTimeoutMs: 2_000, ...extra };
}

test('redis: write -> L2 -> clear -> prefetch reads the exact bytes back from the server', () => {
  const config = redisConfig();
  return withCache(async (cache) => {
    const keys = makeKeys(6);
    await seedL2(cache, keys);
    assert.is(await cli(single.node.port, 'EXISTS', `${config.keyPrefix}${digestHex(keys, 5)}`), '1');
    assert.is(await prefetch(cache, keys), 6);
    cache.readPrefetched(keys)!.forEach((v, i) => assert.equal(v, pattern(keys, i)));
    cache.finishReadPrefetched(keys);
  }, [config]);
});

test('redis: the server killed mid-stores and mid-prefetches, then restarted: L1 serves, failures count, it reconnects, no wrong bytes or leaks', () => withCache(async (cache) => {
  const inL2Only = makeKeys(8);
  await seedL2(cache, inL2Only);
  const inL1 = makeKeys(4);
  writeKeys(cache, inL1);
  await storeSettled(cache);

  // Stores and a prefetch in flight when the server dies.
  const storing = makeKeys(8);
  writeKeys(cache, storing);
  const loading = cache.submitPrefetch(inL2Only);
  await killNode(single.node);
  const loaded = await cache.waitPrefetch(loading, { timeoutMs: 10_000 });
  if (loaded > 0) {
    const prefix = inL2Only.slice(0, loaded * 4);
    cache.readPrefetched(prefix)!.forEach((v, i) => assert.equal(v, pattern(inL2Only, i), `key ${i} loaded as the server died`));
    cache.finishReadPrefetched(prefix);
  }
  await storeSettled(cache);

  // With the server down L1 still serves what it holds, and the failed calls were counted.
  assert.is(await prefetch(cache, inL1), 4);
  cache.readPrefetched(inL1)!.forEach((v, i) => assert.equal(v, pattern(inL1, i)));
  cache.finishReadPrefetched(inL1);
  cache.clear();
  assert.is(await prefetch(cache, inL2Only), 0, 'nothing can come from a dead server');
  const counters = engineCounters(cache);
  const failures = [AdapterOp.STORE, AdapterOp.LOAD, AdapterOp.LOOKUP].reduce<number>((sum, op) => sum + counters.getFailures(0, op), 0);
  assert.ok(failures > 0, 'the failed adapter calls were counted');

  // Restarted (empty: no persistence), the adapter reconnects on its own: new objects go to L2
  // and come back byte for byte.
  await startNode(single.node);
  const after = makeKeys(4);
  await eventually(async () => {
    const probe = makeKeys(1);
    writeKeys(cache, probe);
    await storeSettled(cache);
    // A lookup may still fail while the adapter backs off from its last failed connect.
    return (await inL2(cache, 0, probe).catch(() => [false]))[0];
  }, 'the adapter to reconnect', 15_000);
  await seedL2(cache, after);
  assert.is(await prefetch(cache, after), 4);
  cache.readPrefetched(after)!.forEach((v, i) => assert.equal(v, pattern(after, i)));
  cache.finishReadPrefetched(after);
  assert.ok((await cache.status()).healthy, 'healthy again');
}, [redisConfig()], { adapterCallTimeoutMs: 5_000, store: { maxRetries: 1, backoffMs: 10 } }, 60_000));

test.run();

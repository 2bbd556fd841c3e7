// The engine's adapter hosts are served with coded errors: a host's error code reaches the main
// thread's proxy (adapterHosts(cache)) unchanged, as a KvtierError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { adapterHosts, terminateWorker, withDeadline, workerHealth } from '@kvtier/core/testing';
import { eventually, makeKeys, withCache } from './engine-helpers.ts';

async function rejection(call: Promise<unknown>): Promise<KvtierError> {
  try {
    await call;
  } catch (err) {
    assert.instance(err, KvtierError);
    return err as KvtierError;
  }
  throw new Error('the call resolved');
}

test('a bad batch sent to a host rejects with KVT_ERR_INVALID_ARGUMENT on the main thread', () => withCache(async (cache) => {
  const err = await rejection(adapterHosts(cache)[0].load(makeKeys(2), new Int32Array(1), new Uint32Array(2)));
  assert.is(err.code, ErrorCode.INVALID_ARGUMENT);
  assert.match(err.message, /slots must be an Int32Array of 2/);
}));

test('a call on a host whose worker died rejects with KVT_ERR_WORKER, pending or sent later; the restarted host answers', () => withCache(async (cache) => {
  const old = adapterHosts(cache)[0];
  // A lookup whose adapter call never settles is still pending when the kill lands (a quick call
  // such as pinCount could be answered first on a loaded machine, and then no call was pending).
  const pending = old.lookupAndLock(makeKeys(1), 2);
  pending.catch(() => {}); // it may reject while the worker is being killed: handled here, asserted below
  await terminateWorker(cache, 'adapter[0]');
  const later = old.lookupAndLock(makeKeys(1), 1);
  // Handled at once: it may reject while the first call is awaited, and an unhandled rejection ends the run.
  later.catch(() => {});
  for (const call of [pending, later] as Promise<unknown>[]) {
    const err = await rejection(withDeadline(call, 10_000, 'a call on the dead host'));
    assert.is(err.code, ErrorCode.WORKER);
    assert.match(err.message, /the adapter\[0\] worker died before its host answered/);
  }
  await eventually(() => workerHealth(cache).get('adapter[0]') === true, 'the adapter host to restart');
  assert.is(await withDeadline(adapterHosts(cache)[0].pinCount(), 10_000, 'the new host'), 0);
}, [{ type: 'fault', lostRate: 1, inner: { type: 'mock' } }]));

test('a call on a closed host rejects with KVT_ERR_CLOSED on the main thread', () => withCache(async (cache) => {
  await adapterHosts(cache)[0].close();
  const err = await rejection(adapterHosts(cache)[0].lookupAndLock(makeKeys(1), 1));
  assert.is(err.code, ErrorCode.CLOSED);
}));

test.run();

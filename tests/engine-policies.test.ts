// Custom policies in the engine: the store, prefetch and eviction controllers build their policies
// in worker threads, so a policy works in a cache only when it comes from a policy module the
// workers import too; one registered on the main thread alone is refused by validateConfig.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError, validateConfig } from '@kvtier/core';
import { registerPolicyModule, registerStorePolicy, withDeadline } from '@kvtier/core/authoring';
import { inL2, makeKeys, withCache, writeKeys } from './engine-helpers.ts';

const MODULE_URL = new URL('./engine-policy-module.ts', import.meta.url).href;
const L1 = { capacityBytes: 16 * 4096, slotBytes: 4096 };

test('a store policy from a policy module is used by the store worker', () => withDeadline(registerPolicyModule(MODULE_URL), 10_000, 'register').then(() => withCache(async (cache) => {
  const keys = makeKeys(2);
  writeKeys(cache, keys);
  await cache.flush({ timeoutMs: 10_000 });
  assert.equal(await inL2(cache, 1, keys), [true, true], 'the last adapter stored them');
  assert.equal(await inL2(cache, 0, keys), [false, false], 'the first adapter did not');
}, [{ type: 'mock' }, { type: 'mock' }], { storePolicy: 'last_adapter_only' })));

test('a policy registered on the main thread only is refused, saying why and what to do', () => {
  registerStorePolicy('main_thread_only', () => ({ name: 'main_thread_only', targets: () => new Map(), deleteFromL1: () => [] }));
  try {
    validateConfig({ l1: L1, storePolicy: 'main_thread_only' });
    assert.unreachable('validateConfig accepted it');
  } catch (err) {
    assert.instance(err, KvtierError);
    assert.is((err as KvtierError).code, ErrorCode.CONFIG);
    assert.match((err as Error).message, /^config\.storePolicy: policy "main_thread_only" is registered on this thread only, .*registerPolicyModule\(moduleUrl\)$/);
  }
});

test('a module that exports no policies is refused with KVT_ERR_CONFIG', () => withDeadline((async () => {
  const err = await registerPolicyModule(new URL('./engine-helpers.ts', import.meta.url).href).then(() => undefined, (e: unknown) => e);
  assert.instance(err, KvtierError);
  assert.match((err as Error).message, /exports none of evictionPolicies, storePolicies, prefetchPolicies/);
})(), 10_000, 'register'));

test.run();

// Custom policies in the engine: the store, prefetch and eviction controllers build their policies
// in worker threads, so a policy works in a cache only when it comes from a policy module the
// workers import too; one registered on the main thread alone is refused by validateConfig.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError, validateConfig } from '@kvtier/core';
import { registerPolicyModule, registerStorePolicy, withDeadline } from '@kvtier/core/authoring';
import { Counter, engineCounters, wakeControllers } from '@kvtier/core/testing';
import type { KvCache } from '@kvtier/core';
import { OBJECT_BYTES, eventually, inL2, makeKeys, pattern, withCache, writeKeys } from './engine-helpers.ts';

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

/**
 * Writes the keys of `keys` that L1 lacks (mode 'new') and finishes the whole request, as an engine
 * extending a cached prefix does; answers, per key, whether L1 held it already.
 */
function extend(cache: KvCache, keys: Uint32Array): boolean[] {
  const r = cache.reserveWrite(keys, OBJECT_BYTES, { mode: 'new' });
  const held = Array.from(r.codes, (code) => code !== 0);
  held.forEach((h, i) => { if (!h) cache.view(r.slots[i], OBJECT_BYTES).set(pattern(keys, i)); });
  cache.finishWrite(keys);
  return held;
}

/** An eviction interval no test outlives: the eviction worker cycles only when the test wakes it. */
const NEVER_MS = 24 * 3600 * 1000;

/**
 * A cached prefix (keys 0-7), then a request extending it (8-15): L1 reaches the watermark and
 * the eviction worker evicts 8 objects. `tree_arc` learns from the L1 events that 7 is 8's parent
 * and evicts the extension, leaf first; plain `arc` evicts the older prefix and leaves orphans.
 * The extension's reservation alone reaches the watermark, so a cycle between its reserveWrite and
 * its finishWrite would evict half of the prefix, the only keys the policy knows then (a flake
 * under CPU load): the worker's timer is off and the test wakes it once both requests are in.
 */
for (const [policy, kept] of [['tree_arc', [0, 8]], ['arc', [8, 16]]] as const) {
  test(`L1 eviction with '${policy}' through the engine keeps keys ${kept[0]}-${kept[1] - 1}`, () => withCache(async (cache) => {
    const keys = makeKeys(16);
    writeKeys(cache, keys.slice(0, 8 * 4));
    extend(cache, keys);
    assert.is(engineCounters(cache).get(Counter.L1_EVICTIONS), 0, 'no cycle ran during the writes');
    await eventually(() => {
      wakeControllers(cache);
      return engineCounters(cache).get(Counter.L1_EVICTIONS) === 8;
    }, 'eight evictions');
    const held = extend(cache, keys);
    assert.equal(held.map((h, i) => (h ? i : -1)).filter((i) => i >= 0), Array.from({ length: kept[1] - kept[0] }, (_, i) => kept[0] + i));
  }, [], { l1Eviction: { policy, watermark: 0.25, ratio: 0.5 }, evictionIntervalMs: NEVER_MS }));
}

/**
 * The eviction worker reports each tier's policy through status() and the metrics: L1 under
 * `adaptive` (its choice and sizing advice at L1's 16 slots), the mock adapter under `lru` (no
 * state of its own). Two requests of 8 chunks, the second read back: every created key is tracked.
 */
test('status() and the metrics report each tier\'s eviction policy, adaptive\'s choice and its sizing advice', () => withCache(async (cache) => {
  const keys = makeKeys(8);
  writeKeys(cache, keys);
  await cache.flush({ timeoutMs: 10_000 });
  await eventually(async () => (await cache.status()).eviction?.l1.tracked === 8, 'the L1 policy tracks the 8 objects');
  await eventually(async () => (await cache.status()).eviction?.l2[0]?.tracked === 8, 'the L2 policy tracks the 8 stored keys');
  const { eviction } = await cache.status();
  assert.ok(eviction !== undefined, 'the eviction worker answered');
  const { l1, l2 } = eviction;
  assert.is(l1.policy, 'adaptive');
  assert.ok(['tree_arc', 'tree_lru', 'tree_s3fifo'].includes(String(l1.state?.choice)), `choice ${String(l1.state?.choice)}`);
  assert.is(l1.state?.capacity, 16, 'sized to L1\'s slots');
  assert.equal(l1.curve?.map((p) => p.capacity), [8, 16, 32, 64]);
  assert.match(l1.advice ?? '', /^this tier hits \d+\.\d% at its size \(16 chunks\); 8 chunks would hit \d+\.\d%; 32 chunks would hit \d+\.\d%; 64 chunks would hit \d+\.\d%$/);
  assert.equal(l2, [{ index: 0, policy: 'lru', tracked: 8 }]);
  const text = await cache.metrics();
  assert.match(text, new RegExp(`^kvtier_eviction_policy_info\\{tier="l1",policy="adaptive",choice="${String(l1.state?.choice)}"\\} 1$`, 'm'));
  assert.match(text, /^kvtier_eviction_policy_info\{tier="l2",adapter="0",policy="lru"\} 1$/m);
  assert.match(text, /^kvtier_eviction_tracked_keys\{tier="l2",adapter="0"\} 8$/m);
  assert.match(text, /^kvtier_eviction_policy_state\{tier="l1",field="switches"\} 0$/m);
  assert.match(text, /^kvtier_eviction_estimated_hit_ratio\{tier="l1",capacity="64"\} [0-9.e-]+$/m);
}, [{ type: 'mock', capacityBytes: 64 * OBJECT_BYTES, eviction: { policy: 'lru', watermark: 0.9, ratio: 0.1 } }], { l1: L1, l1Eviction: { policy: 'adaptive', watermark: 0.9, ratio: 0.1 } }));

test.run();

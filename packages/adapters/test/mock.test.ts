// "Mock adapter", through the adapter host (envelope, pins) as the engine uses it.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { validateAdapterConfig } from '@kvtier/core/authoring';
import '../src/index.ts';
import { MockAdapter } from '../src/mock.ts';
import { assertCallsRejectAfterClose, bits, boundedTest, chunkKeys, hosted } from './fixtures.ts';

const test = boundedTest(uvuTest);

test('store resolves ok', async () => {
  const m = hosted(new MockAdapter(), 'mock');
  assert.equal([...(await m.store(chunkKeys(1), 100))], [1]);
});

test('3 concurrent stores are 3 independent completions, all ok', async () => {
  const m = hosted(new MockAdapter(), 'mock');
  const keys = chunkKeys(3);
  const results = await Promise.all([0, 1, 2].map((i) => m.host.store(keys.subarray(i * 4, i * 4 + 4), Int32Array.of(i), Uint32Array.of(100))));
  assert.equal(results.map((r) => [...r]), [[1], [1], [1]]);
  assert.equal(bits((await m.host.lookupAndLock(keys, 1)).found), [0, 1, 2]);
});

test('a 5-key batch succeeds', async () => {
  const m = hosted(new MockAdapter(), 'mock');
  assert.equal([...(await m.store(chunkKeys(5), 100))], [1, 1, 1, 1, 1]);
});

test('lookup: missing -> 0; stored -> 1; mixed -> [1, 0]', async () => {
  const m = hosted(new MockAdapter(), 'mock');
  const keys = chunkKeys(2);
  assert.equal(bits((await m.host.lookupAndLock(keys.subarray(4), 1)).found), []);
  await m.store(keys.subarray(0, 4), 100);
  assert.equal(bits((await m.host.lookupAndLock(keys.subarray(0, 4), 1)).found), [0]);
  const mixed = await m.host.lookupAndLock(keys, 1);
  assert.equal(bits(mixed.found), [0]);
  assert.is(mixed.found.size, 2);
});

test('a lookup result belongs to its caller: a later lookup is a new result', async () => {
  const m = hosted(new MockAdapter(), 'mock');
  const keys = chunkKeys(1);
  const before = await m.host.lookupAndLock(keys, 1);
  await m.store(keys, 100);
  const after = await m.host.lookupAndLock(keys, 1);
  assert.equal(bits(before.found), []);
  assert.equal(bits(after.found), [0]);
  assert.is(await m.host.pinCount(), 1);
});

test('unlock of an unknown key is harmless', async () => {
  const m = hosted(new MockAdapter(), 'mock');
  await m.host.unlock(chunkKeys(3), 1);
  assert.is(await m.host.pinCount(), 0);
});

test('load: missing -> 0; present -> 1 and the bytes equal what was stored', async () => {
  const m = hosted(new MockAdapter(), 'mock');
  const keys = chunkKeys(2);
  assert.equal(await m.load(keys, 3000), []);
  await m.store(keys.subarray(4), 3000);
  assert.equal(await m.load(keys, 3000), [1]);
  assert.equal(m.arena.view(17, 3000), m.arena.view(0, 3000));
});

test('bandwidth is simulated: 40 KB at 0.0001 GB/s takes > 0.1 s', async () => {
  const m = hosted(new MockAdapter({ bandwidthGBps: 0.0001 }), 'mock');
  const started = performance.now();
  await m.store(chunkKeys(1), 40_000);
  assert.ok(performance.now() - started > 100, `took ${performance.now() - started} ms`);
});

test('bandwidth is simulated: 4 KB at 10 GB/s < 1 s', async () => {
  const m = hosted(new MockAdapter({ bandwidthGBps: 10 }), 'mock');
  const started = performance.now();
  await m.store(chunkKeys(1), 4000);
  await m.load(chunkKeys(1), 4000);
  assert.ok(performance.now() - started < 1000);
});

test('capacity: a store past capacityBytes answers 0 and usage stays within it', async () => {
  const m = hosted(new MockAdapter({ capacityBytes: 2500 }), 'mock');
  assert.equal([...(await m.store(chunkKeys(3), 1000))], [1, 1, 0]);
  const usage = await m.host.usage();
  assert.ok(usage.usedBytes <= 2500);
  assert.is(usage.capacityBytes, 2500);
});

test('delete frees the capacity it held', async () => {
  const m = hosted(new MockAdapter({ capacityBytes: 2500 }), 'mock');
  const keys = chunkKeys(3);
  await m.store(keys.subarray(0, 8), 1000);
  await m.host.delete(keys.subarray(0, 4));
  assert.equal([...(await m.host.store(keys.subarray(8), Int32Array.of(2), Uint32Array.of(1000)))], [1]);
});

test('mock config: bandwidthGBps must be positive; unknown fields are named', () => {
  assert.throws(() => validateAdapterConfig({ type: 'mock', bandwidthGBps: 0 }, 'adapters[0]'), /config\.adapters\[0\]\.bandwidthGBps: must be a number in \(0, /);
  assert.throws(() => validateAdapterConfig({ type: 'mock', bandwith: 1 }, 'adapters[0]'), /config\.adapters\[0\]\.bandwith: is not a field of a mock adapter/);
});

test('after close() every data call rejects with KVT_ERR_CLOSED', async () => {
  const m = new MockAdapter();
  await m.store(chunkKeys(1), [[new Uint8Array(8)]]);
  await assertCallsRejectAfterClose(m);
});

uvuTest.run();

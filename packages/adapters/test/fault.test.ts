import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { validateAdapterConfig, type AdapterModule, withDeadline } from '@kvtier/core/authoring';
import { soak } from '@kvtier/core/testing';
import '../src/index.ts';
import { FaultAdapter, type FaultOptions } from '../src/fault.ts';
import { MockAdapter } from '../src/mock.ts';
import { Prng } from '../src/prng.ts';
import { boundedTest, chunkKeys, hosted } from './fixtures.ts';

const test = boundedTest(uvuTest);
/** Each round of a soaked test here is bounded as `test` bounds a body. */
const ROUND_MS = 15_000;

/** Outcome of each of `calls` one-key stores: 'ok' or 'error' (host generation `generation`). */
async function storeOutcomes(options: FaultOptions, calls: number, generation = 0): Promise<string[]> {
  const m = hosted(new FaultAdapter(new MockAdapter(), options, generation), 'fault');
  const keys = chunkKeys(calls);
  const out: string[] = [];
  for (let i = 0; i < calls; i++) {
    out.push(await m.host.store(keys.subarray(i * 4, i * 4 + 4), Int32Array.of(0), Uint32Array.of(64)).then(() => 'ok', () => 'error'));
  }
  return out;
}

test('the PRNG is deterministic by seed and uniform enough', () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const seqA = Array.from({ length: 5 }, () => a.next());
  assert.equal(seqA, Array.from({ length: 5 }, () => b.next()));
  const c = new Prng(43);
  assert.not.equal(seqA, Array.from({ length: 5 }, () => c.next()));
  const r = new Prng(7);
  let hits = 0;
  for (let i = 0; i < 10_000; i++) if (r.chance(0.3)) hits++;
  assert.ok(hits > 2700 && hits < 3300, `${hits} of 10000 at p = 0.3`);
});

uvuTest('same seed, same calls: the same faults', () => soak('adapters-fault/same-seed', async ({ seed }) => {
  const options = { seed, storeErrorRate: 0.5 };
  const first = await storeOutcomes(options, 40);
  assert.equal(await storeOutcomes(options, 40), first);
  assert.ok(first.includes('ok') && first.includes('error'));
  assert.not.equal(await storeOutcomes({ ...options, seed: seed + 1 }, 40), first);
  return 120;
}, { seed: 1234, roundMs: ROUND_MS }));

test('a restarted host draws its own faults: generation 0 is the seed\'s sequence, later generations differ', async () => {
  const options = { seed: 7, storeErrorRate: 0.5 };
  const first = await storeOutcomes(options, 40);
  assert.equal(await storeOutcomes(options, 40, 0), first);
  const second = await storeOutcomes(options, 40, 1);
  assert.not.equal(second, first, 'a fault that ended one host is not replayed by the next');
  assert.equal(await storeOutcomes(options, 40, 1), second, 'each generation is still deterministic');
  const module: AdapterModule = await import('../src/fault.ts');
  const restarted = await module.createAdapter({ type: 'fault', seed: 7, storeErrorRate: 0.5, inner: { type: 'mock' } }, { index: 0, field: 'adapters[0]', generation: 1 });
  const outcomes: string[] = [];
  const keys = chunkKeys(40);
  for (let i = 0; i < 40; i++) outcomes.push(await restarted.store(keys.subarray(i * 4, i * 4 + 4), [[new Uint8Array(64)]]).then(() => 'ok', () => 'error'));
  assert.equal(outcomes, second, 'createAdapter passes the generation of its context');
  await restarted.close();
});

test('store errors: rate 1 fails every store with KVT_ERR_ADAPTER; rate 0 none', async () => {
  assert.equal(await storeOutcomes({ storeErrorRate: 1 }, 5), ['error', 'error', 'error', 'error', 'error']);
  assert.equal(await storeOutcomes({ storeErrorRate: 0 }, 5), ['ok', 'ok', 'ok', 'ok', 'ok']);
  const m = hosted(new FaultAdapter(new MockAdapter(), { storeErrorRate: 1 }), 'fault');
  await m.store(chunkKeys(1), 10).then(
    () => assert.unreachable('store succeeded'),
    (err) => {
      assert.is(err.code, 'KVT_ERR_ADAPTER');
      assert.match(err.message, /adapter 0 \(fault\): store failed: injected store error/);
    },
  );
});

test('load and lookup errors fail those calls only', async () => {
  const adapter = new FaultAdapter(new MockAdapter(), { loadErrorRate: 1, lookupErrorRate: 1 });
  const m = hosted(adapter, 'fault');
  const keys = chunkKeys(2);
  await m.store(keys, 100);
  await m.load(keys, 100).then(() => assert.unreachable('load succeeded'), (err) => assert.match(err.message, /load failed: injected load error/));
  await m.host.lookupAndLock(keys, 1).then(() => assert.unreachable('lookup succeeded'), (err) => assert.match(err.message, /lookup failed: injected lookup error/));
  assert.is(adapter.injected.loadErrors, 1);
  assert.is(adapter.injected.lookupErrors, 1);
  assert.is(await m.host.pinCount(), 0);
});

uvuTest('corruption: a corrupted load is caught by the envelope, a miss, and the object deleted', () => soak('adapters-fault/corruption', async () => {
  const adapter = new FaultAdapter(new MockAdapter(), { corruptRate: 1 });
  const m = hosted(adapter, 'fault');
  const keys = chunkKeys(3);
  await m.store(keys, 5000);
  assert.equal(await m.load(keys, 5000), []);
  assert.is(adapter.injected.corruptions, 3);
  assert.is(m.host.counters.integrityFailureCount, 3);
  assert.equal([...(await adapter.lookup(keys))], [-1, -1, -1]);
  // 3 keys stored, loaded and looked up.
  return 9;
}, { roundMs: ROUND_MS }));

uvuTest('lost completions: the call never settles (a deadline is what ends it)', () => soak('adapters-fault/lost-completion', async () => {
  const adapter = new FaultAdapter(new MockAdapter(), { lostRate: 1 });
  const m = hosted(adapter, 'fault');
  await withDeadline(m.store(chunkKeys(1), 10), 200, 'lost store').then(
    () => assert.unreachable('a lost store completed'),
    (err) => assert.is(err.code, 'KVT_ERR_TIMEOUT'),
  );
  assert.is(adapter.injected.lost, 1);
  return 1;
}, { roundMs: ROUND_MS }));

test('delays: a delayed call starts delayMs late and still succeeds', async () => {
  const adapter = new FaultAdapter(new MockAdapter(), { delayRate: 1, delayMs: 120 });
  const m = hosted(adapter, 'fault');
  const started = performance.now();
  assert.equal([...(await m.store(chunkKeys(1), 10))], [1]);
  assert.ok(performance.now() - started >= 110);
  assert.is(adapter.injected.delays, 1);
});

test('the fault module builds its inner adapter by registered type', async () => {
  const module: AdapterModule = await import('../src/fault.ts');
  const adapter = await module.createAdapter({ type: 'fault', inner: { type: 'mock', capacityBytes: 1000 } }, { index: 3, field: 'adapters[3]' });
  const status = await adapter.status();
  assert.is(status.healthy, true);
  assert.equal((status.inner as { capacityBytes: number }).capacityBytes, 1000);
  await adapter.close();
});

test('fault config: inner is validated by its own type; rates must be in [0, 1]', () => {
  const v = (c: Record<string, unknown>) => () => validateAdapterConfig({ type: 'fault', inner: { type: 'mock' }, ...c }, 'adapters[2]');
  v({ seed: 5, storeErrorRate: 0.1, delayMs: 0 })();
  assert.throws(v({ inner: { type: 'nope' } }), /config\.adapters\[2\]\.inner\.type: unknown adapter type "nope"/);
  assert.throws(v({ inner: { type: 'mock', bandwidthGBps: -1 } }), /config\.adapters\[2\]\.inner\.bandwidthGBps/);
  assert.throws(v({ corruptRate: 1.5 }), /config\.adapters\[2\]\.corruptRate: must be a number in \[0, 1\], got 1\.5/);
  assert.throws(v({ seed: -1 }), /config\.adapters\[2\]\.seed/);
  assert.throws(v({ lossRate: 0.1 }), /config\.adapters\[2\]\.lossRate: is not a field of a fault adapter/);
});

test('fault capacityBytes is enforced by its inner adapter: a store past it answers 0', async () => {
  const module: AdapterModule = await import('../src/fault.ts');
  const adapter = await module.createAdapter({ type: 'fault', capacityBytes: 100, inner: { type: 'mock' } }, { index: 0, field: 'adapters[0]' });
  const keys = chunkKeys(2);
  assert.equal([...(await adapter.store(keys, [[new Uint8Array(60)], [new Uint8Array(60)]]))], [1, 0]);
  assert.equal(await adapter.usage(), { usedBytes: 60, capacityBytes: 100 });
  await adapter.close();
});

test('fault config: a capacityBytes different from the inner one is refused, naming both', () => {
  assert.throws(() => validateAdapterConfig({ type: 'fault', capacityBytes: 100, inner: { type: 'mock', capacityBytes: 200 } }, 'adapters[1]'),
    /config\.adapters\[1\]\.capacityBytes: the inner adapter enforces it, but adapters\[1\]\.inner\.capacityBytes is 200, not 100/);
  validateAdapterConfig({ type: 'fault', capacityBytes: 100, inner: { type: 'mock', capacityBytes: 100 } }, 'adapters[1]');
});

uvuTest.run();

// The eviction controller in-process: reconciliation with L1, policy feeding, L2 pins.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EvictionController, type EvictionContext } from '../src/controllers/eviction.ts';
import { withDeadline } from '../src/deadline.ts';
import type { L1Manager } from '../src/l1/l1-manager.ts';
import { HEADER_BYTES } from '../src/l2/envelope.ts';
import { AdapterHost } from '../src/l2/host.ts';
import { Counter } from '../src/metrics.ts';
import { createEvictionPolicy } from '../src/policies/eviction-policies.ts';
import { L2EventRing } from '../src/l2/event-ring.ts';
import { hosts, ids, keys, metrics, smallL1, write } from './controller-fixtures.ts';

function context(l1: L1Manager, extra: Partial<EvictionContext> = {}): EvictionContext {
  return {
    l1, l1Policy: createEvictionPolicy<string>('lru'), l1Eviction: { watermark: 0.5, ratio: 0.25 }, l2: [], metrics: metrics(),
    adapterCallTimeoutMs: 1000, intervalMs: 10, reconcileIntervalMs: 60_000, wait: async () => {}, stopped: () => false, ...extra,
  };
}

test('objects the policy never heard of (events lost) are found by reconciliation and evicted', () => {
  const l1 = smallL1(8);
  const batch = keys(...ids(6));
  write(l1, batch);
  l1.drainEvents(() => {});
  const ctx = context(l1);
  const c = new EvictionController(ctx);
  assert.is(c.evictL1(), 0, 'an empty policy evicts nothing');
  c.reconcileL1();
  assert.is(ctx.l1Policy.size, 6);
  assert.is(c.evictL1(), 1, '6/8 ≥ 0.5: ⌊0.25 × 6⌋ = 1');
  assert.is(ids(6).filter((i) => l1.state(batch, i) === null).length, 1);
});

test('reconciliation forgets objects that left L1 unseen: nothing unknown is evicted', () => {
  const l1 = smallL1(8);
  const batch = keys(...ids(6));
  write(l1, batch);
  const ctx = context(l1);
  const c = new EvictionController(ctx);
  c.reconcileL1();
  l1.delete(batch.slice(0, 8));
  l1.drainEvents(() => {});
  c.reconcileL1();
  assert.is(ctx.l1Policy.size, 4);
  assert.not.ok(ctx.l1Policy.has('0'));
});

test('L1 events feed the policy: a touched object leaves after the untouched ones', () => withDeadline((async () => {
  const l1 = smallL1(8);
  const batch = keys(...ids(5));
  write(l1, batch);
  l1.touch(batch.slice(0, 4));
  const ctx = context(l1, { l1Eviction: { watermark: 0.5, ratio: 0.5 } });
  const c = new EvictionController(ctx);
  await c.cycle();
  assert.is(ctx.metrics.get(Counter.L1_EVICTIONS), 2);
  assert.ok(l1.state(batch, 0) !== null, 'key 0 was touched last');
})(), 5_000, 'test'));

test('L2: one store call feeds the adapter policy as one batch, tail first; a pinned key is skipped without stalling', () => withDeadline((async () => {
  const l1 = smallL1(8);
  const ring = new L2EventRing(64);
  const { raw } = hosts(l1, 1);
  const host = new AdapterHost({ adapter: raw[0], index: 0, type: 'memory', l1, events: ring });
  const objectBytes = 4096 + HEADER_BYTES;
  raw[0].usage = async () => ({ usedBytes: raw[0].objects.size * objectBytes, capacityBytes: 5 * objectBytes });
  const batch = keys(...ids(4));
  write(l1, batch);
  await host.store(batch, l1.reserveRead(batch).slots, new Uint32Array(4).fill(4096));
  l1.finishRead(batch);
  await host.lookupAndLock(batch.slice(12, 16), 1);
  const policy = createEvictionPolicy<string>('lru');
  const target = { index: 0, adapter: host, policy, watermark: 0.5, ratio: 0.5, drainEvents: (visit: Parameters<L2EventRing['drain']>[0]) => { ring.drain(visit); } };
  const c = new EvictionController(context(l1, { l2: [target] }));
  // 4/5 ≥ 0.5: victims are the tail of the stored batch, keys 3 and 2; key 3 is pinned and skipped.
  assert.is(await c.evictL2(target), 1);
  // 3/5 ≥ 0.5: one victim; key 3 went back to the newest end, so key 1 goes, not a stall on key 3.
  assert.is(await c.evictL2(target), 1);
  // 2/5 < 0.5: nothing.
  assert.is(await c.evictL2(target), 0);
  const left = await host.lookupAndLock(batch, 1);
  assert.equal(Array.from({ length: 4 }, (_, i) => (left.found.words[0] >>> i) & 1), [1, 0, 0, 1]);
  await host.unlock(batch, 1);
  await host.unlock(batch.slice(12, 16), 1);
  assert.is(await host.pinCount(), 0);
})(), 5_000, 'test'));

test('L1: the events of one batch call reach the policy as one batch: its tail is evicted first', () => withDeadline((async () => {
  const l1 = smallL1(8);
  const batch = keys(...ids(6));
  write(l1, batch);
  const ctx = context(l1, { l1Eviction: { watermark: 0.5, ratio: 0.34 } });
  await new EvictionController(ctx).cycle();
  // 6/8 ≥ 0.5: ⌊0.34 × 6⌋ = 2 victims, the last two keys of the batch.
  assert.equal(ids(6).map((i) => l1.state(batch, i) !== null), [true, true, true, true, false, false]);
})(), 5_000, 'test'));

test('L2: unknown usage (-1) never evicts', () => withDeadline((async () => {
  const l1 = smallL1(8);
  const { hosts: h } = hosts(l1, 1);
  const policy = createEvictionPolicy<string>('lru');
  policy.created(['1.2.3.4']);
  const target = { index: 0, adapter: h[0], policy, watermark: 0.01, ratio: 1, drainEvents: () => {} };
  const c = new EvictionController(context(l1, { l2: [target] }));
  assert.is(await c.evictL2(target), 0);
  assert.is(policy.size, 1);
})(), 5_000, 'test'));

test.run();

// The prefetch controller in-process: real L1 and adapter hosts; joins, FIFO, abandoned calls.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PrefetchController } from '../src/controllers/prefetch.ts';
import { withDeadline } from '../src/deadline.ts';
import { L1Error, type DigestBatch } from '../src/l1/api.ts';
import type { L1Manager } from '../src/l1/l1-manager.ts';
import type { AdapterHost } from '../src/l2/host.ts';
import { AdapterCounter } from '../src/metrics.ts';
import { createPrefetchPolicy } from '../src/policies/prefetch.ts';
import { SIZE, hostLiveness, hosts, ids, keys, metrics, smallL1, write } from './controller-fixtures.ts';

/** Stores `batch` in every host through L1, then removes it from L1. */
async function seed(l1: L1Manager, h: readonly AdapterHost[], batch: DigestBatch): Promise<void> {
  write(l1, batch);
  const claimed = l1.takeDirty(1000);
  for (const host of h) await host.store(claimed.keys, claimed.slots, claimed.sizes);
  l1.finishRead(claimed.keys);
  l1.delete(batch);
}

function controller(l1: L1Manager, h: readonly AdapterHost[], opts: { maxInFlight?: number; adapterCallTimeoutMs?: number } = {}) {
  const live = hostLiveness(h.length);
  const results = new Map<number, number>();
  const order: number[] = [];
  const m = metrics();
  const c = new PrefetchController({
    l1, adapters: h, hosts: live.hosts, policy: createPrefetchPolicy('default'), metrics: m,
    adapterCallTimeoutMs: opts.adapterCallTimeoutMs ?? 1000, maxInFlight: opts.maxInFlight ?? 8,
    publish: ({ requestId }, hits) => { results.set(requestId, hits); order.push(requestId); },
  });
  // Pin owners 1..999 are the tests' own; a request's is 1000 + its id.
  const run = (id: number, batch: DigestBatch, extraCount = 0) => c.submit({ requestId: id, keys: batch, extraCount, submittedAt: Date.now(), pinOwner: 1000 + id });
  const settled = async (n: number) => { while (results.size < n) await new Promise((r) => setTimeout(r, 2)); };
  return { c, m, results, order, run, settled, live };
}

test('concurrent requests for the same keys: one load, both read-lock every key', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 1);
  const batch = keys(...ids(4));
  await seed(l1, h, batch);
  const { results, run, settled, m } = controller(l1, h);
  run(1, batch);
  run(2, batch);
  await settled(2);
  assert.equal([results.get(1), results.get(2)], [4, 4]);
  assert.is(raw[0].calls.load, 1, 'the second request joined the first one\'s load');
  assert.is(m.getAdapter(0, AdapterCounter.LOAD_KEYS), 4);
  assert.equal(ids(4).map((i) => l1.state(batch, i)!.readLocks), [2, 2, 2, 2]);
  for (let i = 0; i < 4; i++) assert.is(l1.view(l1.unsafeRead(batch).slots[i], SIZE)[0], (1 + i) & 0xff);
  l1.finishRead(batch, { extraCount: 1 });
  assert.is(l1.usage().objects, 0);
  assert.is(await h[0].pinCount(), 0);
})(), 10_000, 'test'));

test('a request calls each adapter host twice, lookupAndLock then loadAndUnlock; its pins are gone when it is published', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h } = hosts(l1, 2);
  const batch = keys(...ids(4));
  await seed(l1, h, batch);
  // Adapter 1 holds every key but the policy loads them all from adapter 0: its pins go in an unlock.
  const calls: string[][] = [[], []];
  const counted = h.map((host, a) => new Proxy(host, {
    get: (target, name) => {
      const value = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => { calls[a].push(String(name)); return Reflect.apply(value, target, args); };
    },
  }));
  let published: Promise<[number, number[]]> | undefined;
  const c = new PrefetchController({
    l1, adapters: counted, hosts: hostLiveness(2).hosts, policy: createPrefetchPolicy('default'), metrics: metrics(),
    adapterCallTimeoutMs: 1000, maxInFlight: 8,
    // pinCount reads the count when called: these are the pins at the moment of publishing.
    publish: (_, hits) => { published = Promise.all(h.map((host) => host.pinCount())).then((pins) => [hits, pins]); },
  });
  c.submit({ requestId: 1, keys: batch, extraCount: 0, submittedAt: Date.now(), pinOwner: 1 });
  while (published === undefined) await new Promise((r) => setTimeout(r, 2));
  assert.equal(await published, [4, [0, 0]]);
  assert.equal(calls, [['lookupAndLock', 'loadAndUnlock'], ['lookupAndLock', 'unlock']]);
  for (let i = 0; i < 4; i++) assert.is(l1.view(l1.unsafeRead(batch).slots[i], SIZE)[0], (1 + i) & 0xff);
  l1.finishRead(batch);
})(), 10_000, 'test'));

test('maxInFlight 1: requests run one at a time, in submit order', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h } = hosts(l1, 1);
  const batch = keys(...ids(6));
  await seed(l1, h, batch);
  const { c, order, run, settled } = controller(l1, h, { maxInFlight: 1 });
  for (let r = 0; r < 3; r++) run(r + 1, batch.slice(r * 8, r * 8 + 8));
  assert.is(c.running, 1);
  await settled(3);
  assert.equal(order, [1, 2, 3]);
  l1.finishRead(batch);
})(), 10_000, 'test'));

/**
 * Keys 0 and 1 seeded on `adapterCount` hosts, adapter 0 made to hang on `method`, and one request
 * of both keys served by a controller with a 50 ms call deadline, until it settled.
 */
async function servedWithHangingCall(adapterCount: number, method: 'lookup' | 'load') {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, adapterCount);
  const batch = keys(0, 1);
  await seed(l1, h, batch);
  raw[0].hang.add(method);
  const ctl = controller(l1, h, { adapterCallTimeoutMs: 50 });
  ctl.run(1, batch);
  await ctl.settled(1);
  return { l1, h, raw, batch, ...ctl };
}

test('a lookup that never answers is abandoned: that adapter counts as holding nothing', () => withDeadline((async () => {
  const { l1, h, batch, results, m } = await servedWithHangingCall(2, 'lookup');
  assert.is(results.get(1), 2, 'adapter 1 served both keys');
  assert.is(m.getAdapter(0, AdapterCounter.ABANDONED_CALLS), 1);
  assert.is(await h[0].pinCount(), 0);
  assert.is(await h[1].pinCount(), 0);
  l1.finishRead(batch);
})(), 10_000, 'test'));

test('a lookup answering after its deadline releases only its own pins: another owner keeps its pin on the same keys', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 1);
  const batch = keys(0, 1);
  await seed(l1, h, batch);
  // Another request holds both keys pinned for the whole test.
  await h[0].lookupAndLock(batch, 1);
  raw[0].lookupDelayMs = 200;
  const { results, run, settled } = controller(l1, h, { adapterCallTimeoutMs: 50 });
  run(1, batch);
  await settled(1);
  assert.is(results.get(1), 0, 'the lookup was abandoned: nothing loaded');
  // The abandoned lookup answers late; the controller's release of it must take that request's pins only.
  while (raw[0].lookupsAnswered < 2) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
  assert.is(await h[0].pinCount(), 2, 'the other owner\'s pins survive the abandoned lookup\'s releases');
  assert.equal([...(await h[0].delete(batch))], [0, 0], 'eviction cannot delete what the other owner pinned');
  await h[0].unlock(batch, 1);
  assert.is(await h[0].pinCount(), 0);
})(), 10_000, 'test'));

test('a load that never answers: a miss, its slots and pins held until its host is terminated (asked one deadline later)', () => withDeadline((async () => {
  const { l1, h, batch, results, live } = await servedWithHangingCall(1, 'load');
  assert.is(results.get(1), 0);
  assert.is(l1.usage().objects, 2, 'quarantined: still write-locked, not reusable');
  assert.is(l1.state(batch, 0)!.readable, false);
  await new Promise((r) => setTimeout(r, 150));
  assert.is(l1.usage().objects, 2, 'still quarantined past one more deadline: the host may still write');
  assert.is(await h[0].pinCount(), 2, 'still pinned: the load may still read the objects, eviction must not delete them');
  assert.equal([...(await h[0].delete(batch))], [0, 0]);
  assert.equal(live.endRequestedHosts(), [0]);
  while (l1.usage().objects !== 0) await new Promise((r) => setTimeout(r, 5));
  // An in-process host cannot die: closing it is what the end of its thread does to its pins.
  await h[0].close();
  assert.is(await h[0].pinCount(), 0);
})(), 10_000, 'test'));

test('a load answering after its deadline and the grace period never writes into a reused slot', () => withDeadline((async () => {
  const l1 = smallL1(2);
  const { hosts: h, raw } = hosts(l1, 1);
  const batch = keys(0, 1);
  await seed(l1, h, batch);
  raw[0].loadDelayMs = 400;
  const { results, run, settled, live } = controller(l1, h, { adapterCallTimeoutMs: 50 });
  run(1, batch);
  await settled(1);
  assert.is(results.get(1), 0);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(live.endRequestedHosts(), [0], 'termination asked after the grace period');
  // Here the host cannot die, so the late answer is what frees the slots; until then nothing
  // else may get them: L1 has only these two.
  const other = keys(7, 8);
  assert.equal(Array.from(l1.reserveWrite(other, SIZE).codes), [L1Error.OUT_OF_MEMORY, L1Error.OUT_OF_MEMORY]);
  while (l1.usage().objects !== 0) await new Promise((r) => setTimeout(r, 5));
  write(l1, other, 200);
  await new Promise((r) => setTimeout(r, 50));
  const r = l1.reserveRead(other);
  assert.ok(l1.view(r.slots[0], SIZE).every((b) => b === 200) && l1.view(r.slots[1], SIZE).every((b) => b === 201), 'bytes intact');
  l1.finishRead(other);
  // The host releases the pins of a load when it ends, late or not (the test's deadline bounds this).
  while (await h[0].pinCount() !== 0) await new Promise((r) => setTimeout(r, 5));
})(), 10_000, 'test'));

test('stop fails queued requests as CLOSED and waits for running ones', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h } = hosts(l1, 1);
  const batch = keys(0, 1, 2);
  await seed(l1, h, batch);
  const { c, results, run } = controller(l1, h, { maxInFlight: 1 });
  run(1, batch.slice(0, 4));
  run(2, batch.slice(4, 8));
  await c.stop();
  assert.is(results.get(1), 1);
  assert.is(results.get(2), 0);
  l1.finishRead(batch.slice(0, 4));
  assert.is(l1.usage().objects, 0);
})(), 10_000, 'test'));

test.run();

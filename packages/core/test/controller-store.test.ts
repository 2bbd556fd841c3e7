// The store controller in-process: real L1 and adapter hosts, custom policies, back-pressure,
// abandoned calls.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runStoreController, type StoreContext } from '../src/controllers/store.ts';
import { withDeadline } from '../src/deadline.ts';
import { HEADER_BYTES } from '../src/l2/envelope.ts';
import { AdapterCounter, AdapterOp, Counter, FailureReason } from '../src/metrics.ts';
import type { StorePolicy } from '../src/policies/store.ts';
import { createStorePolicy } from '../src/policies/store.ts';
import { SIZE, hostLiveness, hosts, ids, keys, metrics, smallL1, write } from './controller-fixtures.ts';

/** Runs the store controller until `until()` holds, then stops it and waits for it to return. */
async function runUntil(ctx: Omit<StoreContext, 'stopped' | 'waitDirty'>, until: () => boolean | Promise<boolean>): Promise<void> {
  let stop = false;
  const l1 = ctx.l1 as unknown as { waitDirtyAsync(ms: number): Promise<boolean> };
  const done = runStoreController({ ...ctx, stopped: () => stop, waitDirty: async (ms) => { await l1.waitDirtyAsync(ms); } });
  while (!(await until())) await new Promise((r) => setTimeout(r, 5));
  stop = true;
  await done;
}

const BASE = { adapterCallTimeoutMs: 1000, maxRetries: 2, backoffMs: 1, maxInFlightBytesPerAdapter: 1 << 20, batchKeys: 64, hosts: hostLiveness(2).hosts };

const nothing: StorePolicy = { name: 'nothing', targets: () => new Map(), deleteFromL1: () => [] };
const firstOnly: StorePolicy = { name: 'first', targets: (k) => new Map([[0, k.slice()]]), deleteFromL1: () => [] };

test('a policy returning no targets stores nothing and releases the read locks', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 1);
  const batch = keys(0, 1);
  write(l1, batch);
  await runUntil({ ...BASE, l1, adapters: h, policy: nothing, metrics: metrics() }, () => l1.dirtyCount() === 0 && l1.state(batch, 0)!.readLocks === 0);
  assert.is(raw[0].objects.size, 0);
  assert.is(l1.state(batch, 1)!.readLocks, 0);
})(), 10_000, 'test'));

test('a policy targeting adapter 0 only leaves adapter 1 empty', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 2);
  write(l1, keys(0, 1, 2));
  await runUntil({ ...BASE, l1, adapters: h, policy: firstOnly, metrics: metrics() }, () => raw[0].objects.size === 3);
  assert.is(raw[1].objects.size, 0);
})(), 10_000, 'test'));

test('skip_l1 keeps a key in L1 when one target failed to store it', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 2);
  raw[1].fail.add('store');
  const m = metrics();
  const batch = keys(0);
  write(l1, batch);
  await runUntil({ ...BASE, l1, adapters: h, policy: createStorePolicy('skip_l1'), metrics: m }, () => m.get(Counter.STORE_DROPPED_KEYS) === 1 && l1.state(batch, 0)!.readLocks === 0);
  assert.ok(l1.state(batch, 0) !== null, 'the only complete copy stays');
  assert.is(raw[0].objects.size, 1);
})(), 10_000, 'test'));

test('in-flight bytes per adapter stay within the budget', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 1);
  raw[0].storeDelayMs = 20;
  const m = metrics();
  const ctx = { ...BASE, l1, adapters: h, policy: createStorePolicy('default'), metrics: m, batchKeys: 1, maxInFlightBytesPerAdapter: 2 * SIZE };
  let stop = false;
  const done = runStoreController({ ...ctx, stopped: () => stop, waitDirty: async (ms) => { await l1.waitDirtyAsync(ms); } });
  write(l1, keys(...ids(8)));
  while (m.getAdapter(0, AdapterCounter.STORE_KEYS) < 8) await new Promise((r) => setTimeout(r, 5));
  stop = true;
  await done;
  assert.ok(raw[0].maxConcurrentStoreBytes > 0);
  assert.ok(raw[0].maxConcurrentStoreBytes <= 2 * (SIZE + HEADER_BYTES), `at most two objects in flight, saw ${raw[0].maxConcurrentStoreBytes} bytes`);
})(), 10_000, 'test'));

test('a store call that never answers keeps its read lock until its host is terminated, asked one deadline after abandoning', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 1);
  const live = hostLiveness(1);
  raw[0].hang.add('store');
  const m = metrics();
  const batch = keys(0);
  write(l1, batch);
  let stop = false;
  const done = runStoreController({
    ...BASE, l1, adapters: h, hosts: live.hosts, policy: createStorePolicy('default'), metrics: m, adapterCallTimeoutMs: 50, maxRetries: 1,
    stopped: () => stop, waitDirty: async (ms) => { await l1.waitDirtyAsync(ms); },
  });
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (m.get(Counter.STORE_DROPPED_KEYS) === 0) await wait(5);
  assert.is(m.getAdapter(0, AdapterCounter.ABANDONED_CALLS), 2);
  assert.is(m.getFailures(0, AdapterOp.STORE, FailureReason.TIMEOUT), 2);
  // Well past one more deadline: the host may still read the slot, so the lock stays.
  await wait(150);
  assert.is(l1.state(batch, 0)!.readLocks, 1, 'read lock held while the call may still read the slot');
  assert.equal(live.endRequestedHosts(), [0], 'the silent host was asked to be terminated');
  while (l1.state(batch, 0)!.readLocks !== 0) await wait(5);
  assert.ok(l1.state(batch, 0) !== null, 'the object stays in L1');
  stop = true;
  await done;
})(), 10_000, 'test'));

test('stop waits for the batches in flight: no read lock outlives the controller', () => withDeadline((async () => {
  const l1 = smallL1();
  const { hosts: h, raw } = hosts(l1, 1);
  raw[0].storeDelayMs = 50;
  const batch = keys(0, 1, 2);
  write(l1, batch);
  await runUntil({ ...BASE, l1, adapters: h, policy: createStorePolicy('default'), metrics: metrics() }, () => l1.dirtyCount() === 0);
  assert.equal(ids(3).map((i) => l1.state(batch, i)!.readLocks), [0, 0, 0]);
  assert.is(raw[0].objects.size, 3);
})(), 10_000, 'test'));

test.run();

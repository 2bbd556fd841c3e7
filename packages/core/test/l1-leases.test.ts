// "L1: leases and threads" (the in-process part: lease expiry, reclaimThread on an
// owner of this thread, detach). Real dying workers are in l1-threads.test.ts.
import { threadId } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '../src/deadline.ts';
import { ErrorCode } from '../src/errors.ts';
import { L1EventKind } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { checkedL1, keys, names, ready, sleep, throwsCode } from './l1-helpers.ts';

// Long enough that a stalled CI machine does not expire a lease between two adjacent calls.
const LEASE_MS = 300;

test('a write lock past its deadline: the object is discarded, never readable, its slot free', () =>
  withDeadline((async () => {
    const l1 = checkedL1({ writeLeaseMs: LEASE_MS });
    l1.reserveWrite(keys(1), 100);
    await sleep(LEASE_MS + 50);
    assert.equal(names(l1.reserveRead(keys(1)).codes), ['KEY_NOT_EXIST']);
    assert.equal(names(l1.finishWrite(keys(1))), ['KEY_NOT_EXIST']);
    assert.is(l1.usage().freeSlots, 8);
    assert.is(l1.status().counters.expiredWrites, 1);
  })(), 5000, 'write lease test'));

test('an expired update of a readable object discards it (reported removed), never readable again', () =>
  withDeadline((async () => {
    const l1 = checkedL1({ writeLeaseMs: LEASE_MS });
    ready(l1, keys(1));
    l1.reserveWrite(keys(1), 200, { mode: 'update' });
    await sleep(LEASE_MS + 50);
    assert.is(l1.state(keys(1), 0), null);
    const kinds: number[] = [];
    l1.drainEvents((kind) => kinds.push(kind));
    assert.equal(kinds, [L1EventKind.CREATED, L1EventKind.REMOVED]);
  })(), 5000, 'update lease test'));

test('a read lock past its deadline no longer blocks writers or deletion', () =>
  withDeadline((async () => {
    const l1 = checkedL1({ readLeaseMs: LEASE_MS });
    ready(l1, keys(1, 2));
    l1.reserveRead(keys(1, 2));
    assert.equal(names(l1.reserveWrite(keys(1), 100, { mode: 'update' }).codes), ['KEY_NOT_WRITABLE']);
    await sleep(LEASE_MS + 50);
    assert.equal(names(l1.reserveWrite(keys(1), 100, { mode: 'update' }).codes), ['SUCCESS']);
    assert.equal(names(l1.delete(keys(2))), ['SUCCESS']);
    assert.is(l1.status().counters.expiredReads, 2);
  })(), 5000, 'read lease test'));

test('a read lock past its deadline no longer locks the key, but its slot is not reused until the reader lets go', () =>
  withDeadline((async () => {
    const l1 = checkedL1({ slotCount: 1, readLeaseMs: LEASE_MS });
    ready(l1, keys(1));
    l1.reserveRead(keys(1));
    assert.equal(names(l1.reserveWrite(keys(2), 100).codes), ['OUT_OF_MEMORY']);
    await sleep(LEASE_MS + 50);
    const state = l1.state(keys(1), 0)!;
    assert.ok(state.readable && state.writable && state.readLocks === 0, 'the key is unlocked');
    assert.equal(names(l1.reserveWrite(keys(2), 100).codes), ['OUT_OF_MEMORY'], 'the only slot is still the reader\'s');
    assert.equal(names(l1.finishRead(keys(1))), ['SUCCESS']);
    assert.equal(names(l1.reserveWrite(keys(2), 100).codes), ['SUCCESS']);
    assert.is(l1.state(keys(1), 0), null);
  })(), 5000, 'read lease eviction test'));

test('expireLeases(now) applies every deadline at once and reports what expired', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  l1.reserveRead(keys(1));
  l1.reserveWrite(keys(2, 3), 100);
  assert.equal(l1.expireLeases(), { writes: 0, reads: 0 });
  assert.equal(l1.expireLeases(Date.now() + 3_600_000), { writes: 2, reads: 1 });
  assert.is(l1.usage().objects, 1);
  assert.is(l1.state(keys(1), 0)!.readLocks, 0);
});

test('reclaimThread releases an owner\'s read locks and discards its unfinished writes; no slot leaks', () => {
  const main = checkedL1();
  const other = L1Manager.attach(main.handle);
  ready(main, keys(1, 2));
  main.reserveRead(keys(1));
  other.reserveRead(keys(1, 2), { extraCount: 2 });
  other.reserveWrite(keys(3, 4), 100);
  other.finishWrite(keys(4));
  const result = main.reclaimThread(other.ownerId, threadId);
  assert.equal(result, { writesDiscarded: 1, readLocksReleased: 6 });
  assert.is(main.state(keys(1), 0)!.readLocks, 1, 'the main owner\'s lock stays');
  assert.is(main.state(keys(2), 0)!.readLocks, 0);
  assert.is(main.state(keys(3), 0), null);
  assert.ok(main.state(keys(4), 0)!.readable, 'finished writes stay');
  assert.is(main.usage().freeSlots, 5);
  assert.is(main.status().counters.reclaimedThreads, 1);
});

test('locks released by another owner are taken from the releaser first, then from whoever holds them', () => {
  const main = checkedL1();
  const worker = L1Manager.attach(main.handle);
  ready(main, keys(1));
  worker.reserveRead(keys(1), { extraCount: 1 });
  main.finishRead(keys(1));
  // One of the worker's two locks was released by main: reclaiming the worker releases the other.
  assert.equal(main.reclaimThread(worker.ownerId, threadId), { writesDiscarded: 0, readLocksReleased: 1 });
  assert.is(main.state(keys(1), 0)!.readLocks, 0);
});

test('reclaiming frees a temporary object whose last lock was the dead owner\'s', () => {
  const main = checkedL1();
  const worker = L1Manager.attach(main.handle);
  worker.reserveWrite(keys(1), 100, { temporary: true });
  worker.finishWriteAndReserveRead(keys(1));
  main.reclaimThread(worker.ownerId, threadId);
  assert.is(main.state(keys(1), 0), null);
  assert.is(main.usage().freeSlots, 8);
});

test('owner ids: attach registers a new one, ownersOfThread finds them, detach frees it', () => {
  const main = L1Manager.create({ slotBytes: 4096, slotCount: 4, maxThreads: 2 });
  const second = L1Manager.attach(main.handle);
  assert.is.not(second.ownerId, main.ownerId);
  assert.equal(main.ownersOfThread(0), [main.ownerId, second.ownerId]);
  throwsCode(() => L1Manager.attach(main.handle), ErrorCode.CAPACITY, /all 2 thread slots are in use \(config\.l1\.maxThreads\)/);
  second.reserveWrite(keys(1), 100);
  assert.equal(second.detach(), { writesDiscarded: 1, readLocksReleased: 0 });
  throwsCode(() => second.reserveRead(keys(1)), ErrorCode.CLOSED, /was detached/);
  assert.is(L1Manager.attach(main.handle).ownerId, second.ownerId, 'the id is reusable');
});

test('reclaimThread rejects ids that are not owners, and its own id', () => {
  const l1 = checkedL1();
  throwsCode(() => l1.reclaimThread(0, threadId), ErrorCode.INVALID_ARGUMENT, /ownerId must be an integer in \[1, 32\], got 0/);
  throwsCode(() => l1.reclaimThread(33, threadId), ErrorCode.INVALID_ARGUMENT, /got 33/);
  throwsCode(() => l1.reclaimThread(l1.ownerId, threadId), ErrorCode.INVALID_ARGUMENT, /use detach\(\)/);
});

test.run();

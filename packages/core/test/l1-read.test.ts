// "L1: reserveRead", "L1: unsafeRead", "L1: finishRead".
import { threadId } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SLOT } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { checkedL1, keys, names, ready } from './l1-helpers.ts';

// ---- reserveRead

test('reserveRead: absent -> KEY_NOT_EXIST, no slot', () => {
  const l1 = checkedL1();
  const r = l1.reserveRead(keys(1));
  assert.equal(names(r.codes), ['KEY_NOT_EXIST']);
  assert.is(r.slots[0], NO_SLOT);
  assert.is(r.sizes[0], 0);
});

test('reserveRead: reserved for write, not finished -> KEY_NOT_READABLE', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100);
  assert.equal(names(l1.reserveRead(keys(1)).codes), ['KEY_NOT_READABLE']);
});

test('reserveRead: ready -> SUCCESS with the slot and size', () => {
  const l1 = checkedL1();
  const w = l1.reserveWrite(keys(1), 123);
  l1.finishWrite(keys(1));
  const r = l1.reserveRead(keys(1));
  assert.equal(names(r.codes), ['SUCCESS']);
  assert.is(r.slots[0], w.slots[0]);
  assert.is(r.sizes[0], 123);
});

test('reserveRead: batch [ready, absent, write-locked] -> SUCCESS, KEY_NOT_EXIST, KEY_NOT_READABLE', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  l1.reserveWrite(keys(3), 100);
  assert.equal(names(l1.reserveRead(keys(1, 2, 3)).codes), ['SUCCESS', 'KEY_NOT_EXIST', 'KEY_NOT_READABLE']);
});

test('reserveRead: three reserveReads on one key all succeed; the key stays readable', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  for (let i = 0; i < 3; i++) assert.equal(names(l1.reserveRead(keys(1)).codes), ['SUCCESS']);
  const s = l1.state(keys(1), 0)!;
  assert.is(s.readable, true);
  assert.is(s.readLocks, 3);
});

test('reserveRead: extraCount takes 1 + extraCount locks, clamped to [0, 127]', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2, 3));
  l1.reserveRead(keys(1), { extraCount: 4 });
  l1.reserveRead(keys(2), { extraCount: 1000 });
  l1.reserveRead(keys(3), { extraCount: -5 });
  assert.is(l1.state(keys(1), 0)!.readLocks, 5);
  assert.is(l1.state(keys(2), 0)!.readLocks, 128);
  assert.is(l1.state(keys(3), 0)!.readLocks, 1);
});

// ---- unsafeRead

test('unsafeRead: absent, ready-unlocked, write-locked -> KEY_NOT_EXIST, KEY_NOT_READABLE, KEY_NOT_READABLE; read-locked -> SUCCESS', () => {
  const l1 = checkedL1();
  ready(l1, keys(2, 4));
  l1.reserveWrite(keys(3), 100);
  l1.reserveRead(keys(4));
  assert.equal(names(l1.unsafeRead(keys(1, 2, 3, 4)).codes), ['KEY_NOT_EXIST', 'KEY_NOT_READABLE', 'KEY_NOT_READABLE', 'SUCCESS']);
});

test('unsafeRead returns the same slot as the reserveRead that locked it', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  const locked = l1.reserveRead(keys(2));
  const r = l1.unsafeRead(keys(2));
  assert.is(r.slots[0], locked.slots[0]);
  assert.is(r.sizes[0], 100);
});

test('five unsafeReads add no locks: one finishRead on a temporary object frees it', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100, { temporary: true });
  l1.finishWriteAndReserveRead(keys(1));
  for (let i = 0; i < 5; i++) assert.equal(names(l1.unsafeRead(keys(1)).codes), ['SUCCESS']);
  assert.is(l1.state(keys(1), 0)!.readLocks, 1);
  assert.equal(names(l1.finishRead(keys(1))), ['SUCCESS']);
  assert.is(l1.state(keys(1), 0), null);
});

test('after the last finishRead, unsafeRead -> KEY_NOT_READABLE', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  l1.reserveRead(keys(1));
  l1.finishRead(keys(1));
  assert.equal(names(l1.unsafeRead(keys(1)).codes), ['KEY_NOT_READABLE']);
});

// ---- finishRead

test('finishRead: absent, ready-unlocked, write-locked -> KEY_NOT_EXIST, KEY_IN_WRONG_STATE, KEY_IN_WRONG_STATE; read-locked -> SUCCESS', () => {
  const l1 = checkedL1();
  ready(l1, keys(2, 4));
  l1.reserveWrite(keys(3), 100);
  l1.reserveRead(keys(4));
  assert.equal(names(l1.finishRead(keys(1, 2, 3, 4))), ['KEY_NOT_EXIST', 'KEY_IN_WRONG_STATE', 'KEY_IN_WRONG_STATE', 'SUCCESS']);
  assert.is(l1.state(keys(4), 0)!.readLocks, 0);
});

test('a temporary object with 3 reservations survives two finishReads and is gone after the third', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100, { temporary: true });
  l1.finishWrite(keys(1));
  for (let i = 0; i < 3; i++) l1.reserveRead(keys(1));
  l1.finishRead(keys(1));
  l1.finishRead(keys(1));
  assert.ok(l1.state(keys(1), 0)?.readable);
  l1.finishRead(keys(1));
  assert.is(l1.state(keys(1), 0), null);
  assert.is(l1.usage().objects, 0);
  assert.is(l1.usage().freeSlots, 8);
});

test('finishRead with extraCount releases 1 + extraCount locks', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  l1.reserveRead(keys(1), { extraCount: 3 });
  l1.finishRead(keys(1), { extraCount: 2 });
  assert.is(l1.state(keys(1), 0)!.readLocks, 1);
  l1.finishRead(keys(1));
  assert.is(l1.state(keys(1), 0)!.readLocks, 0);
  assert.ok(l1.state(keys(1), 0)!.writable);
});

// ---- handOverReads (kvtier addition: locks a worker takes on another thread's behalf)

test('handOverReads moves locks to another owner with the publish word: reclaiming the giver keeps them', () => {
  const l1 = checkedL1();
  const worker = L1Manager.attach(l1.handle);
  ready(l1, keys(1, 2));
  worker.reserveRead(keys(1, 2), { extraCount: 1 });
  const word = new Int32Array(new SharedArrayBuffer(4));
  const codes = worker.handOverReads(keys(1, 2, 3), l1.ownerId, { extraCount: 1, publish: { words: word, index: 0, value: 7 } });
  assert.equal(names(codes), ['SUCCESS', 'SUCCESS', 'KEY_NOT_EXIST']);
  assert.is(word[0], 7);
  l1.reclaimThread(worker.ownerId, threadId);
  assert.equal([l1.state(keys(1, 2), 0)!.readLocks, l1.state(keys(1, 2), 1)!.readLocks], [2, 2]);
  assert.equal(names(l1.finishRead(keys(1, 2), { extraCount: 1 })), ['SUCCESS', 'SUCCESS']);
});

test('handOverReads of more locks than the giver holds moves nothing', () => {
  const l1 = checkedL1();
  const worker = L1Manager.attach(l1.handle);
  ready(l1, keys(1));
  worker.reserveRead(keys(1));
  assert.equal(names(worker.handOverReads(keys(1), l1.ownerId, { extraCount: 1 })), ['KEY_IN_WRONG_STATE']);
  l1.reclaimThread(worker.ownerId, threadId);
  assert.is(l1.state(keys(1), 0)!.readLocks, 0);
});

test.run();

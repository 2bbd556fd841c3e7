// L1 leases (docs/core/L1Manager.md#leases): an expired lease releases the key, never the slot. A
// holder may still use its zero-copy view, so its slot goes to no other key until the holder lets
// go (finishWrite, finishRead, finishStore, handOverReads) or its thread is reclaimed. Leases are
// expired with expireLeases(far future), so no test depends on timing.
import { threadId } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DigestBatch } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { checkedL1, keys, names } from './l1-helpers.ts';

const FAR_FUTURE = () => Date.now() + 24 * 3_600_000;
const SIZE = 4096;

/** Writes each key of `batch` filled with its byte `fill + i`, and finishes them. */
function writeFilled(l1: L1Manager, batch: DigestBatch, fill: number): void {
  const r = l1.reserveWrite(batch, SIZE);
  assert.ok(names(r.codes).every((c) => c === 'SUCCESS'), 'reserveWrite');
  r.slots.forEach((slot, i) => l1.view(slot, SIZE).fill(fill + i));
  assert.ok(names(l1.finishWrite(batch)).every((c) => c === 'SUCCESS'), 'finishWrite');
}

/** Asserts key i of `batch` reads back as all `fill + i`. */
function assertFilled(l1: L1Manager, batch: DigestBatch, fill: number): void {
  const r = l1.reserveRead(batch);
  r.slots.forEach((slot, i) => {
    assert.is(names(r.codes)[i], 'SUCCESS');
    assert.ok(l1.view(slot, SIZE).every((b) => b === fill + i), `key ${i} reads its own bytes`);
  });
  l1.finishRead(batch);
}

test('a write past its lease: its slot goes to no other key while the late writer may still write it', () => {
  const l1 = checkedL1({ slotCount: 4, slotBytes: SIZE });
  // A prefetch's temporary write whose lease runs out while its load is still in flight.
  const late = l1.reserveWrite(keys(1), SIZE, { temporary: true });
  assert.equal(l1.expireLeases(FAR_FUTURE()), { writes: 1, reads: 0 });
  assert.is(l1.usage().orphanedSlots, 1);
  const fresh = keys(10, 11, 12, 13);
  const r = l1.reserveWrite(fresh, SIZE);
  assert.equal(names(r.codes), ['SUCCESS', 'SUCCESS', 'SUCCESS', 'OUT_OF_MEMORY']);
  assert.not.ok([...r.slots].includes(late.slots[0]), 'the late writer\'s slot is not handed out');
  r.slots.slice(0, 3).forEach((slot, i) => l1.view(slot, SIZE).fill(0x10 + i));
  l1.finishWrite(keys(10, 11, 12));
  // The load lands late, into its own view.
  l1.view(late.slots[0], SIZE).fill(0xee);
  assertFilled(l1, keys(10, 11, 12), 0x10);
  assert.equal(names(l1.finishWriteAndReserveRead(keys(1)).codes), ['KEY_NOT_EXIST'], 'the late write is never published');
  assert.is(l1.state(keys(1), 0), null);
  assert.is(l1.usage().orphanedSlots, 0);
  assert.equal(names(l1.reserveWrite(keys(13), SIZE).codes), ['SUCCESS'], 'its slot is back in circulation');
});

test('a write past its lease does not make the next writer\'s write the late writer\'s to publish', () => {
  const l1 = checkedL1();
  const other = L1Manager.attach(l1.handle);
  l1.reserveWrite(keys(1), 100);
  l1.expireLeases(FAR_FUTURE());
  assert.equal(names(other.reserveWrite(keys(1), 100).codes), ['SUCCESS'], 'the key is free for others');
  assert.equal(names(l1.finishWrite(keys(1))), ['KEY_NOT_EXIST'], 'the expired writer ends its own write only');
  assert.ok(l1.state(keys(1), 0)!.writeLocked, 'the new write is not published by the old writer');
  assert.equal(names(l1.finishWrite(keys(1))), ['KEY_IN_WRONG_STATE'], 'nor by a second try');
  assert.equal(names(other.finishWrite(keys(1))), ['SUCCESS']);
  assert.is(l1.usage().orphanedSlots, 0);
});

test('a read past its lease: the object stays readable and unlocked; a writer gets another slot; the reader\'s bytes stay', () => {
  const l1 = checkedL1({ slotCount: 2, slotBytes: SIZE });
  writeFilled(l1, keys(1), 0x01);
  const held = l1.reserveRead(keys(1));
  const view = l1.view(held.slots[0], SIZE);
  assert.equal(l1.expireLeases(FAR_FUTURE()), { writes: 0, reads: 1 });
  const state = l1.state(keys(1), 0)!;
  assert.ok(state.readable && state.writable && state.readLocks === 0);
  const w = l1.reserveWrite(keys(1), SIZE, { mode: 'update' });
  assert.equal(names(w.codes), ['SUCCESS'], 'the expired read no longer blocks writers');
  assert.is.not(w.slots[0], held.slots[0], 'the rewrite goes to another slot');
  l1.view(w.slots[0], SIZE).fill(0x02);
  l1.finishWrite(keys(1));
  assert.ok(view.every((b) => b === 0x01), 'the reader\'s view still holds what it read');
  assert.is(l1.usage().orphanedSlots, 1, 'the old slot is still the reader\'s');
  assert.is(l1.usage().freeSlots, 0);
  assertFilled(l1, keys(1), 0x02);
  assert.equal(names(l1.finishRead(keys(1))), ['SUCCESS'], 'the reader lets go of the old slot');
  assert.is(l1.usage().orphanedSlots, 0);
  assert.is(l1.usage().freeSlots, 1);
});

test('an object whose slot has stale holds: eviction removes the key, the slot waits for the reader', () => {
  const l1 = checkedL1({ slotCount: 2, slotBytes: SIZE });
  writeFilled(l1, keys(1, 2), 0x01);
  l1.reserveRead(keys(1));
  l1.expireLeases(FAR_FUTURE());
  assert.ok(l1.isEvictable(keys(1), 0));
  assert.equal(names(l1.evict(keys(1))), ['SUCCESS']);
  assert.is(l1.state(keys(1), 0), null);
  assert.equal(names(l1.reserveWrite(keys(3, 4), SIZE).codes), ['SUCCESS', 'OUT_OF_MEMORY'], 'inline eviction frees key 2\'s slot only');
  assert.equal(names(l1.finishRead(keys(1))), ['SUCCESS']);
  assert.equal(names(l1.finishRead(keys(1))), ['KEY_NOT_EXIST'], 'a hold ends once');
  assert.is(l1.usage().freeSlots, 1);
});

test('a stale hold is released once; the reader\'s fresh lock after it is a lock again', () => {
  const l1 = checkedL1();
  writeFilled(l1, keys(1), 0x01);
  l1.reserveRead(keys(1));
  l1.expireLeases(FAR_FUTURE());
  l1.reserveRead(keys(1));
  assert.is(l1.state(keys(1), 0)!.readLocks, 1);
  assert.equal(names(l1.finishRead(keys(1))), ['SUCCESS'], 'the older, stale hold goes first');
  assert.is(l1.state(keys(1), 0)!.readLocks, 1, 'the fresh lock still locks the key');
  assert.equal(names(l1.finishRead(keys(1))), ['SUCCESS']);
  assert.equal(names(l1.finishRead(keys(1))), ['KEY_IN_WRONG_STATE']);
});

test('handOverReads moves stale holds too, on a live object and on an orphaned slot', () => {
  const main = checkedL1();
  const worker = L1Manager.attach(main.handle);
  writeFilled(main, keys(1, 2), 0x01);
  worker.reserveRead(keys(1, 2));
  main.expireLeases(FAR_FUTURE());
  main.reserveWrite(keys(2), SIZE); // key 2 moves to another slot: the worker's hold is on an orphan
  assert.equal(names(worker.handOverReads(keys(1, 2), main.ownerId)), ['SUCCESS', 'SUCCESS']);
  main.finishWrite(keys(2));
  assert.equal(names(main.finishRead(keys(1, 2))), ['SUCCESS', 'SUCCESS']);
  assert.is(main.usage().orphanedSlots, 0);
  assert.is(main.usage().freeSlots, 6);
});

test('reclaimThread ends a dead owner\'s cut-short writes and stale holds: its orphaned slots return', () => {
  const main = checkedL1();
  const worker = L1Manager.attach(main.handle);
  writeFilled(main, keys(2), 0x01);
  worker.reserveWrite(keys(1), 100);
  worker.reserveRead(keys(2));
  main.expireLeases(FAR_FUTURE());
  main.reserveWrite(keys(2), SIZE);
  main.finishWrite(keys(2));
  assert.is(main.usage().orphanedSlots, 2);
  assert.equal(main.reclaimThread(worker.ownerId, threadId), { writesDiscarded: 0, readLocksReleased: 1 });
  assert.is(main.usage().orphanedSlots, 0);
  assert.is(main.usage().freeSlots, 7);
});

test('a store claim past its lease: the store still reads its slot; finishStore ends it and wakes flush', () => {
  const l1 = checkedL1({ slotBytes: SIZE });
  writeFilled(l1, keys(1), 0x01);
  const claim = l1.takeDirty(8);
  assert.is(claim.sizes.length, 1);
  l1.expireLeases(FAR_FUTURE());
  writeFilled(l1, keys(1), 0x05);
  assert.ok(l1.view(claim.slots[0], SIZE).every((b) => b === 0x01), 'the store\'s bytes are the ones it claimed');
  const seq = l1.storedSeq();
  assert.equal(names(l1.finishStore(claim.keys)), ['SUCCESS']);
  assert.is.not(l1.storedSeq(), seq);
  assert.is(l1.usage().orphanedSlots, 0);
  assert.ok(l1.state(keys(1), 0)!.dirty, 'the rewrite is dirty: it will be stored afresh');
});

test('delete with force of a read-locked object keeps the reader\'s slot until it finishes', () => {
  const l1 = checkedL1({ slotCount: 1, slotBytes: SIZE });
  writeFilled(l1, keys(1), 0x01);
  l1.reserveRead(keys(1), { extraCount: 1 });
  assert.equal(names(l1.delete(keys(1), { force: true })), ['SUCCESS']);
  assert.equal(names(l1.reserveWrite(keys(2), SIZE).codes), ['OUT_OF_MEMORY']);
  assert.equal(names(l1.finishRead(keys(1), { extraCount: 1 })), ['SUCCESS']);
  assert.equal(names(l1.reserveWrite(keys(2), SIZE).codes), ['SUCCESS']);
});

test('clear with force: another owner\'s write keeps its slot until that writer lets go; our own write is aborted', () => {
  const l1 = checkedL1({ slotCount: 2, slotBytes: SIZE });
  const other = L1Manager.attach(l1.handle);
  l1.reserveWrite(keys(1), SIZE);
  other.reserveWrite(keys(2), SIZE);
  assert.is(l1.clear({ force: true }), 2);
  assert.is(l1.usage().freeSlots, 1, 'our write is aborted: its slot is free');
  assert.is(l1.usage().orphanedSlots, 1, 'the other writer may still write its view');
  assert.equal(names(other.finishWrite(keys(2))), ['KEY_NOT_EXIST']);
  assert.is(l1.usage().freeSlots, 2);
});

test.run();

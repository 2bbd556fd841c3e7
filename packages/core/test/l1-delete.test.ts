// "L1: delete, clear, state", plus touch and evict.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { L1KeyState } from '../src/l1/api.ts';
import { checkedL1, keys, names, ready } from './l1-helpers.ts';

test('delete: absent -> KEY_NOT_EXIST; ready -> SUCCESS and gone, its slot free again', () => {
  const l1 = checkedL1();
  ready(l1, keys(2));
  assert.equal(names(l1.delete(keys(1, 2))), ['KEY_NOT_EXIST', 'SUCCESS']);
  assert.is(l1.state(keys(2), 0), null);
  assert.is(l1.usage().freeSlots, 8);
  assert.is(l1.usage().usedBytes, 0);
});

test('delete: write-locked or read-locked -> KEY_IS_LOCKED; force deletes them', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100);
  ready(l1, keys(2));
  l1.reserveRead(keys(2));
  assert.equal(names(l1.delete(keys(1, 2))), ['KEY_IS_LOCKED', 'KEY_IS_LOCKED']);
  assert.equal(names(l1.delete(keys(1, 2), { force: true })), ['SUCCESS', 'SUCCESS']);
  assert.is(l1.usage().objects, 0);
});

test('a dirty object deleted is no longer claimed by takeDirty', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  l1.delete(keys(1));
  const claimed = l1.takeDirty(10);
  assert.equal([...claimed.keys], [...keys(2)]);
});

test('evict skips locked keys and counts evictions', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  l1.reserveRead(keys(2));
  assert.equal(names(l1.evict(keys(1, 2, 3))), ['SUCCESS', 'KEY_IS_LOCKED', 'KEY_NOT_EXIST']);
  assert.is(l1.status().counters.evictions, 1);
});

test('clear() keeps locked objects; clear({force: true}) removes everything, the holders\' slots return when they let go', () => {
  const l1 = checkedL1({ slotCount: 64 });
  const many = Array.from({ length: 40 }, (_, i) => i);
  ready(l1, keys(...many));
  l1.reserveRead(keys(3));
  l1.reserveWrite(keys(100), 100);
  assert.is(l1.clear(), 39);
  assert.is(l1.usage().objects, 2);
  assert.ok(l1.state(keys(3), 0));
  assert.ok(l1.state(keys(100), 0));
  assert.is(l1.clear({ force: true }), 2);
  assert.is(l1.usage().objects, 0);
  // Our own write is aborted (its slot is free); the reader may still use its view: its slot waits.
  assert.is(l1.usage().freeSlots, 63);
  assert.is(l1.usage().orphanedSlots, 1);
  assert.equal(names(l1.finishWrite(keys(100))), ['KEY_NOT_EXIST'], 'a write removed by force is never published');
  assert.equal(names(l1.finishRead(keys(3))), ['SUCCESS']);
  assert.is(l1.usage().freeSlots, 64);
  assert.is(l1.usage().orphanedSlots, 0);
});

test('isEvictable: false for absent or locked keys, true for ready unlocked ones', () => {
  const l1 = checkedL1();
  ready(l1, keys(2, 3));
  l1.reserveRead(keys(3));
  l1.reserveWrite(keys(4), 100);
  const batch = keys(1, 2, 3, 4);
  assert.equal([0, 1, 2, 3].map((i) => l1.isEvictable(batch, i)), [false, true, false, false]);
});

test('state(key): null when absent; ready -> readable and writable; write-locked -> neither; read-locked -> readable, not writable', () => {
  const l1 = checkedL1();
  assert.is(l1.state(keys(1), 0), null);
  l1.reserveWrite(keys(1), 100);
  let s = l1.state(keys(1), 0)!;
  assert.equal([s.readable, s.writable], [false, false]);
  l1.finishWrite(keys(1));
  s = l1.state(keys(1), 0)!;
  assert.equal([s.readable, s.writable], [true, true]);
  l1.reserveRead(keys(1));
  s = l1.state(keys(1), 0)!;
  assert.equal([s.readable, s.writable], [true, false]);
});

test('full cycle absent -> write-locked -> ready -> read-locked -> ready -> absent holds the predicates at every step', () => {
  const l1 = checkedL1();
  const k = keys(7);
  const expect = (want: Partial<L1KeyState> | null) => {
    const s = l1.state(k, 0);
    if (want === null) return assert.is(s, null);
    for (const [field, v] of Object.entries(want)) assert.is(s?.[field as keyof L1KeyState], v, field);
    assert.is(l1.isEvictable(k, 0), !s!.writeLocked && s!.readLocks === 0);
  };
  expect(null);
  l1.reserveWrite(k, 100);
  expect({ readable: false, writable: false, writeLocked: true, readLocks: 0 });
  l1.finishWrite(k);
  expect({ readable: true, writable: true, writeLocked: false, readLocks: 0 });
  l1.reserveRead(k);
  expect({ readable: true, writable: false, writeLocked: false, readLocks: 1 });
  l1.finishRead(k);
  expect({ readable: true, writable: true, writeLocked: false, readLocks: 0 });
  l1.delete(k);
  expect(null);
});

test('touch refreshes recency: the touched object survives emergency eviction; absent keys are ignored', () => {
  const l1 = checkedL1({ slotCount: 2 });
  ready(l1, keys(1, 2));
  l1.finishRead(l1.takeDirty(10).keys);
  l1.touch(keys(1, 99));
  l1.reserveWrite(keys(3), 100);
  assert.ok(l1.state(keys(1), 0));
  assert.is(l1.state(keys(2), 0), null);
});

test('deleting from the middle of probe clusters keeps every other key reachable', () => {
  const l1 = checkedL1({ slotCount: 200 });
  const ids = Array.from({ length: 200 }, (_, i) => i);
  ready(l1, keys(...ids));
  const gone = ids.filter((i) => i % 3 === 0);
  assert.ok(names(l1.delete(keys(...gone))).every((c) => c === 'SUCCESS'));
  const kept = ids.filter((i) => i % 3 !== 0);
  assert.ok(names(l1.reserveRead(keys(...kept)).codes).every((c) => c === 'SUCCESS'));
  assert.ok(names(l1.reserveRead(keys(...gone)).codes).every((c) => c === 'KEY_NOT_EXIST'));
});

test('backward-shift deletion on one colliding cluster that wraps the table end', () => {
  // 8 slots -> a 16-entry table; digest word 0 = 15 puts all keys at the last entry, wrapping to 0.
  const l1 = checkedL1({ slotCount: 8 });
  const colliding = (i: number) => new Uint32Array([15, i, 0, 0]);
  const all = new Uint32Array(8 * 4);
  for (let i = 0; i < 8; i++) all.set(colliding(i), i * 4);
  ready(l1, all);
  for (const i of [0, 3, 6]) assert.equal(names(l1.delete(colliding(i))), ['SUCCESS']);
  for (let i = 0; i < 8; i++) {
    assert.equal(names(l1.reserveRead(colliding(i)).codes), [[0, 3, 6].includes(i) ? 'KEY_NOT_EXIST' : 'SUCCESS'], `key ${i}`);
  }
});

test.run();

// "L1: reserveWrite", "L1: finishWrite", "L1: finishWriteAndReserveRead", and
// inline emergency eviction (docs/architecture.md §5 "Out of memory").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SLOT } from '../src/l1/api.ts';
import { checkedL1, keys, names, ready } from './l1-helpers.ts';

const all = (codes: Uint8Array, name: string) => names(codes).every((c) => c === name);

// ---- reserveWrite

test('reserveWrite: new key -> SUCCESS with a slot of at least the requested size, writable through view()', () => {
  const l1 = checkedL1();
  const r = l1.reserveWrite(keys(1), 3000);
  assert.equal(names(r.codes), ['SUCCESS']);
  assert.ok(r.slots[0] >= 0);
  assert.is(r.sizes[0], 3000);
  const v = l1.view(r.slots[0], 3000);
  v.fill(7);
  assert.is(l1.view(r.slots[0], 3000)[2999], 7);
});

test('reserveWrite: write-locked, read-locked and finished temporary keys -> KEY_NOT_WRITABLE', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100);
  ready(l1, keys(2));
  l1.reserveRead(keys(2));
  l1.reserveWrite(keys(3), 100, { temporary: true });
  l1.finishWrite(keys(3));
  assert.equal(names(l1.reserveWrite(keys(1, 2, 3), 100).codes), ['KEY_NOT_WRITABLE', 'KEY_NOT_WRITABLE', 'KEY_NOT_WRITABLE']);
});

test('reserveWrite: a batch of 5 new keys -> all SUCCESS on distinct slots', () => {
  const l1 = checkedL1();
  const r = l1.reserveWrite(keys(1, 2, 3, 4, 5), [10, 20, 30, 40, 50]);
  assert.ok(all(r.codes, 'SUCCESS'));
  assert.is(new Set(r.slots).size, 5);
  assert.equal([...r.sizes], [10, 20, 30, 40, 50]);
  assert.is(l1.usage().usedBytes, 150);
});

test("mode 'new': existing keys -> KEY_NOT_WRITABLE, absent keys -> SUCCESS", () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  assert.equal(names(l1.reserveWrite(keys(1, 2), 100, { mode: 'new' }).codes), ['KEY_NOT_WRITABLE', 'SUCCESS']);
});

test("mode 'update': absent keys -> KEY_NOT_WRITABLE and finishWrite on them -> KEY_NOT_EXIST", () => {
  const l1 = checkedL1();
  assert.equal(names(l1.reserveWrite(keys(1), 100, { mode: 'update' }).codes), ['KEY_NOT_WRITABLE']);
  assert.equal(names(l1.finishWrite(keys(1))), ['KEY_NOT_EXIST']);
});

test("mode 'update': an existing unlocked key -> SUCCESS, same slot reused, new size accounted", () => {
  const l1 = checkedL1();
  const first = l1.reserveWrite(keys(1), 100);
  l1.finishWrite(keys(1));
  const again = l1.reserveWrite(keys(1), 250, { mode: 'update' });
  assert.equal(names(again.codes), ['SUCCESS']);
  assert.is(again.slots[0], first.slots[0]);
  assert.is(l1.usage().usedBytes, 250);
  assert.is(l1.state(keys(1), 0)!.writeLocked, true);
});

test("mode 'all' (default): absent and existing unlocked keys both -> SUCCESS", () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  assert.equal(names(l1.reserveWrite(keys(1, 2), 100).codes), ['SUCCESS', 'SUCCESS']);
});

test('size larger than a slot -> OBJECT_TOO_LARGE, the rest of the batch unaffected', () => {
  const l1 = checkedL1();
  const r = l1.reserveWrite(keys(1, 2), [4097, 4096]);
  assert.equal(names(r.codes), ['OBJECT_TOO_LARGE', 'SUCCESS']);
  assert.is(r.slots[0], NO_SLOT);
});

test('slot size is rounded up to 4 KiB: 5000 requested gives 8192-byte slots', () => {
  const l1 = checkedL1({ slotBytes: 5000 });
  assert.is(l1.config.slotBytes, 8192);
  assert.equal(names(l1.reserveWrite(keys(1), 8192).codes), ['SUCCESS']);
});

test('L1 full of locked objects: the batch gets the longest prefix that fits, the rest OUT_OF_MEMORY', () => {
  const l1 = checkedL1({ slotCount: 4 });
  l1.reserveWrite(keys(1, 2), 100);
  const r = l1.reserveWrite(keys(3, 4, 5, 6), 100);
  assert.equal(names(r.codes), ['SUCCESS', 'SUCCESS', 'OUT_OF_MEMORY', 'OUT_OF_MEMORY']);
  assert.equal([...r.slots].slice(2), [NO_SLOT, NO_SLOT]);
});

test('never a suffix without its prefix: every key after the first OUT_OF_MEMORY answers OUT_OF_MEMORY', () => {
  const l1 = checkedL1({ slotCount: 2 });
  ready(l1, keys(9));
  l1.reserveRead(keys(9));
  l1.reserveWrite(keys(1), 100);
  // Both slots are locked: key 2 gets none; key 1 after it would be refused for its write lock,
  // but the batch stopped allocating at key 2.
  const r = l1.reserveWrite(keys(2, 1, 3), 100);
  assert.equal(names(r.codes), ['OUT_OF_MEMORY', 'OUT_OF_MEMORY', 'OUT_OF_MEMORY']);
});

test('L1 full of unlocked objects: emergency eviction frees the least recently touched, clean before dirty', () => {
  const l1 = checkedL1({ slotCount: 4, emergencySample: 16 });
  ready(l1, keys(1, 2, 3, 4));
  l1.touch(keys(1));
  // Claim keys 2..4 for the store (clean after finishRead); key 2 then is the oldest clean one.
  const claimed = l1.takeDirty(10);
  l1.finishRead(claimed.keys);
  l1.touch(keys(3));
  l1.touch(keys(4));
  l1.touch(keys(1));
  const seq = l1.emergencySeq();
  const r = l1.reserveWrite(keys(5), 100);
  assert.equal(names(r.codes), ['SUCCESS']);
  assert.is(l1.state(keys(2), 0), null, 'oldest clean object evicted');
  assert.ok(l1.state(keys(1), 0) && l1.state(keys(3), 0) && l1.state(keys(4), 0));
  assert.is(l1.status().counters.emergencyEvictions, 1);
  assert.is.not(l1.emergencySeq(), seq, 'the eviction worker was woken');
});

test('emergency eviction never takes locked or temporary objects', () => {
  const l1 = checkedL1({ slotCount: 3 });
  ready(l1, keys(1));
  l1.reserveRead(keys(1));
  l1.reserveWrite(keys(2), 100);
  l1.reserveWrite(keys(3), 100, { temporary: true });
  l1.finishWrite(keys(3));
  assert.equal(names(l1.reserveWrite(keys(4), 100).codes), ['OUT_OF_MEMORY']);
  assert.is(l1.usage().objects, 3);
});

// ---- finishWrite

test('finishWrite: absent -> KEY_NOT_EXIST', () => {
  const l1 = checkedL1();
  assert.equal(names(l1.finishWrite(keys(1))), ['KEY_NOT_EXIST']);
});

test('finishWrite: success leaves the key readable and writable, dirty; a second finishWrite -> KEY_IN_WRONG_STATE', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100);
  assert.equal(names(l1.finishWrite(keys(1))), ['SUCCESS']);
  const s = l1.state(keys(1), 0)!;
  assert.ok(s.readable && s.writable && s.dirty);
  assert.equal(names(l1.finishWrite(keys(1))), ['KEY_IN_WRONG_STATE']);
});

test('finishWrite of a temporary object does not mark it dirty', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100, { temporary: true });
  l1.finishWrite(keys(1));
  assert.is(l1.state(keys(1), 0)!.dirty, false);
  assert.is(l1.dirtyCount(), 0);
});

// ---- finishWriteAndReserveRead

test('finishWriteAndReserveRead: write-locked -> SUCCESS, read-locked 1 + extraCount, readable, not writable, unsafeRead works', () => {
  const l1 = checkedL1();
  const w = l1.reserveWrite(keys(1), 100);
  const r = l1.finishWriteAndReserveRead(keys(1), { extraCount: 2 });
  assert.equal(names(r.codes), ['SUCCESS']);
  assert.is(r.slots[0], w.slots[0]);
  const s = l1.state(keys(1), 0)!;
  assert.equal([s.writeLocked, s.readLocks, s.readable, s.writable], [false, 3, true, false]);
  assert.equal(names(l1.unsafeRead(keys(1)).codes), ['SUCCESS']);
});

test('finishWriteAndReserveRead: batch [write-locked, absent, ready] -> SUCCESS, KEY_NOT_EXIST, KEY_IN_WRONG_STATE', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100);
  ready(l1, keys(3));
  assert.equal(names(l1.finishWriteAndReserveRead(keys(1, 2, 3)).codes), ['SUCCESS', 'KEY_NOT_EXIST', 'KEY_IN_WRONG_STATE']);
});

test('finishWriteAndReserveRead does NOT mark the object for L2 store', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1), 100);
  l1.finishWriteAndReserveRead(keys(1));
  assert.is(l1.state(keys(1), 0)!.dirty, false);
  assert.is(l1.takeDirty(10).keys.length, 0);
});

test.run();

// Configuration validation, bad arguments (clear KvtierError, index untouched), slot references
// and views over a multi-segment arena, handles and attach.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../src/errors.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { SLOT_BITS } from '../src/l1/arena.ts';
import { checkedL1, keys, names, ready, throwsCode } from './l1-helpers.ts';
import type { L1Options } from '../src/l1/l1-config.ts';

const create = (o: Record<string, unknown>) => () => L1Manager.create(o as unknown as L1Options);

test('create validates every option eagerly, naming the field', () => {
  const C = ErrorCode.CONFIG;
  throwsCode(create({ slotCount: 4 }), C, /^config\.l1\.slotBytes: must be an integer in \[1, 1073741824\], got undefined/);
  throwsCode(create({ slotBytes: 0, slotCount: 4 }), C, /^config\.l1\.slotBytes: .*got 0/);
  throwsCode(create({ slotBytes: 4096 }), C, /^config\.l1\.capacityBytes: give exactly one of l1\.capacityBytes and l1\.slotCount/);
  throwsCode(create({ slotBytes: 4096, slotCount: 4, capacityBytes: 8192 }), C, /give exactly one/);
  throwsCode(create({ slotBytes: 4096, capacityBytes: 4095 }), C, /^config\.l1\.capacityBytes: must hold at least one slot of 4096 bytes, got 4095/);
  throwsCode(create({ slotBytes: 4096, slotCount: 1.5 }), C, /^config\.l1\.slotCount: must be an integer/);
  throwsCode(create({ slotBytes: 4096, slotCount: 2 ** 21 }), C, /^config\.l1\.slotCount: .*\[1, 1048576\]/);
  throwsCode(create({ slotBytes: 8192, slotCount: 4, segmentBytes: 4096 }), C, /^config\.l1\.segmentBytes: must hold at least one slot of 8192 bytes/);
  throwsCode(create({ slotBytes: 4096, slotCount: 4, segmentBytes: 2 ** 31 }), C, /^config\.l1\.segmentBytes: /);
  throwsCode(create({ slotBytes: 4096, slotCount: 4, writeLeaseMs: 0 }), C, /^config\.l1\.writeLeaseMs: /);
  throwsCode(create({ slotBytes: 4096, slotCount: 4, readLeaseMs: 'long' }), C, /^config\.l1\.readLeaseMs: .*got string/);
  throwsCode(create({ slotBytes: 4096, slotCount: 4, maxThreads: 0 }), C, /^config\.l1\.maxThreads: .*\[1, 256\]/);
  throwsCode(create({ slotBytes: 4096, slotCount: 4, eventRingCapacity: 100 }), C, /^config\.l1\.eventRingCapacity: must be a power of two, got 100/);
  throwsCode(create({ slotBytes: 4096, slotCount: 4, emergencySample: 0 }), C, /^config\.l1\.emergencySample: /);
});

test('defaults and derived figures', () => {
  const l1 = L1Manager.create({ slotBytes: 10_000, capacityBytes: 100_000 });
  assert.equal(
    { ...l1.config },
    { slotBytes: 12_288, totalSlots: 8, capacityBytes: 98_304, slotsPerSegment: 87_381, writeLeaseMs: 600_000, readLeaseMs: 300_000, maxThreads: 32, eventRingCapacity: 65_536, emergencySample: 16 },
  );
});

test('a digest batch whose length is not a multiple of 4, or not a Uint32Array -> INVALID_ARGUMENT, index untouched', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  const before = l1.usage();
  const bad = new Uint32Array(6);
  for (const call of [
    () => l1.reserveWrite(bad, 100),
    () => l1.finishWrite(bad),
    () => l1.reserveRead(bad),
    () => l1.unsafeRead(bad),
    () => l1.finishRead(bad),
    () => l1.finishWriteAndReserveRead(bad),
    () => l1.delete(bad),
    () => l1.touch(bad),
  ]) throwsCode(call, ErrorCode.INVALID_ARGUMENT, /keys has 6 words, not a multiple of 4/);
  throwsCode(() => l1.reserveRead([1, 2, 3, 4] as unknown as Uint32Array), ErrorCode.INVALID_ARGUMENT, /keys must be a DigestBatch/);
  assert.equal(l1.usage(), before);
  assert.is(l1.state(keys(1), 0)!.readLocks, 0);
});

test('bad sizes -> INVALID_ARGUMENT naming the entry, nothing reserved', () => {
  const l1 = checkedL1();
  throwsCode(() => l1.reserveWrite(keys(1, 2), [100, -1]), ErrorCode.INVALID_ARGUMENT, /sizes\[1\] must be a positive integer below 2\^32, got -1/);
  throwsCode(() => l1.reserveWrite(keys(1, 2), [100, 1.5]), ErrorCode.INVALID_ARGUMENT, /sizes\[1\] .*got 1\.5/);
  throwsCode(() => l1.reserveWrite(keys(1, 2), [100]), ErrorCode.INVALID_ARGUMENT, /one entry per key \(2\), got 1 entries/);
  throwsCode(() => l1.reserveWrite(keys(1), 0), ErrorCode.INVALID_ARGUMENT, /sizes must be a positive integer/);
  throwsCode(() => l1.reserveWrite(keys(1), Number.NaN), ErrorCode.INVALID_ARGUMENT, /got NaN/);
  throwsCode(() => l1.reserveWrite(keys(1), 100, { mode: 'upsert' as 'new' }), ErrorCode.INVALID_ARGUMENT, /mode must be 'new', 'update' or 'all', got upsert/);
  throwsCode(() => l1.reserveRead(keys(1), { extraCount: Number.NaN }), ErrorCode.INVALID_ARGUMENT, /extraCount must be a number/);
  assert.is(l1.usage().objects, 0);
});

test('state/isEvictable with an index outside the batch -> INVALID_ARGUMENT', () => {
  const l1 = checkedL1();
  throwsCode(() => l1.state(keys(1), 1), ErrorCode.INVALID_ARGUMENT, /index 1 is outside the batch of 1 keys/);
  throwsCode(() => l1.isEvictable(keys(1), -1), ErrorCode.INVALID_ARGUMENT, /index -1/);
});

test('slot references that are not ours, or views larger than a slot -> INVALID_ARGUMENT naming them', () => {
  const l1 = checkedL1({ slotCount: 5, segmentBytes: 8192 });
  const I = ErrorCode.INVALID_ARGUMENT;
  throwsCode(() => l1.view(-1, 10), I, /slot reference -1 is not an L1 slot/);
  throwsCode(() => l1.view(1.5, 10), I, /slot reference 1\.5 is not an L1 slot/);
  throwsCode(() => l1.view(2, 10), I, /slot reference 2 \(segment 0, slot 2\) is not an L1 slot: 5 slots in 3 segments of 2/);
  throwsCode(() => l1.view((3 << SLOT_BITS) | 0, 10), I, /segment 3, slot 0/);
  throwsCode(() => l1.view((2 << SLOT_BITS) | 1, 10), I, /segment 2, slot 1/);
  throwsCode(() => l1.view(0, 4097), I, /view size 4097 is not an integer in \[0, 4096\]/);
});

test('slots across segments: refs pack (segment, slot); views are zero-copy and disjoint', () => {
  const l1 = checkedL1({ slotCount: 5, segmentBytes: 8192 });
  assert.is(l1.handle.segments.length, 3);
  const r = l1.reserveWrite(keys(1, 2, 3, 4, 5), 4096);
  assert.equal([...r.slots], [0, 1, 1 << SLOT_BITS, (1 << SLOT_BITS) | 1, 2 << SLOT_BITS]);
  for (let i = 0; i < 5; i++) l1.view(r.slots[i], 4096).fill(i + 1);
  for (let i = 0; i < 5; i++) {
    const v = l1.view(r.slots[i], 4096);
    assert.ok(v[0] === i + 1 && v[4095] === i + 1, `slot ${i} intact`);
  }
  const other = L1Manager.attach(l1.handle);
  assert.is(other.view(r.slots[3], 4096)[17], 4, 'another owner sees the same bytes');
  assert.is(other.view(r.slots[3], 4096).buffer, l1.handle.segments[1]);
});

test('the handle is structured-cloneable and attach rejects anything else', () => {
  const l1 = checkedL1();
  const cloned = structuredClone(l1.handle);
  ready(l1, keys(1));
  assert.ok(L1Manager.attach(cloned).state(keys(1), 0)?.readable, 'a clone shares the buffers');
  throwsCode(() => L1Manager.attach({} as never), ErrorCode.INVALID_ARGUMENT, /attach: handle must be an L1Manager\.handle/);
  throwsCode(() => L1Manager.attach({ ...l1.handle, meta: new SharedArrayBuffer(8) }), ErrorCode.INVALID_ARGUMENT, /handle buffers do not match/);
  throwsCode(() => L1Manager.attach({ ...l1.handle, segments: [] }), ErrorCode.INVALID_ARGUMENT, /handle buffers do not match/);
});

test('status reports health, usage and threads', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  const s = l1.status();
  assert.is(s.healthy, true);
  assert.is(s.usage.objects, 2);
  assert.is(s.usage.fraction, 2 / 8);
  assert.is(s.dirty, 2);
  assert.equal(s.threads, { registered: 1, max: 32 });
});

test.run();

// The default prefetch policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Bitmap } from '../src/shm/bitmap.ts';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { createPrefetchPolicy } from '../src/policies/prefetch.ts';

const policy = createPrefetchPolicy('default');
const found = (n: number, ...indices: number[]): Bitmap => Bitmap.fromIndices(n, indices);
const plan = (entries: [number, number[]][]): Map<number, number[]> => new Map(entries);

test('one adapter, all found -> {0: [0,1,2]}', () => {
  assert.equal(policy.plan([found(3, 0, 1, 2)], 3), plan([[0, [0, 1, 2]]]));
});

test('one adapter, partial {0,2} -> {0: [0,2]}', () => {
  assert.equal(policy.plan([found(3, 0, 2)], 3), plan([[0, [0, 2]]]));
});

test('overlap A0 {0,1}, A1 {1,2} -> {0: [0,1], 1: [2]}', () => {
  assert.equal(policy.plan([found(3, 0, 1), found(3, 1, 2)], 3), plan([[0, [0, 1]], [1, [2]]]));
});

test('disjoint A0 {0,1}, A1 {2,3} -> {0: [0,1], 1: [2,3]}', () => {
  assert.equal(policy.plan([found(4, 0, 1), found(4, 2, 3)], 4), plan([[0, [0, 1]], [1, [2, 3]]]));
});

test('all-zero bitmaps -> {}', () => {
  assert.equal(policy.plan([found(3), found(3)], 3), plan([]));
});

test('no adapters -> {}', () => {
  assert.equal(policy.plan([], 3), plan([]));
});

test('zero keys -> {}', () => {
  assert.equal(policy.plan([found(0), found(0)], 0), plan([]));
});

test('descriptor order [1, 0] still gives a shared key to adapter 0', () => {
  const lookups = [{ index: 1, found: found(3, 0, 1, 2) }, { index: 0, found: found(3, 1) }];
  assert.equal(policy.plan(lookups, 3), plan([[0, [1]], [1, [0, 2]]]));
});

test('three adapters {0,3}, {1,2,3}, {2,3,4} -> {0: [0,3], 1: [1,2], 2: [4]}', () => {
  const lookups = [found(5, 0, 3), found(5, 1, 2, 3), found(5, 2, 3, 4)];
  assert.equal(policy.plan(lookups, 5), plan([[0, [0, 3]], [1, [1, 2]], [2, [4]]]));
});

test('an adapter without a lookup result is skipped', () => {
  assert.equal(policy.plan([undefined, found(3, 0, 1, 2)], 3), plan([[1, [0, 1, 2]]]));
  assert.equal(policy.plan([{ index: 0, found: undefined }, { index: 1, found: found(2, 1) }], 2), plan([[1, [1]]]));
});

test('bits at or past keyCount are ignored; a shorter bitmap covers only its own keys', () => {
  assert.equal(policy.plan([found(64, 1, 40), found(2, 0, 1)], 3), plan([[0, [1]], [1, [0]]]));
});

test('the plan does not change the lookup bitmaps', () => {
  const a = found(3, 0, 1);
  const b = found(3, 1, 2);
  policy.plan([a, b], 3);
  assert.equal(a.indices(), [0, 1]);
  assert.equal(b.indices(), [1, 2]);
});

test('a duplicate or negative adapter index is an INVALID_ARGUMENT error', () => {
  const isInvalid = (pattern: RegExp) => (e: unknown) => e instanceof KvtierError && e.code === ErrorCode.INVALID_ARGUMENT && pattern.test(e.message);
  assert.throws(() => policy.plan([{ index: 0, found: found(1, 0) }, { index: 0, found: found(1) }], 1), isInvalid(/index 0 appears twice/));
  assert.throws(() => policy.plan([{ index: -1, found: found(1, 0) }], 1), isInvalid(/non-negative integer/));
  assert.throws(() => policy.plan([], -1), isInvalid(/keyCount/));
});

test.run();

// Store policies and skip_l1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { createStorePolicy } from '../src/policies/store.ts';

const write = createStorePolicy('default');
const skipL1 = createStorePolicy('skip_l1');
const keys = ['k0', 'k1', 'k2'];

test('default: one adapter -> {0: keys}', () => {
  assert.equal(write.targets(keys, 1), new Map([[0, keys]]));
});

test('default: two adapters -> both get all keys', () => {
  assert.equal(write.targets(keys, 2), new Map([[0, keys], [1, keys]]));
});

test('default: no adapters -> {}', () => {
  assert.is(write.targets(keys, 0).size, 0);
});

test('default: no keys -> {0: []}', () => {
  assert.equal(write.targets([], 1), new Map([[0, []]]));
});

test('default: the returned lists are copies (mutating them does not change the input or each other)', () => {
  const input = [1, 2, 3];
  const out = write.targets(input, 2);
  out.get(0)!.push(4);
  out.get(1)!.length = 0;
  assert.equal(input, [1, 2, 3]);
  assert.equal(out.get(0), [1, 2, 3, 4]);
});

test('default: L1 deletions -> []', () => {
  assert.equal(write.deleteFromL1(keys), []);
});

test('skip_l1: every adapter gets every key, then L1 deletes them all (a copy)', () => {
  assert.equal(skipL1.targets(keys, 2), new Map([[0, keys], [1, keys]]));
  const deletions = skipL1.deleteFromL1(keys);
  assert.equal(deletions, keys);
  deletions.pop();
  assert.is(keys.length, 3);
});

test('an invalid adapter count is an INVALID_ARGUMENT error naming it', () => {
  for (const n of [-1, 1.5, Number.NaN]) {
    assert.throws(() => write.targets(keys, n), (e: unknown) => e instanceof KvtierError && e.code === ErrorCode.INVALID_ARGUMENT && /adapterCount/.test(e.message));
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Bitmap } from '../src/shm/bitmap.ts';
import { ErrorCode } from '../src/errors.ts';
import { throwsCode } from './l1-helpers.ts';

test('prefix(n, k) has exactly bits [0, k) set', () => {
  for (const [n, k] of [[0, 0], [1, 1], [31, 5], [32, 32], [33, 32], [100, 64], [100, 65], [100, 0], [100, 100]]) {
    const b = Bitmap.prefix(n, k);
    assert.is(b.size, n);
    for (let i = 0; i < n; i++) assert.is(b.test(i), i < k, `n=${n} k=${k} bit ${i}`);
    assert.is(b.popcount(), k);
  }
});

test('prefix rejects k outside [0, n]', () => {
  throwsCode(() => Bitmap.prefix(10, 11), ErrorCode.INVALID_ARGUMENT, /k must be an integer in \[0, 10\]/);
});

test('countLeadingOnes: {0,1,3} -> 2, {} -> 0, all n -> n', () => {
  assert.is(Bitmap.fromIndices(8, [0, 1, 3]).countLeadingOnes(), 2);
  assert.is(new Bitmap(8).countLeadingOnes(), 0);
  assert.is(new Bitmap(0).countLeadingOnes(), 0);
  for (const n of [1, 31, 32, 33, 64, 100]) assert.is(Bitmap.prefix(n, n).countLeadingOnes(), n);
  assert.is(Bitmap.prefix(100, 70).countLeadingOnes(), 70);
});

test('not flips only bits inside the size', () => {
  const b = Bitmap.fromIndices(37, [0, 5, 36]);
  const n = b.not();
  assert.is(n.size, 37);
  assert.is(n.popcount(), 34);
  assert.is(n.test(0), false);
  assert.is(n.test(1), true);
  assert.is(n.words[1], 0b01111, 'no bits past the size in the last word');
  assert.is(n.not().indices().join(), '0,5,36');
});

test('andNot removes the other bitmap\'s bits', () => {
  const a = Bitmap.fromIndices(40, [1, 2, 3, 35]);
  const b = Bitmap.fromIndices(40, [2, 35, 39]);
  assert.equal(a.andNot(b).indices(), [1, 3]);
});

test('and/or of different sizes use the smaller size', () => {
  const a = Bitmap.fromIndices(70, [0, 33, 69]);
  const b = Bitmap.fromIndices(40, [0, 1, 39]);
  const and = a.and(b);
  const or = a.or(b);
  assert.is(and.size, 40);
  assert.is(or.size, 40);
  assert.equal(and.indices(), [0]);
  assert.equal(or.indices(), [0, 1, 33, 39]);
  assert.is(b.or(a).size, 40);
});

test('indices() is ascending and popcount matches its length', () => {
  const set = [99, 3, 64, 0, 31, 32, 63];
  const b = Bitmap.fromIndices(100, set);
  assert.equal(b.indices(), [...set].sort((x, y) => x - y));
  assert.is(b.popcount(), b.indices().length);
});

test('gather picks seq[i] for set i and ignores i >= seq.length', () => {
  const b = Bitmap.fromIndices(10, [1, 3, 8]);
  assert.equal(b.gather(['a', 'b', 'c', 'd', 'e']), ['b', 'd']);
  assert.equal(b.gather([]), []);
});

test('set/clear/test and their atomic variants', () => {
  const b = new Bitmap(64, new SharedArrayBuffer(16), 8);
  b.set(5);
  assert.ok(b.test(5));
  b.clear(5);
  assert.not.ok(b.test(5));
  assert.is(b.setAtomic(40), false, 'was clear');
  assert.is(b.setAtomic(40), true, 'was set');
  assert.ok(b.testAtomic(40));
  assert.is(b.clearAtomic(40), true);
  assert.is(b.clearAtomic(40), false);
  assert.not.ok(b.testAtomic(40));
});

test('a bitmap on a shared buffer at an offset shares its words', () => {
  const sab = new SharedArrayBuffer(64);
  const a = new Bitmap(100, sab, 16);
  const b = new Bitmap(100, sab, 16);
  a.setAtomic(77);
  assert.ok(b.test(77));
  assert.is(new Uint32Array(sab)[4 + 2], 1 << 13);
});

test('bad index, size or buffer -> INVALID_ARGUMENT naming it', () => {
  const b = new Bitmap(10);
  throwsCode(() => b.set(10), ErrorCode.INVALID_ARGUMENT, /bit index 10 is outside the Bitmap of 10 bits/);
  throwsCode(() => b.test(-1), ErrorCode.INVALID_ARGUMENT, /bit index -1/);
  throwsCode(() => b.clear(1.5), ErrorCode.INVALID_ARGUMENT, /bit index 1.5/);
  throwsCode(() => new Bitmap(-1), ErrorCode.INVALID_ARGUMENT, /Bitmap size/);
  throwsCode(() => new Bitmap(100, new ArrayBuffer(8)), ErrorCode.INVALID_ARGUMENT, /needs 16 bytes/);
  throwsCode(() => new Bitmap(8, new ArrayBuffer(8), 2), ErrorCode.INVALID_ARGUMENT, /byteOffset must be a non-negative multiple of 4/);
});

test('garbage past the size in a supplied buffer is never counted', () => {
  const buf = new Uint32Array([0xffffffff]);
  const b = new Bitmap(4, buf.buffer);
  assert.is(b.popcount(), 4);
  assert.is(b.countLeadingOnes(), 4);
  assert.equal(b.indices(), [0, 1, 2, 3]);
  assert.is(b.not().isEmpty(), true);
});

test('clone is independent; isEmpty', () => {
  const a = Bitmap.fromIndices(50, [49]);
  const c = a.clone();
  c.clear(49);
  assert.ok(a.test(49));
  assert.ok(c.isEmpty());
  assert.not.ok(a.isEmpty());
  assert.ok(new Bitmap(0).isEmpty());
});

test('1M bits: countLeadingOnes/and/or are word-level (correct, and far faster than a bit loop)', () => {
  const n = 1 << 20;
  const a = Bitmap.prefix(n, n - 3);
  const b = Bitmap.fromIndices(n, [7, n - 1]);
  let clo = 0;
  let pop = 0;
  const wordRounds = () => {
    clo = a.countLeadingOnes();
    pop = a.and(b).popcount() + a.or(b).popcount();
  };
  wordRounds(); // warm-up: compile before timing
  const wordStart = performance.now();
  for (let r = 0; r < 10; r++) wordRounds();
  const wordMs = performance.now() - wordStart;
  assert.is(clo, n - 3);
  assert.is(pop, 1 + (n - 2));
  // The same three answers computed one bit at a time, as a yardstick measured in the same run.
  const bitStart = performance.now();
  for (let r = 0; r < 10; r++) {
    let ones = 0;
    while (ones < n && a.test(ones)) ones++;
    let both = 0;
    let either = 0;
    for (let i = 0; i < n; i++) {
      const x = a.test(i);
      const y = b.test(i);
      if (x && y) both++;
      if (x || y) either++;
    }
    assert.is(ones + both + either, clo + pop);
  }
  const bitMs = performance.now() - bitStart;
  assert.ok(wordMs * 4 < bitMs, `word-level ${wordMs.toFixed(1)} ms vs bit loop ${bitMs.toFixed(1)} ms`);
});

test.run();

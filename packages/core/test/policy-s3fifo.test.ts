// S3-FIFO-specific behaviour: one-hit wonders leave through the small queue, proven keys move to
// main, ghosts send returning keys straight to main, main reinserts by a counter capped at 3.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ratioForCount } from '../src/policies/eviction.ts';
import { S3FifoPolicy } from '../src/policies/s3fifo.ts';

/** Keys 0..n-1 created one batch each, in a cache of capacity 10 (small queue share: 1). */
function filled(n: number): S3FifoPolicy<number> {
  const p = new S3FifoPolicy<number>({ capacity: 10 });
  for (let k = 0; k < n; k++) p.created([k]);
  return p;
}

test('new keys enter the small queue', () => {
  const p = filled(5);
  assert.is(p.smallSize, 5);
  assert.is(p.size, 5);
});

test('one-hit wonders leave through the small queue; keys used again move to main', () => {
  const p = filled(10);
  p.touched([0, 1, 2, 3, 4]);
  const victims = p.victims(0.5);
  assert.equal(victims, [5, 6, 7, 8, 9]);
  assert.is(p.smallSize, 5, 'the victims wait in the small queue until removed');
  p.removed(victims);
  assert.is(p.smallSize, 0);
  assert.is(p.ghostSize, 5, 'evicted one-hit wonders are remembered as ghosts');
  assert.is(p.size, 5);
});

test('a ghost that comes back enters main, not the small queue', () => {
  const p = filled(10);
  p.touched([0, 1, 2, 3, 4]);
  p.removed(p.victims(0.5));
  p.created([5]);
  assert.ok(p.has(5));
  assert.is(p.smallSize, 0);
  assert.is(p.ghostSize, 4);
});

test('in main, a key used since its last pass is reinserted once per use', () => {
  const p = filled(10);
  p.touched(Array.from({ length: 10 }, (_, k) => k));
  assert.equal(p.victims(0.1), [0], 'all moved to main with cleared counters; 0 is the oldest');
  p.removed([0]);
  p.touched([1, 2]);
  assert.equal(p.victims(ratioForCount(2, p.size)), [3, 4]);
});

test('the access counter is capped at 3', () => {
  const p = filled(3);
  p.touched([0, 1, 2]);
  p.removed(p.victims(ratioForCount(1, 3))); // 0, 1, 2 move to main; 0 leaves
  for (let i = 0; i < 5; i++) p.touched([1]);
  for (let i = 0; i < 4; i++) p.touched([2]);
  // Uncapped, 2 (4 uses) would run out before 1 (5 uses); capped, both hold 3 and 1 is older.
  assert.equal(p.victims(1), [1, 2]);
});

test('a victim removed from main leaves no ghost', () => {
  const p = filled(3);
  p.touched([0, 1, 2]);
  p.removed(p.victims(ratioForCount(1, 3)));
  assert.is(p.ghostSize, 0);
});

test('an explicit delete (never proposed) leaves no ghost', () => {
  const p = filled(3);
  p.removed([1]);
  assert.is(p.ghostSize, 0);
  p.created([1]);
  assert.is(p.smallSize, 3, 'it comes back through the small queue');
});

test('while the small queue is under its share, victims come from main', () => {
  const p = new S3FifoPolicy<number>({ capacity: 20 }); // small share: 2
  for (let k = 0; k < 4; k++) p.created([k]);
  p.touched([0, 1, 2, 3]);
  p.removed(p.victims(ratioForCount(1, 4))); // all four move to main, 0 leaves
  p.created([10]);
  assert.is(p.smallSize, 1);
  assert.equal(p.victims(ratioForCount(1, p.size)), [1], 'main gives the victim, the new key stays');
});

test('the ghost queue holds at most the main share of the capacity', () => {
  const p = filled(10);
  for (let k = 10; k < 200; k++) {
    p.removed(p.victims(ratioForCount(1, p.size)));
    p.created([k]);
  }
  assert.ok(p.ghostSize <= 9, `ghosts: ${p.ghostSize}`);
  assert.ok(p.ghostSize > 0);
});

test('without a capacity option, the capacity follows the largest resident count seen', () => {
  const p = new S3FifoPolicy<number>();
  for (let k = 0; k < 30; k++) p.created([k]);
  p.removed([0, 1, 2]);
  assert.is(p.capacity, 30);
});

test.run();

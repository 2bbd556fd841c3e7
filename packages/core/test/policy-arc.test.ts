// ARC-specific behaviour: adaptation of T1's target p by ghost hits, scan resistance, ghost bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArcPolicy } from '../src/policies/arc.ts';
import { ratioForCount } from '../src/policies/eviction.ts';
import { LruPolicy } from '../src/policies/lru.ts';
import type { EvictionPolicy } from '../src/policies/eviction.ts';

/** Evicts exactly `count` keys the way a controller does: ask, then report what was deleted. */
function evict<K>(p: EvictionPolicy<K>, count: number): K[] {
  const victims = p.victims(ratioForCount(count, p.size));
  p.removed(victims);
  return victims;
}

/** T1 = {2, 3} (seen once), T2 = {0, 1} (seen twice), capacity 4. */
function recentAndFrequent(): ArcPolicy<number> {
  const arc = new ArcPolicy<number>({ capacity: 4 });
  for (const k of [0, 1, 2, 3]) arc.created([k]);
  arc.touched([0]);
  arc.touched([1]);
  return arc;
}

test('with p = 0, victims come from T1 (recency) before T2 (frequency)', () => {
  const arc = recentAndFrequent();
  assert.is(arc.recencyTarget, 0);
  assert.equal(arc.victims(1), [2, 3, 0, 1]);
});

test('a ghost hit in B1 grows p, so the next victim comes from T2', () => {
  const arc = recentAndFrequent();
  assert.equal(evict(arc, 1), [2]);
  arc.created([2]); // back from B1: T1 was too small
  assert.is(arc.recencyTarget, 1);
  // T1 = {3} is now within its target: the least recent frequent key goes first.
  assert.equal(arc.victims(0.25), [0]);
});

test('a ghost hit in B2 shrinks p again, so T1 gives the next victim', () => {
  const arc = recentAndFrequent();
  evict(arc, 1);
  arc.created([2]);
  assert.equal(evict(arc, 1), [0]); // 0 leaves T2 for B2
  arc.created([0]); // back from B2: T2 was too small
  assert.is(arc.recencyTarget, 0);
  assert.equal(arc.victims(0.25), [3]);
});

test('a key that returns from a ghost list is resident in T2, not T1', () => {
  const arc = new ArcPolicy<number>({ capacity: 4 });
  for (const k of [0, 1, 2, 3]) arc.created([k]);
  evict(arc, 1);
  arc.created([0]);
  assert.ok(arc.has(0));
  // p grew to 1: T1 = {1, 2, 3} is drawn down to one key, then T2 = {0} goes, then T1's last.
  assert.equal(arc.victims(1), [1, 2, 0, 3]);
});

test('a one-time scan does not flush keys used twice (LRU loses them)', () => {
  const scan = (p: EvictionPolicy<number>): void => {
    for (const k of [0, 1, 2, 3]) p.created([k]);
    p.touched([0, 1]);
    for (let k = 100; k < 140; k++) {
      evict(p, 1);
      p.created([k]);
    }
  };
  const arc = new ArcPolicy<number>({ capacity: 4 });
  scan(arc);
  assert.ok(arc.has(0) && arc.has(1), 'ARC keeps the frequent keys');
  const lru = new LruPolicy<number>();
  scan(lru);
  assert.not.ok(lru.has(0) || lru.has(1), 'LRU lost them');
});

test('an explicit delete (never proposed) leaves no ghost: re-creating it does not move p', () => {
  const arc = new ArcPolicy<number>({ capacity: 4 });
  for (const k of [0, 1, 2, 3]) arc.created([k]);
  arc.removed([0]);
  arc.created([0]);
  assert.is(arc.recencyTarget, 0);
  assert.equal(arc.victims(1), [1, 2, 3, 0]);
});

test('ghosts are bounded: a key evicted more than 2c evictions ago is forgotten', () => {
  const arc = new ArcPolicy<number>({ capacity: 4 });
  for (const k of [0, 1, 2, 3]) arc.created([k]);
  for (let k = 4; k < 20; k++) {
    evict(arc, 1);
    arc.created([k]);
  }
  arc.created([0]);
  assert.is(arc.recencyTarget, 0, 'no ghost hit');
});

test('without a capacity option, c follows the largest resident count seen', () => {
  const arc = new ArcPolicy<number>();
  for (let k = 0; k < 7; k++) arc.created([k]);
  arc.removed([0, 1]);
  assert.is(arc.capacity, 7);
  assert.is(new ArcPolicy<number>({ capacity: 100 }).capacity, 100);
});

test('p never exceeds c', () => {
  const arc = new ArcPolicy<number>({ capacity: 2 });
  for (let round = 0; round < 10; round++) {
    arc.created([round * 2, round * 2 + 1]);
    const gone = evict(arc, 2);
    arc.created(gone); // every return is a B1 hit
    evict(arc, arc.size);
  }
  assert.ok(arc.recencyTarget <= arc.capacity);
  assert.ok(arc.recencyTarget > 0);
});

test.run();

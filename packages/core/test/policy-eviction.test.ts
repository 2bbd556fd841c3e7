// The behaviour every list-based eviction policy shares ("LRU policy" and the policy
// side of "L2 eviction"), run over lru, arc, s3fifo and default; and the victim count rules.
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { createEvictionPolicy } from '../src/policies/eviction-policies.ts';
import { ratioForCount, victimCount, type EvictionPolicy } from '../src/policies/eviction.ts';

/** Creates `keys` one batch each, oldest first. */
function createEach<K>(policy: EvictionPolicy<K>, keys: readonly K[]): void {
  for (const key of keys) policy.created([key]);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('victimCount: ratio 0 -> none; 1.0 -> all 10; 0.5 -> 5; 0.01 -> at least 1; negative -> none; 1.5 -> all; NaN -> none', () => {
  assert.is(victimCount(0, 10), 0);
  assert.is(victimCount(1, 10), 10);
  assert.is(victimCount(0.5, 10), 5);
  assert.is(victimCount(0.01, 10), 1);
  assert.is(victimCount(-0.5, 10), 0);
  assert.is(victimCount(1.5, 10), 10);
  assert.is(victimCount(Number.NaN, 10), 0);
  assert.is(victimCount(0.5, 0), 0);
});

test('victimCount rounds products like 0.3 × 10 to the intended count', () => {
  assert.is(victimCount(0.3, 10), 3);
  assert.is(victimCount(0.7, 10), 7);
  assert.is(victimCount(0.2, 5), 1);
});

test('ratioForCount gives a ratio that victimCount turns back into exactly that count', () => {
  for (const tracked of [1, 2, 3, 7, 10, 97, 1000, 65_537]) {
    const counts = tracked <= 1000 ? range(tracked + 2) : [0, 1, 2, 999, 12_345, tracked - 1, tracked, tracked + 1];
    for (const count of counts) {
      assert.is(victimCount(ratioForCount(count, tracked), tracked), Math.min(count, tracked), `count ${count} of ${tracked}`);
    }
  }
});

for (const name of ['lru', 'arc', 's3fifo', 'default']) {
  const it = suite(`eviction policy '${name}'`);
  const make = <K = number>(): EvictionPolicy<K> => createEvictionPolicy<K>(name);

  it('empty -> no victims', () => {
    const p = make();
    assert.is(p.size, 0);
    assert.equal(p.victims(1), []);
  });

  it('create 3 -> 3 tracked', () => {
    const p = make();
    p.created([1, 2, 3]);
    assert.is(p.size, 3);
    for (const k of [1, 2, 3]) assert.ok(p.has(k));
    assert.not.ok(p.has(4));
  });

  it('remove one -> 2 tracked, the removed key is gone', () => {
    const p = make();
    p.created([1, 2, 3]);
    p.removed([2]);
    assert.is(p.size, 2);
    assert.not.ok(p.has(2));
    assert.equal(p.victims(1).sort(), [1, 3]);
  });

  it('removing an unknown key is harmless', () => {
    const p = make();
    p.created([1, 2]);
    p.removed([99]);
    p.removed([2, 2]);
    assert.is(p.size, 1);
    assert.equal(p.victims(1), [1]);
  });

  it('creating a key twice counts once (same batch or two batches)', () => {
    const p = make();
    p.created([1, 1]);
    p.created([1]);
    assert.is(p.size, 1);
    assert.equal(p.victims(1), [1]);
  });

  it('touching an unknown key is harmless and does not track it', () => {
    const p = make();
    p.created([1]);
    p.touched([42]);
    assert.is(p.size, 1);
    assert.not.ok(p.has(42));
  });

  it('ratio 0 -> none; 1.0 -> all 10; 0.5 -> 5; 0.01 -> 1; negative -> none; 1.5 -> all 10', () => {
    for (const [ratio, count] of [[0, 0], [1, 10], [0.5, 5], [0.01, 1], [-1, 0], [1.5, 10], [Number.NaN, 0]]) {
      const p = make();
      createEach(p, range(10));
      const victims = p.victims(ratio);
      assert.is(victims.length, count, `ratio ${ratio}`);
      assert.is(new Set(victims).size, count, `ratio ${ratio}: distinct`);
    }
  });

  it('oldest first across calls', () => {
    const p = make<string>();
    createEach(p, ['a', 'b', 'c']);
    assert.equal(p.victims(1), ['a', 'b', 'c']);
  });

  it('ratio × tracked victims are the oldest ones', () => {
    const p = make();
    createEach(p, range(10));
    assert.equal(p.victims(0.3), [0, 1, 2]);
  });

  it('within one batch the tail of the batch is evicted first', () => {
    const p = make<string>();
    p.created(['a', 'b', 'c']);
    assert.equal(p.victims(1), ['c', 'b', 'a']);
  });

  it('two batches: the older batch first, each tail first', () => {
    const p = make();
    p.created([1, 2]);
    p.created([3, 4]);
    assert.equal(p.victims(1), [2, 1, 4, 3]);
  });

  it('a touched key leaves after the untouched ones', () => {
    const p = make<string>();
    createEach(p, ['a', 'b', 'c']);
    p.touched(['a']);
    assert.equal(p.victims(1), ['b', 'c', 'a']);
  });

  it('re-creating a tracked key counts as a use', () => {
    const p = make<string>();
    createEach(p, ['a', 'b', 'c']);
    p.created(['a']);
    assert.is(p.size, 3);
    assert.equal(p.victims(1), ['b', 'c', 'a']);
  });

  it('keys failing the eligibility filter are skipped, not counted', () => {
    const p = make();
    createEach(p, range(4));
    assert.equal(p.victims(0.5, (k) => k !== 0), [1, 2]);
    assert.equal(p.victims(1, () => false), []);
  });

  it('victims() does not remove: the keys stay tracked until removed()', () => {
    const p = make();
    createEach(p, range(4));
    const victims = p.victims(0.5);
    assert.is(p.size, 4);
    for (const k of victims) assert.ok(p.has(k));
    p.removed(victims);
    assert.is(p.size, 2);
  });

  it('a victim the caller could not delete does not block later cycles (no head-of-line stall)', () => {
    const p = make();
    createEach(p, range(4));
    assert.equal(p.victims(0.25), [0]);
    // 0 was pinned: not removed. The next cycle moves on.
    assert.equal(p.victims(0.25), [1]);
    p.removed([1]);
    assert.equal(p.victims(0.25), [2]);
    assert.ok(p.has(0));
  });

  it('a key removed and created again is tracked as new', () => {
    const p = make<string>();
    createEach(p, ['a', 'b']);
    p.removed(['a']);
    p.created(['a']);
    assert.is(p.size, 2);
    assert.equal(p.victims(0.5), ['b']);
  });

  it('bigint keys (128-bit digests) match by value', () => {
    const p = make<bigint>();
    const digest = (i: number): bigint => (BigInt(i) << 100n) | 0xfeedn;
    p.created([digest(1), digest(2)]);
    assert.ok(p.has(BigInt('0x1' + '0'.repeat(21) + 'feed')));
    p.removed([digest(1)]);
    assert.equal(p.victims(1), [digest(2)]);
  });

  it('grows past its preallocation and recycles nodes', () => {
    const p = make();
    const n = 5000;
    createEach(p, range(n));
    assert.is(p.size, n);
    p.removed(range(n / 2));
    createEach(p, range(n / 2).map((i) => n + i));
    assert.is(p.size, n);
    const victims = p.victims(1);
    assert.is(victims.length, n);
    assert.equal(victims.slice(0, 3), [n / 2, n / 2 + 1, n / 2 + 2]);
  });

  it('a huge capacity option is a hint, not an allocation', () => {
    const p = createEvictionPolicy<number>(name, { capacity: 1e12 });
    p.created([1, 2]);
    assert.equal(p.victims(1), [2, 1]);
  });

  it('an invalid capacity option is a CONFIG error naming it', () => {
    for (const capacity of [0, -5, 1.5, Number.NaN]) {
      assert.throws(
        () => createEvictionPolicy(name, { capacity }),
        (e: unknown) => e instanceof KvtierError && e.code === ErrorCode.CONFIG && /capacity/.test(e.message),
      );
    }
  });

  it.run();
}

test.run();

// LRU against a reference model: a Map whose insertion order is the eviction order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { victimCount } from '../src/policies/eviction.ts';
import { LruPolicy } from '../src/policies/lru.ts';

/** A deterministic PRNG (mulberry32) so a failure replays. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The specification, written the obvious way: batches handled tail first, a use moves a key to
 * the newest end, and a victim still tracked at the next victims() call goes back to the newest end.
 */
class ReferenceLru {
  readonly order = new Map<number, true>();
  proposed = new Set<number>();
  last: number[] = [];

  #use(keys: number[], create: boolean): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      if (!create && !this.order.has(k)) continue;
      this.proposed.delete(k);
      this.order.delete(k);
      this.order.set(k, true);
    }
  }

  created(keys: number[]): void { this.#use(keys, true); }
  touched(keys: number[]): void { this.#use(keys, false); }
  removed(keys: number[]): void {
    for (const k of keys) { this.order.delete(k); this.proposed.delete(k); }
  }
  victims(count: number): number[] {
    for (const k of this.last) {
      if (this.proposed.has(k)) { this.order.delete(k); this.order.set(k, true); }
    }
    const out = [...this.order.keys()].slice(0, count);
    this.proposed = new Set(out);
    this.last = out;
    return out;
  }
}

test('random batches of create/touch/remove/victims match the reference model', () => {
  const random = rng(7);
  const lru = new LruPolicy<number>();
  const ref = new ReferenceLru();
  const batch = (): number[] => Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * 200));
  for (let step = 0; step < 5000; step++) {
    const op = random();
    if (op < 0.4) { const b = batch(); lru.created(b); ref.created(b); }
    else if (op < 0.65) { const b = batch(); lru.touched(b); ref.touched(b); }
    else if (op < 0.8) { const b = batch(); lru.removed(b); ref.removed(b); }
    else {
      const ratio = random();
      const got = lru.victims(ratio);
      const want = ref.victims(victimCount(ratio, ref.order.size));
      assert.equal(got, want, `step ${step}`);
      // Delete some of them, as a controller whose deletes partly fail would.
      const deleted = got.filter(() => random() < 0.5);
      lru.removed(deleted);
      ref.removed(deleted);
    }
    assert.is(lru.size, ref.order.size, `size at step ${step}`);
  }
});

test('capacity option only preallocates: behaviour is the same', () => {
  const lru = new LruPolicy<number>({ capacity: 3 });
  for (let i = 0; i < 10; i++) lru.created([i]);
  assert.is(lru.size, 10);
  assert.equal(lru.victims(0.2), [0, 1]);
});

test.run();

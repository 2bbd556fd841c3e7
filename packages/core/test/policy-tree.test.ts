// tree_lru, tree_arc and tree_s3fifo: victims are leaves of the cached prefix tree (no orphans, ever), an
// unreused request tail leaves first, a reused one joins the policy, and a policy that is given
// no tree information behaves as a plain (tail-less, parent-less) one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createEvictionPolicy } from '../src/policies/eviction-policies.ts';
import { ratioForCount, type EvictionPolicy, type PrefixInfo } from '../src/policies/eviction.ts';
import { ForwardingPolicy } from '../src/policies/forwarding.ts';
import { replayPolicy, type ChunkTrace } from '../src/policies/replay.ts';
import { TRACE_GENERATORS } from '../src/traces/generators.ts';

const TREE_POLICIES = ['tree_lru', 'tree_arc', 'tree_s3fifo'] as const;

/** A request of keys `keys` (prefix order), created with parents and its tail marked. */
function request(p: EvictionPolicy<number>, keys: number[], tail = true): void {
  p.created(keys, { parents: keys.map((_, i) => (i === 0 ? undefined : keys[i - 1])), tails: keys.map((_, i) => tail && i === keys.length - 1) });
}

for (const name of TREE_POLICIES) {
  test(`${name}: the unreused tail of a request leaves before older chunks`, () => {
    const p = createEvictionPolicy<number>(name, { capacity: 100 });
    request(p, [1, 2, 3], false);
    request(p, [10, 11, 12]);
    assert.equal(p.victims(1 / 6 + 1e-9), [12], 'the newest request tail goes first');
  });

  test(`${name}: a non-leaf is never a victim while its child is resident`, () => {
    const p = createEvictionPolicy<number>(name, { capacity: 100 });
    request(p, [1, 2, 3, 4], false);
    for (let k = 20; k < 30; k++) request(p, [k], false);
    p.touched([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    const victims = p.victims(0.25);
    assert.equal(victims.length, 3);
    for (const v of victims) {
      if (v >= 1 && v <= 3) assert.ok(victims.includes(v + 1), `${v} is proposed only with its child ${v + 1}`);
    }
  });

  test(`${name}: a reused tail joins the policy and is no longer evicted first`, () => {
    const p = createEvictionPolicy<number>(name, { capacity: 100 });
    request(p, [1, 2, 3], false);
    request(p, [10, 11, 12]);
    p.touched([10, 11, 12]);
    assert.not.equal(p.victims(1 / 6 + 1e-9), [12]);
  });

  test(`${name}: a replay leaves no orphan (a cached chunk whose parent is gone), where the classic policy does`, () => {
    const trace = TRACE_GENERATORS.chat({ requests: 3000 });
    const parentOf = new Map<number, number>();
    for (const keys of trace) keys.forEach((k, i) => { if (i > 0) parentOf.set(k, keys[i - 1]); });
    const orphans = (policy: string): OrphanCheck => {
      const checked = new OrphanCheck(createEvictionPolicy<number>(policy, { capacity: 500 }), parentOf);
      replayPolicy(trace, checked, 500);
      return checked;
    };
    const tree = orphans(name);
    const classic = orphans(name.slice('tree_'.length));
    assert.ok(tree.evictions > 1000, `the replay evicted (${tree.evictions})`);
    assert.is(tree.orphans, 0);
    assert.ok(classic.orphans > 0, 'the check can fail: the classic policy leaves orphans');
  });

  test(`${name}: evicting a 300-chunk chain one victim at a time steps over each non-leaf a bounded number of times`, () => {
    const n = 300;
    const p = createEvictionPolicy<number>(name, { capacity: 1000 });
    request(p, Array.from({ length: n }, (_, i) => i + 1), false);
    let steps = 0;
    const eligible = (): boolean => { steps++; return true; };
    for (let i = n; i >= 1; i--) {
      const victims = p.victims(ratioForCount(1, p.size), eligible);
      assert.equal(victims, [i], 'always the deepest chunk left');
      p.removed(victims);
    }
    assert.is(p.size, 0);
    // Moving each non-leaf met to the tail of its list cost n(n-1)/2 = 44 850 steps here.
    assert.ok(steps <= 4 * n, `${steps} steps for ${n} victims`);
  });

  test(`${name}: without tree information it still evicts exactly what is asked`, () => {
    const p = createEvictionPolicy<number>(name, { capacity: 10 });
    for (let k = 0; k < 10; k++) p.created([k]);
    const victims = p.victims(0.5);
    assert.is(victims.length, 5);
    p.removed(victims);
    assert.is(p.size, 5);
  });
}

for (const name of ['tree_lru', 'tree_arc'] as const) {
  test(`${name}: a parked non-leaf is the next victim once its last child left`, () => {
    const p = createEvictionPolicy<number>(name, { capacity: 100 });
    p.created([1]);
    p.created([2], { parents: [1], tails: [false] });
    p.created([3], { parents: [2], tails: [false] });
    p.created([10]);
    p.created([11]);
    const first = p.victims(ratioForCount(1, p.size));
    assert.equal(first, [3], '1 and 2 were parked, 3 is the oldest leaf');
    p.removed(first);
    assert.equal(p.victims(ratioForCount(1, p.size)), [2], '2 is a leaf again, older than 10');
  });
}

/** A policy wrapper that counts, at every removal, the resident keys whose parent just left. */
class OrphanCheck extends ForwardingPolicy<number> {
  readonly #parentOf: Map<number, number>;
  readonly #resident = new Set<number>();
  orphans = 0;
  evictions = 0;

  constructor(inner: EvictionPolicy<number>, parentOf: Map<number, number>) {
    super(inner);
    this.#parentOf = parentOf;
  }

  override created(keys: readonly number[], tree?: PrefixInfo<number>): void {
    for (const k of keys) this.#resident.add(k);
    super.created(keys, tree);
  }

  override removed(keys: readonly number[]): void {
    for (const k of keys) this.#resident.delete(k);
    this.evictions += keys.length;
    const gone = new Set(keys);
    for (const [child, parent] of this.#parentOf) if (gone.has(parent) && this.#resident.has(child)) this.orphans++;
    super.removed(keys);
  }
}

test('on the shipped-shape traces the tree variants beat ARC and S3-FIFO at a small cache', () => {
  const trace: ChunkTrace = TRACE_GENERATORS.rag({ requests: 4000 });
  const hit = (name: string): number => replayPolicy(trace, createEvictionPolicy<number>(name, { capacity: 1000 }), 1000).hitRatio;
  assert.ok(hit('tree_s3fifo') >= hit('s3fifo') - 0.002, 'tree_s3fifo is not worse than s3fifo');
});

test.run();

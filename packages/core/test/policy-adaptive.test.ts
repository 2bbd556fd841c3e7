// adaptive: follows the candidate whose miniature hits best, switches only on a clear lead and
// keeps every resident key when it does, reports its state and a sizing curve; and the sampling
// and miniature parts it is built from.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { AdaptivePolicy, SIZING_SCALES } from '../src/policies/adaptive.ts';
import { ArcPolicy } from '../src/policies/arc.ts';
import { NONE } from '../src/policies/ids.ts';
import { LruPolicy } from '../src/policies/lru.ts';
import { createEvictionPolicy } from '../src/policies/eviction-policies.ts';
import { HIT, MISSED, Miniature } from '../src/policies/miniature.ts';
import { replayPolicy } from '../src/policies/replay.ts';
import { S3FifoPolicy } from '../src/policies/s3fifo.ts';
import { replaySampled } from '../src/policies/sampled-replay.ts';
import { miniatureRate, sampleHash } from '../src/policies/sampling.ts';
import { SharedKeys } from '../src/policies/shared-keys.ts';
import { TRACE_GENERATORS } from '../src/traces/generators.ts';

test('sampleHash is uniform in [0, 1) and stable for numbers, strings and bigints', () => {
  const n = 20_000;
  let below = 0;
  for (let k = 0; k < n; k++) {
    const h = sampleHash(k);
    assert.ok(h >= 0 && h < 1);
    if (h < 0.1) below++;
  }
  assert.ok(Math.abs(below / n - 0.1) < 0.01, `${below} of ${n} under 0.1`);
  assert.is(sampleHash('a1.b2.c3.d4'), sampleHash('a1.b2.c3.d4'));
  assert.is.not(sampleHash('a1.b2.c3.d4'), sampleHash('a1.b2.c3.d5'));
  assert.is(sampleHash(123n), sampleHash(123n));
  assert.is.not(sampleHash(2 ** 40), sampleHash(2 ** 40 + 2 ** 32));
});

test('miniatureRate raises the rate for small caches, never above 1', () => {
  assert.is(miniatureRate(0.05, 100_000, 128), 0.05);
  assert.is(miniatureRate(0.05, 1000, 128), 0.128);
  assert.is(miniatureRate(0.05, 10, 128), 1);
});

test('a miniature at rate 1 is the cache itself: per-key hits, capacity enforced', () => {
  const m = new Miniature<number>(createEvictionPolicy<number>('lru'), 1, 1);
  m.resize(2);
  const ref = (keys: number[]): void => m.reference(keys, keys.map(() => 0));
  ref([1, 2]);
  ref([1, 2]);
  ref([3]);
  ref([1]);
  ref([2]);
  assert.is(m.references, 7);
  assert.is(m.hitRatio, 3 / 7, 'hits: 1, 2, then 1 (2 was evicted by 3)');
});

test('the sampled curve is close to the exact replay on the agent trace', () => {
  const trace = TRACE_GENERATORS.agent({ requests: 4000 });
  for (const name of ['lru', 'tree_arc']) {
    const exact = replayPolicy(trace, createEvictionPolicy<number>(name, { capacity: 4000 }), 4000).hitRatio;
    const sampled = replaySampled(trace, name, 4000).hitRatio;
    assert.ok(Math.abs(sampled - exact) < 0.02, `${name}: sampled ${sampled}, exact ${exact}`);
  }
});

test('on RAG (a hot shallow prompt) tracking shallow chunks brings the sampled estimate closer', () => {
  const trace = TRACE_GENERATORS.rag({ requests: 6000 });
  const exact = replayPolicy(trace, createEvictionPolicy<number>('lru', { capacity: 4000 }), 4000).hitRatio;
  const plain = replaySampled(trace, 'lru', 4000).hitRatio;
  const shallow = replaySampled(trace, 'lru', 4000, { shallow: true }).hitRatio;
  assert.ok(Math.abs(shallow - exact) < Math.abs(plain - exact), `exact ${exact}, sampled ${plain}, with shallow ${shallow}`);
  assert.ok(Math.abs(shallow - exact) < 0.04);
});

test('a miniature follows the prefix tree of its tracked keys: an ancestor outlives its descendants, across batches', () => {
  const m = new Miniature<number>(createEvictionPolicy<number>('tree_lru'), 1, 1);
  m.resize(4);
  const ref = (keys: number[], extendsPrevious?: boolean): void => m.reference(keys, keys.map(() => 0), undefined, undefined, extendsPrevious);
  ref([1]);
  ref([2], true);
  ref([3], true);
  ref([9]);
  ref([8]);
  ref([1]);
  assert.is(m.outcome(0), HIT, '1 stayed: 2 and 3 descend from it, 3 (the oldest leaf) went');
  ref([3]);
  assert.is(m.outcome(0), MISSED);
});

test('policies sharing keys see the same events; the asked one\'s victims leave ghosts in the others', () => {
  const ghostHit = (leave: (asked: ArcPolicy<number>) => void): number => {
    const keys = new SharedKeys<number>({ tree: true });
    const asked = new ArcPolicy<number>({ capacity: 4 }, true, keys);
    const other = new ArcPolicy<number>({ capacity: 4 }, true, keys);
    asked.created([1]);
    assert.ok(other.has(1) && other.size === 1, 'created through one policy, tracked by both');
    leave(asked);
    assert.is(other.size, 0);
    asked.created([1]);
    return other.recencyTarget;
  };
  assert.ok(ghostHit((asked) => asked.removed(asked.victims(1))) > 0, 'a B1 ghost hit raised p in the policy not asked');
  assert.is(ghostHit((asked) => asked.removed([1])), 0, 'a plain removal leaves no ghost');
});

test('a policy sharing keys gives back only victims it proposed itself: an id recycled since and proposed by another is not one', () => {
  const keys = new SharedKeys<string>({ tree: false });
  const asked = new LruPolicy<string>(undefined, false, keys);
  const other = new LruPolicy<string>(undefined, false, keys);
  for (const k of ['a', 'b', 'c']) asked.created([k]);
  assert.equal(asked.victims(0.1), ['a']);
  const recycled = keys.find('a');
  asked.removed(['a']);
  asked.created(['d']);
  assert.is(keys.find('d'), recycled, 'the new key took the evicted victim\'s id');
  asked.touched(['b']);
  asked.touched(['c']);
  assert.equal(other.victims(0.1), ['d'], 'd is the oldest: the other policy proposes it');
  // The first policy's last proposal was 'a', gone: 'd' (same id) is not a victim it gives back.
  assert.equal(asked.victims(0.1), ['d']);
});

test('the policy asked for victims ends the earlier proposals: one another policy made, evicted by no one, is no victim when it leaves', () => {
  const keys = new SharedKeys<number>({ tree: false });
  const first = new ArcPolicy<number>({ capacity: 4 }, false, keys);
  const asked = new ArcPolicy<number>({ capacity: 4 }, false, keys);
  first.created([1]);
  first.created([2]);
  assert.equal(first.victims(0.1), [1]);
  assert.equal(asked.victims(0.1, (k) => k !== 1), [2]);
  asked.removed([1]);
  asked.created([1]);
  assert.is(asked.recencyTarget, 0, 'a plain removal left no ghost to hit');
});

test('a policy cannot share keys that disagree with it on the prefix tree', () => {
  assert.throws(() => new ArcPolicy<number>(undefined, false, new SharedKeys<number>({ tree: true })),
    (e: unknown) => e instanceof KvtierError && e.code === ErrorCode.INVALID_ARGUMENT && /classic policy cannot share keys that follow the prefix tree/.test(e.message));
});

test('shared keys grow past their preallocation and recycle an id once no policy tracks its key', () => {
  const keys = new SharedKeys<number>({ tree: true, initialIds: 16 });
  const lru = new LruPolicy<number>(undefined, true, keys);
  const s3 = new S3FifoPolicy<number>({ capacity: 100 }, true, keys);
  for (let k = 0; k < 100; k++) lru.created([k]);
  assert.ok(keys.length >= 100, `grew to ${keys.length}`);
  const ids = Array.from({ length: 100 }, (_, k) => keys.find(k));
  assert.is(new Set(ids).size, 100, 'one id per key');
  lru.removed(lru.victims(1));
  assert.is(lru.size, 0);
  assert.is(s3.size, 0);
  assert.is(s3.ghostSize, 90, 'S3-FIFO keeps ghosts of the victims, up to its main share');
  for (let k = 0; k < 100; k++) assert.is(keys.find(k) === NONE, k < 10, `key ${k}: only the trimmed ghosts' ids are free`);
  lru.created([100]);
  assert.ok(ids.slice(0, 10).includes(keys.find(100)), 'a new key takes a recycled id');
});

test('until it switches, adaptive evicts exactly what its first candidate alone would', () => {
  const trace = TRACE_GENERATORS.chat({ requests: 1500 });
  const policy = new AdaptivePolicy<number>({ capacity: 1000 });
  const hit = replayPolicy(trace, policy, 1000).hitRatio;
  assert.is(policy.switches, 0, 'the trace is too short for a confident lead');
  assert.is(hit, replayPolicy(trace, createEvictionPolicy<number>('tree_s3fifo', { capacity: 1000 }), 1000).hitRatio);
});

test('adaptive leaves tree_s3fifo for tree_arc where that wins (a scan over a hot set, 5 000 chunks), keeps its keys and beats both', () => {
  const trace = TRACE_GENERATORS.scan({ requests: 10_000 });
  const policy = new AdaptivePolicy<number>({ capacity: 5000 });
  const hit = replayPolicy(trace, policy, 5000).hitRatio;
  const arc = replayPolicy(trace, createEvictionPolicy<number>('tree_arc', { capacity: 5000 }), 5000).hitRatio;
  const s3 = replayPolicy(trace, createEvictionPolicy<number>('tree_s3fifo', { capacity: 5000 }), 5000).hitRatio;
  assert.ok(arc > s3, `the trace favours tree_arc (${arc} vs ${s3})`);
  assert.is(policy.choice, 'tree_arc');
  assert.ok(policy.switches >= 1 && policy.switches <= 3, `switched ${policy.switches} times`);
  assert.ok(policy.size <= 5000 && policy.size > 4500, `kept its keys across switches (${policy.size})`);
  assert.ok(hit > Math.max(arc, s3), `${hit} vs ${arc} and ${s3}: the cold cache on tree_s3fifo, then tree_arc`);
});

test('adaptive does not switch on a trace where both candidates hit the same', () => {
  const policy = new AdaptivePolicy<number>({ capacity: 1000 });
  const trace = Array.from({ length: 20_000 }, (_, r) => [r % 500]);
  replayPolicy(trace, policy, 1000);
  assert.is(policy.switches, 0);
  assert.is(policy.choice, 'tree_s3fifo');
});

test('adaptive reports its choice, its candidates and a sizing curve', () => {
  const policy = new AdaptivePolicy<number>({ capacity: 2000 });
  replayPolicy(TRACE_GENERATORS.chat({ requests: 3000 }), policy, 2000);
  const state = policy.state();
  assert.is(state.choice, policy.choice);
  assert.is(state.capacity, 2000);
  assert.type(state['recentHitRatio.tree_arc'], 'number');
  assert.type(state['recentHitRatio.tree_s3fifo'], 'number');
  assert.type(state['recentHitRatio.tree_lru'], 'number');
  const curve = policy.curve();
  assert.equal(curve.map((p) => p.capacity), [1000, 2000, 4000, 8000]);
  assert.is(curve.length, SIZING_SCALES.length + 1);
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i].hitRatio >= curve[i - 1].hitRatio - 0.02, 'a larger cache hits about as much or more');
  assert.ok(curve[1].hitRatio > 0.1);
});

test('adaptive without a capacity learns it from the largest resident count', () => {
  const policy = new AdaptivePolicy<number>();
  assert.equal(policy.curve(), []);
  for (let k = 0; k < 300; k++) policy.created([k]);
  assert.is(policy.capacity, 300);
  assert.is(policy.curve().length, SIZING_SCALES.length + 1);
});

test('adaptive validates its options like every policy', () => {
  assert.throws(() => new AdaptivePolicy({ capacity: 0 }), (e: unknown) => e instanceof KvtierError && e.code === ErrorCode.CONFIG && /eviction\.capacity/.test(e.message));
});

test('the generators are seeded: the same seed gives the same trace, another seed another', () => {
  for (const [name, generate] of Object.entries(TRACE_GENERATORS)) {
    const a = generate({ seed: 7, requests: 200 });
    assert.equal(a, generate({ seed: 7, requests: 200 }), name);
    assert.not.equal(a, generate({ seed: 8, requests: 200 }), name);
    assert.is(a.length, 200);
  }
});

test('generated requests end in a tail no other request shares', () => {
  for (const [name, generate] of Object.entries(TRACE_GENERATORS)) {
    const trace = generate({ requests: 2000 });
    const seen = new Map<number, number>();
    for (const keys of trace) for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
    const shared = trace.filter((keys) => seen.get(keys[keys.length - 1])! > 1).length;
    assert.is(shared, 0, name);
  }
});

test.run();

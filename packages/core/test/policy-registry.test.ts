// The three policy registries: built-in names, unknown names, custom registrations; and noop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { AdaptivePolicy } from '../src/policies/adaptive.ts';
import { ArcPolicy } from '../src/policies/arc.ts';
import { createEvictionPolicy, evictionPolicyNames, registerEvictionPolicy } from '../src/policies/eviction-policies.ts';
import type { EvictionPolicy } from '../src/policies/eviction.ts';
import { LruPolicy } from '../src/policies/lru.ts';
import { NoopPolicy } from '../src/policies/noop.ts';
import { createPrefetchPolicy, prefetchPolicyNames, registerPrefetchPolicy } from '../src/policies/prefetch.ts';
import { S3FifoPolicy } from '../src/policies/s3fifo.ts';
import { createStorePolicy, registerStorePolicy, storePolicyNames } from '../src/policies/store.ts';

const isError = (code: string, pattern: RegExp) => (e: unknown): boolean =>
  e instanceof KvtierError && e.code === code && pattern.test(e.message);

test('eviction: the built-in names are registered', () => {
  assert.equal(evictionPolicyNames(), ['adaptive', 'arc', 'default', 'lru', 'noop', 's3fifo', 'tree_arc', 'tree_lru', 'tree_s3fifo']);
});

test('eviction: each name builds its class', () => {
  assert.instance(createEvictionPolicy('lru'), LruPolicy);
  assert.instance(createEvictionPolicy('arc'), ArcPolicy);
  assert.instance(createEvictionPolicy('s3fifo'), S3FifoPolicy);
  assert.instance(createEvictionPolicy('noop'), NoopPolicy);
  assert.instance(createEvictionPolicy('adaptive'), AdaptivePolicy);
  assert.is(createEvictionPolicy('tree_arc').name, 'tree_arc');
  assert.instance(createEvictionPolicy('tree_arc'), ArcPolicy);
  assert.is(createEvictionPolicy('tree_s3fifo').name, 'tree_s3fifo');
  assert.instance(createEvictionPolicy('tree_s3fifo'), S3FifoPolicy);
  assert.is(createEvictionPolicy('tree_lru').name, 'tree_lru');
  assert.instance(createEvictionPolicy('tree_lru'), LruPolicy);
});

test('eviction: default is adaptive, a fresh instance each time', () => {
  const a = createEvictionPolicy<number>('default');
  const b = createEvictionPolicy<number>('default');
  assert.is(a.name, 'adaptive');
  a.created([1]);
  assert.is(b.size, 0);
});

test('eviction: options reach the policy', () => {
  const arc = createEvictionPolicy('arc', { capacity: 123 }) as ArcPolicy<number>;
  assert.is(arc.capacity, 123);
});

test('eviction: an unknown name is a CONFIG error naming it and the known names', () => {
  assert.throws(() => createEvictionPolicy('mru'), isError(ErrorCode.CONFIG, /unknown eviction policy 'mru' \(known: adaptive, arc, default, lru, noop, s3fifo, tree_arc, tree_lru, tree_s3fifo\)/));
});

test('eviction: a registered policy is built by name with the options given', () => {
  let seen: unknown;
  registerEvictionPolicy('test-fifo', <K>(options?: { capacity?: number }): EvictionPolicy<K> => {
    seen = options;
    return new LruPolicy<K>(options);
  });
  const p = createEvictionPolicy<string>('test-fifo', { capacity: 8 });
  assert.equal(seen, { capacity: 8 });
  p.created(['x']);
  assert.ok(p.has('x'));
  assert.ok(evictionPolicyNames().includes('test-fifo'));
});

test('eviction: a name can be registered once; names and factories are checked', () => {
  assert.throws(() => registerEvictionPolicy('lru', () => new LruPolicy()), isError(ErrorCode.INVALID_ARGUMENT, /'lru' is already registered/));
  assert.throws(() => registerEvictionPolicy('', () => new LruPolicy()), isError(ErrorCode.INVALID_ARGUMENT, /non-empty string/));
  assert.throws(() => registerEvictionPolicy('bad', 42 as never), isError(ErrorCode.INVALID_ARGUMENT, /factory must be a function/));
});

test('store: built-in names, unknown name, custom registration', () => {
  assert.equal(storePolicyNames(), ['default', 'skip_l1']);
  assert.throws(() => createStorePolicy('write_back'), isError(ErrorCode.CONFIG, /unknown store policy 'write_back' \(known: default, skip_l1\)/));
  registerStorePolicy('test-first-only', () => ({
    name: 'test-first-only',
    targets: (keys, n) => new Map(n > 0 ? [[0, keys.slice()]] : []),
    deleteFromL1: () => [],
  }));
  assert.equal(createStorePolicy('test-first-only').targets(['k'], 2), new Map([[0, ['k']]]));
});

test('prefetch: built-in names, unknown name, custom registration', () => {
  assert.equal(prefetchPolicyNames(), ['default']);
  assert.throws(() => createPrefetchPolicy('fastest'), isError(ErrorCode.CONFIG, /unknown prefetch policy 'fastest' \(known: default\)/));
  registerPrefetchPolicy('test-nothing', () => ({ name: 'test-nothing', plan: () => new Map() }));
  assert.is(createPrefetchPolicy('test-nothing').name, 'test-nothing');
});

test('noop: tracks keys and never proposes a victim', () => {
  const p = createEvictionPolicy<number>('noop');
  p.created([1, 2, 3]);
  p.touched([1, 9]);
  p.removed([2, 9]);
  assert.is(p.size, 2);
  assert.ok(p.has(1) && p.has(3));
  assert.equal(p.victims(1), []);
  assert.equal(p.victims(0.5), []);
});

test.run();

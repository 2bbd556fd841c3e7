// Engine config validation: defaults, and errors naming the field and its allowed range.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFIG_DEFAULTS, validateConfig } from '../src/config.ts';
import { ErrorCode } from '../src/errors.ts';
import { registerAdapterType } from '../src/l2/registry.ts';
import * as memory from './l2-fixtures.ts';

registerAdapterType('memory', new URL('./l2-fixtures.ts', import.meta.url).href, memory);

const L1 = { capacityBytes: 1 << 20, slotBytes: 4096 };

function configError(config: unknown): string {
  try {
    validateConfig(config);
  } catch (err) {
    assert.is((err as { code?: string }).code, ErrorCode.CONFIG);
    return (err as Error).message;
  }
  throw new Error('expected a CONFIG error');
}

test('a minimal config gets every default', () => {
  const c = validateConfig({ l1: L1 });
  assert.equal(c.adapters, []);
  assert.is(c.storePolicy, 'default');
  assert.is(c.prefetchPolicy, 'default');
  assert.equal(c.l1Eviction, { policy: 'default', watermark: 0.8, ratio: 0.2 });
  assert.is(c.prefetchMaxInFlight, 8);
  assert.is(c.adapterCallTimeoutMs, CONFIG_DEFAULTS.adapterCallTimeoutMs);
  assert.is(c.workerReadyTimeoutMs, 60_000);
  assert.equal(c.store, { maxRetries: 3, backoffMs: 50, maxInFlightBytesPerAdapter: 256 * 1024 * 1024, batchKeys: 256 });
});

test('the l1 block is validated by L1 and passed through', () => {
  assert.match(configError({}), /^config\.l1: must be an object/);
  assert.match(configError({ l1: { slotBytes: 4096 } }), /^config\.l1\.capacityBytes: /);
  assert.equal(validateConfig({ l1: { ...L1, maxThreads: 8 } }).l1, { ...L1, maxThreads: 8 });
});

test('watermark and ratio must be in (0, 1]', () => {
  assert.is(configError({ l1: L1, l1Eviction: { watermark: 1.5 } }), 'config.l1Eviction.watermark: must be a number in (0, 1], got 1.5');
  assert.is(configError({ l1: L1, l1Eviction: { ratio: 0 } }), 'config.l1Eviction.ratio: must be a number in (0, 1], got 0');
});

test('integers name their range', () => {
  assert.is(configError({ l1: L1, prefetchMaxInFlight: 0 }), 'config.prefetchMaxInFlight: must be an integer in [1, 1024], got 0');
  assert.is(configError({ l1: L1, store: { maxRetries: -1 } }), 'config.store.maxRetries: must be an integer in [0, 100], got -1');
  assert.is(configError({ l1: L1, adapterCallTimeoutMs: 1.5 }), 'config.adapterCallTimeoutMs: must be an integer in [1, 86400000], got 1.5');
  assert.is(configError({ l1: L1, workerReadyTimeoutMs: 0 }), 'config.workerReadyTimeoutMs: must be an integer in [1, 86400000], got 0');
});

test('a lease shorter than the adapter call deadline is refused, naming both fields and why', () => {
  assert.is(configError({ l1: { ...L1, writeLeaseMs: 50 }, adapterCallTimeoutMs: 400 }),
    'config.l1.writeLeaseMs: 50 ms is shorter than adapterCallTimeoutMs (400 ms): a prefetch holds its write locks for a whole adapter load, '
    + 'so a lease must last at least one call deadline; raise l1.writeLeaseMs or lower adapterCallTimeoutMs');
  assert.match(configError({ l1: { ...L1, readLeaseMs: 10_000 } }),
    /^config\.l1\.readLeaseMs: 10000 ms is shorter than adapterCallTimeoutMs \(30000 ms\): a store holds its read locks/);
  assert.is(validateConfig({ l1: { ...L1, writeLeaseMs: 400, readLeaseMs: 400 }, adapterCallTimeoutMs: 400 }).adapterCallTimeoutMs, 400);
});

test('policy names must be registered', () => {
  assert.match(configError({ l1: L1, storePolicy: 'nope' }), /^config\.storePolicy: must be a registered policy \(.*default.*skip_l1.*\), got "nope"$/);
  assert.match(configError({ l1: L1, l1Eviction: { policy: 'mru' } }), /^config\.l1Eviction\.policy: must be a registered policy \(.*lru.*\), got "mru"$/);
});

test('adapters are validated by their registered type, naming the entry', () => {
  assert.is(configError({ l1: L1, adapters: {} }), 'config.adapters: must be an array, got an object');
  assert.match(configError({ l1: L1, adapters: [{ type: 'nosuch' }] }), /^config\.adapters\[0\]\.type: unknown adapter type "nosuch"/);
});

test('unknown top-level fields are refused', () => {
  assert.match(configError({ l1: L1, prefetchMaxInflight: 4 }), /^config\.prefetchMaxInflight: is not a known field/);
});

test('unknown fields inside l1, l1Eviction and store are refused, naming the field and the known ones', () => {
  assert.is(configError({ l1: { ...L1, slotbytes: 4096 } }),
    'config.l1.slotbytes: is not a known field (known: slotBytes, capacityBytes, slotCount, segmentBytes, writeLeaseMs, readLeaseMs, maxThreads, eventRingCapacity, emergencySample)');
  assert.is(configError({ l1: L1, l1Eviction: { policy: 'lru', watermak: 0.5 } }), 'config.l1Eviction.watermak: is not a known field (known: policy, watermark, ratio)');
  assert.is(configError({ l1: L1, store: { maxRetry: 1 } }), 'config.store.maxRetry: is not a known field (known: maxRetries, backoffMs, maxInFlightBytesPerAdapter, batchKeys)');
});

test('an adapter eviction block needs the adapter\'s capacityBytes', () => {
  assert.is(configError({ l1: L1, adapters: [{ type: 'memory', eviction: { policy: 'lru' } }] }),
    'config.adapters[0].eviction: needs adapters[0].capacityBytes: an adapter of unknown capacity is never evicted');
});

test('an adapter eviction block gets L1\'s defaults: policy default, watermark 0.8, ratio 0.2', () => {
  const c = validateConfig({ l1: L1, adapters: [{ type: 'memory', capacityBytes: 1 << 20, eviction: {} }, { type: 'memory', capacityBytes: 1 << 20, eviction: { ratio: 0.5 } }] });
  assert.equal(c.adapters.map((a) => a.eviction), [{ policy: 'default', watermark: 0.8, ratio: 0.2 }, { policy: 'default', watermark: 0.8, ratio: 0.5 }]);
  assert.match(configError({ l1: L1, adapters: [{ type: 'memory', capacityBytes: 1 << 20, eviction: { policy: 'mru' } }] }),
    /^config\.adapters\[0\]\.eviction\.policy: must be a registered policy/);
});

test.run();

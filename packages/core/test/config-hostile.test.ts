// Config values the validators cannot describe or accept — BigInts, symbols, functions, cycles,
// throwing getters and Proxy traps, class instances, deep nesting — answer KVT_ERR_CONFIG naming
// the field, never an uncoded error; and the validated config is a plain copy, read once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config.ts';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { KvCache } from '../src/engine/kv-cache.ts';
import { validateAdapterConfig } from '../src/l2/config.ts';
import { registerAdapterType } from '../src/l2/registry.ts';
import { checkInteger, checkNumber, checkString, describe } from '../src/validate.ts';
import * as memory from './l2-fixtures.ts';

registerAdapterType('memory', new URL('./l2-fixtures.ts', import.meta.url).href, memory);

const L1 = { capacityBytes: 1 << 20, slotBytes: 4096 };

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, KvtierError, `expected a KvtierError, got ${String(err)}`);
    assert.is((err as KvtierError).code, ErrorCode.CONFIG);
    return (err as Error).message;
  }
  throw new Error('expected a CONFIG error');
}
const invalid = (config: unknown) => configError(() => validateConfig(config));

test('a BigInt anywhere answers CONFIG naming the field', () => {
  assert.match(invalid({ l1: L1, adapters: [{ type: 'memory', capacityBytes: 10n }] }),
    /^config\.adapters\[0\]\.capacityBytes: must be JSON data \(.*\), got the BigInt 10n$/);
  assert.match(invalid({ l1: L1, adapters: [10n] }), /^config\.adapters\[0\]: must be JSON data .*got the BigInt 10n$/);
  assert.match(invalid({ l1: L1, adapters: [[1n]] }), /^config\.adapters\[0\]\[0\]: .*BigInt 1n$/);
  assert.match(invalid({ l1: { ...L1, slotBytes: 4096n } }), /^config\.l1\.slotBytes: .*BigInt 4096n$/);
  assert.match(invalid({ l1: L1, store: { batchKeys: 2n ** 70n } }), /^config\.store\.batchKeys: .*BigInt 1180591620717411303424n$/);
});

test('symbols, functions and class instances answer CONFIG naming the field', () => {
  assert.match(invalid({ l1: L1, adapters: [{ type: Symbol('mem') }] }), /^config\.adapters\[0\]\.type: must be JSON data .*got the symbol Symbol\(mem\)$/);
  assert.match(invalid({ l1: L1, l1Eviction: { watermark: () => 0.5 } }), /^config\.l1Eviction\.watermark: must be JSON data .*got a function$/);
  assert.match(invalid({ l1: { ...L1, maxThreads: new Date(0) } }), /^config\.l1\.maxThreads: must be JSON data .*got a Date$/);
  assert.match(invalid({ l1: L1, store: new Map() }), /^config\.store: .*got a Map$/);
  // Inherited fields are not config: the prototype's l1 was once read through.
  assert.match(invalid(Object.create({ l1: L1 })), /^config\.\(root\): must be JSON data .*class instance/);
});

test('a cycle answers CONFIG naming where it closes', () => {
  const entry: Record<string, unknown> = { type: 'memory' };
  entry.self = entry;
  assert.match(invalid({ l1: L1, adapters: [[entry]] }), /^config\.adapters\[0\]\[0\]\.self: is a cyclic reference/);
  const l1: Record<string, unknown> = { ...L1 };
  l1.again = [l1];
  assert.match(invalid({ l1 }), /^config\.l1\.again\[0\]: is a cyclic reference/);
  // A value shared twice (a DAG, not a cycle) is fine.
  const eviction = { policy: 'lru' };
  const c = validateConfig({ l1: L1, l1Eviction: eviction, adapters: [{ type: 'memory', capacityBytes: 1 << 20, eviction }] });
  assert.is(c.l1Eviction.policy, 'lru');
});

test('a throwing getter or Proxy trap answers CONFIG naming the field', () => {
  assert.is(invalid({ get l1() { throw new Error('boom'); } }), 'config.l1: could not be read: boom');
  assert.is(invalid({ l1: { ...L1, get maxThreads() { throw Symbol('odd'); } } }), 'config.l1.maxThreads: could not be read: Symbol(odd)');
  const keysThrow = new Proxy({}, { ownKeys() { throw new TypeError('no keys'); } });
  assert.is(invalid({ l1: L1, store: keysThrow }), 'config.store: could not be read: no keys');
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.match(invalid({ l1: L1, adapters: [proxy] }), /^config\.adapters\[0\]: could not be read: /);
  assert.match(invalid({ l1: L1, adapters: new Proxy([], { get: (t, k) => (k === 'length' ? 2 ** 40 : Reflect.get(t, k)) }) }), /^config\.adapters: the config holds more than/);
});

test('deep nesting answers CONFIG, not a stack overflow', () => {
  let deep: unknown = [];
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.match(invalid({ l1: L1, adapters: [deep] }), /^config\.adapters\[0\](\[0\])+: nests deeper than 32 levels$/);
});

test('the config is validated and returned as one plain copy: a getter is read once', () => {
  let reads = 0;
  const l1 = { slotBytes: 4096, get slotCount() { reads++; return reads === 1 ? 4 : 2 ** 40; } };
  const c = validateConfig({ l1 });
  assert.is(reads, 1);
  assert.equal(Object.getOwnPropertyDescriptor(c.l1, 'slotCount'), { value: 4, writable: true, enumerable: true, configurable: true });
  // `__proto__` parsed from JSON is an own field, refused as unknown (not a prototype swap).
  assert.match(invalid(JSON.parse('{"l1": {"slotBytes": 4096, "slotCount": 4}, "__proto__": {"x": 1}}')), /^config\.__proto__: is not a known field/);
});

test('the message helpers describe any value and never throw', () => {
  assert.is(describe(10n), '10n');
  assert.is(describe(Symbol('s')), 'Symbol(s)');
  assert.is(describe(() => 1), 'a function');
  const { proxy, revoke } = Proxy.revocable([], {});
  revoke();
  assert.is(describe(proxy), 'an object');
  assert.is(describe('x'.repeat(500)), `"${'x'.repeat(100)}"… (500 characters)`);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.is(configError(() => checkInteger(10n, 'adapters[0].seed', 0)), 'config.adapters[0].seed: must be an integer ≥ 0, got 10n');
  assert.is(configError(() => checkNumber(1n, 'adapters[0].rate', 0, 1)), 'config.adapters[0].rate: must be a number in [0, 1], got 1n');
  assert.is(configError(() => checkString(cyclic, 'adapters[0].baseDir')), 'config.adapters[0].baseDir: must be a non-empty string, got an object');
  assert.is(configError(() => checkNumber(Number.NaN, 'adapters[0].rate', 0, 1)), 'config.adapters[0].rate: must be a number in [0, 1], got NaN');
});

test('KvCache.open rejects a BigInt config with CONFIG before starting anything', async () => {
  try {
    await KvCache.open({ l1: L1, adapters: [{ type: 'memory', capacityBytes: 1n << 40n }] });
  } catch (err) {
    assert.instance(err, KvtierError);
    assert.is((err as KvtierError).code, ErrorCode.CONFIG);
    assert.match((err as Error).message, /^config\.adapters\[0\]\.capacityBytes: .*BigInt 1099511627776n$/);
    return;
  }
  assert.unreachable('KvCache.open accepted a BigInt');
});

test('validateAdapterConfig called on its own answers a BigInt config with CONFIG too', () => {
  for (const bad of [1n, Symbol('x')]) {
    try {
      validateAdapterConfig(bad, 'adapters[0]');
      assert.unreachable('accepted');
    } catch (err) {
      assert.ok(err instanceof KvtierError && err.code === ErrorCode.CONFIG, String(err));
      assert.match((err as Error).message, /^config\.adapters\[0\]: must be an object with a "type"/);
    }
  }
});

test.run();

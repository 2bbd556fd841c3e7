import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { validateAdapterConfig } from '../src/l2/config.ts';
import {
  adapterModule, adapterModuleUrl, importAdapterModule, registerAdapterType, registerAdapterTypes, registeredAdapterTypes,
} from '../src/l2/registry.ts';
import * as memory from './l2-fixtures.ts';
import { boundedTest } from './l2-fixtures.ts';

const test = boundedTest(uvuTest);

const MEMORY_URL = new URL('./l2-fixtures.ts', import.meta.url).href;
registerAdapterType('memory', MEMORY_URL, memory);

function configMessage(config: unknown): string {
  try {
    validateAdapterConfig(config, 'adapters[0]');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_CONFIG');
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

test('a registered type resolves to its module URL and module', async () => {
  assert.is(adapterModuleUrl('memory'), MEMORY_URL);
  assert.is(await adapterModule('memory'), memory);
  assert.equal(registeredAdapterTypes().memory, MEMORY_URL);
});

test('registering a type again with the same URL is harmless; with another URL it throws', () => {
  registerAdapterType('memory', MEMORY_URL);
  assert.is(adapterModuleUrl('memory'), MEMORY_URL);
  assert.throws(() => registerAdapterType('memory', 'file:///elsewhere.ts'), /already registered/);
});

test('type names and module URLs are validated', () => {
  assert.throws(() => registerAdapterType('Bad Name', MEMORY_URL), /adapter type must match/);
  assert.throws(() => registerAdapterType('ok', 'not a url'), /moduleUrl must be a URL/);
});

test('a registry snapshot registers types on another registry (by URL, module imported on demand)', async () => {
  registerAdapterTypes({ 'memory-copy': MEMORY_URL });
  assert.is(adapterModuleUrl('memory-copy'), MEMORY_URL);
  const module = await adapterModule('memory-copy');
  assert.type(module.createAdapter, 'function');
});

test('importing a module without the adapter functions fails naming the module', async () => {
  const url = new URL('../src/l2/envelope.ts', import.meta.url).href;
  try {
    await importAdapterModule(url);
    assert.unreachable('import succeeded');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_ADAPTER');
    assert.match((err as Error).message, /must export functions createAdapter and validateConfig/);
  }
});

test('an unknown type names the field and the registered types', () => {
  const message = configMessage({ type: 'tape' });
  assert.match(message, /^config\.adapters\[0\]\.type: unknown adapter type "tape"/);
  assert.match(message, /memory/);
  assert.match(message, /@kvtier\/adapters/);
});

test('a config must be an object with a type', () => {
  assert.match(configMessage(null), /^config\.adapters\[0\]: must be an object/);
  assert.match(configMessage({}), /^config\.adapters\[0\]\.type: must be a non-empty string/);
});

test('capacityBytes must be a positive integer', () => {
  assert.match(configMessage({ type: 'memory', capacityBytes: 0 }), /^config\.adapters\[0\]\.capacityBytes: must be an integer ≥ 1, got 0/);
  assert.match(configMessage({ type: 'memory', capacityBytes: 1.5 }), /capacityBytes/);
});

test('the eviction block is checked field by field', () => {
  const eviction = { policy: 'lru', watermark: 0.8, ratio: 0.2 };
  validateAdapterConfig({ type: 'memory', capacityBytes: 1000, eviction }, 'adapters[0]');
  validateAdapterConfig({ type: 'memory', capacityBytes: 1000, eviction: {} }, 'adapters[0]');
  assert.match(configMessage({ type: 'memory', eviction }), /^config\.adapters\[0\]\.eviction: needs adapters\[0\]\.capacityBytes/);
  assert.match(configMessage({ type: 'memory', eviction: 'lru' }), /^config\.adapters\[0\]\.eviction: must be an object/);
  assert.match(configMessage({ type: 'memory', eviction: { ...eviction, policy: '' } }), /^config\.adapters\[0\]\.eviction\.policy: /);
  assert.match(configMessage({ type: 'memory', eviction: { ...eviction, watermark: 1.5 } }), /^config\.adapters\[0\]\.eviction\.watermark: must be a number in \(0, 1\], got 1\.5/);
  assert.match(configMessage({ type: 'memory', eviction: { ...eviction, ratio: 0 } }), /^config\.adapters\[0\]\.eviction\.ratio: must be a number in \(0, 1\], got 0/);
  assert.match(configMessage({ type: 'memory', eviction: { ...eviction, extra: 1 } }), /^config\.adapters\[0\]\.eviction\.extra: is not a known field/);
});

test('the type\'s own fields are checked by its module', () => {
  assert.match(configMessage({ type: 'memory', failing: 'store' }), /^config\.adapters\[0\]\.failing: must be an array/);
});

uvuTest.run();

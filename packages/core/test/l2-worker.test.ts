// The adapter host in a real worker thread, over comlink, reading and writing a real shared L1.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { Bitmap } from '../src/shm/bitmap.ts';
import { L1Error, type DigestBatch } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { HEADER_BYTES } from '../src/l2/envelope.ts';
import { L2EventKind } from '../src/l2/events.ts';
import { AdapterHostThread } from '../src/l2/host-thread.ts';
import { L2EventRing } from '../src/l2/event-ring.ts';
import { boundedTest, fillPattern, testKeys } from './l2-fixtures.ts';

const test = boundedTest(uvuTest, 30_000);
const MEMORY_MODULE = new URL('./l2-fixtures.ts', import.meta.url).href;
const SIZE = 50_000;

/** Writes keys into L1 (finished, readable) with a pattern per key; answers their slots. */
function writeL1(l1: L1Manager, keys: DigestBatch, seedBase = 0): Int32Array {
  const r = l1.reserveWrite(keys, SIZE);
  assert.ok(r.codes.every((c) => c === L1Error.SUCCESS));
  r.slots.forEach((slot, i) => fillPattern(l1.view(slot, SIZE), seedBase + i));
  l1.finishWrite(keys);
  return r.slots;
}

async function withHost(body: (l1: L1Manager, thread: AdapterHostThread) => Promise<void>, config: Record<string, unknown> = {}, events?: SharedArrayBuffer) {
  const l1 = L1Manager.create({ slotBytes: 64 * 1024, slotCount: 32 });
  const thread = await AdapterHostThread.start({
    l1Handle: l1.handle, adapterIndex: 1, config: { type: 'memory', ...config }, moduleUrl: MEMORY_MODULE, events,
  });
  try {
    await body(l1, thread);
  } finally {
    await thread.close();
    l1.detach();
  }
}

test('a store reads L1 slots in place; a load writes other L1 slots in place', () => withHost(async (l1, thread) => {
  const keys = testKeys(3);
  const slots = writeL1(l1, keys);
  assert.equal([...(await thread.api.store(keys, slots, new Uint32Array(3).fill(SIZE)))], [1, 1, 1]);
  const { found, sizes } = await thread.api.lookupAndLock(keys, 1);
  assert.equal(new Bitmap(found.size, found.words.buffer, found.words.byteOffset).indices(), [0, 1, 2]);
  assert.equal([...sizes], [SIZE, SIZE, SIZE]);
  // Load into fresh temporary slots of other keys, as a prefetch would.
  const targets = l1.reserveWrite(testKeys(3, 1), SIZE, { temporary: true });
  const loaded = await thread.api.load(keys, targets.slots, sizes);
  assert.equal(new Bitmap(loaded.size, loaded.words.buffer, loaded.words.byteOffset).indices(), [0, 1, 2]);
  for (let i = 0; i < 3; i++) assert.equal(l1.view(targets.slots[i], SIZE), l1.view(slots[i], SIZE));
  await thread.api.unlock(keys, 1);
  assert.is(await thread.api.pinCount(), 0);
}));

test('loadAndUnlock over the port: the pins are released when its answer arrives', () => withHost(async (l1, thread) => {
  const keys = testKeys(2);
  const slots = writeL1(l1, keys);
  await thread.api.store(keys, slots, new Uint32Array(2).fill(SIZE));
  const { sizes } = await thread.api.lookupAndLock(keys, 1);
  const targets = l1.reserveWrite(testKeys(2, 1), SIZE, { temporary: true });
  const loaded = await thread.api.loadAndUnlock(keys, targets.slots, sizes, keys, 1);
  assert.equal(new Bitmap(loaded.size, loaded.words.buffer, loaded.words.byteOffset).indices(), [0, 1]);
  for (let i = 0; i < 2; i++) assert.equal(l1.view(targets.slots[i], SIZE), l1.view(slots[i], SIZE));
  assert.is(await thread.api.pinCount(), 0);
}));

test('pins taken over the port protect keys from delete until unlocked', () => withHost(async (l1, thread) => {
  const keys = testKeys(2);
  await thread.api.store(keys, writeL1(l1, keys), new Uint32Array(2).fill(SIZE));
  await thread.api.lookupAndLock(keys.subarray(0, 4), 1);
  assert.equal([...(await thread.api.delete(keys))], [0, 1]);
  await thread.api.unlock(keys.subarray(0, 4), 1);
  assert.equal([...(await thread.api.delete(keys))], [1, 0]);
  assert.is(await thread.api.pinCount(), 0);
}));

test('an adapter failure arrives as a KvtierError with code KVT_ERR_ADAPTER naming the adapter', () => withHost(async (l1, thread) => {
  const keys = testKeys(1);
  const slots = writeL1(l1, keys);
  try {
    await thread.api.store(keys, slots, Uint32Array.of(SIZE));
    assert.unreachable('store succeeded');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_ADAPTER');
    assert.match((err as Error).message, /^adapter 1 \(memory\): store failed: disk on fire during store/);
  }
  assert.match(await thread.api.metrics(), /kvtier_l2_errors_total\{adapter="1",type="memory",op="store"\} 1/);
}, { failing: ['store'] }));

test('stored, accessed and deleted events reach the adapter\'s event ring', async () => {
  const ring = new L2EventRing(64);
  await withHost(async (l1, thread) => {
    const keys = testKeys(2);
    await thread.api.store(keys, writeL1(l1, keys), new Uint32Array(2).fill(SIZE));
    const targets = l1.reserveWrite(testKeys(1, 5), SIZE, { temporary: true });
    await thread.api.load(keys.subarray(0, 4), targets.slots, Uint32Array.of(SIZE));
    await thread.api.delete(keys.subarray(4));
  }, {}, ring.buffer);
  const seen: [number, number, number][] = [];
  ring.drain((kind, digest, bytes) => seen.push([kind, digest[0], bytes]));
  assert.equal(seen, [
    [L2EventKind.STORED, 0x1000, HEADER_BYTES + SIZE],
    [L2EventKind.STORED, 0x1001, HEADER_BYTES + SIZE],
    [L2EventKind.ACCESSED, 0x1000, 0],
    [L2EventKind.DELETED, 0x1001, 0],
  ]);
});

test('an adapter that cannot be created fails start with its error, and the thread ends', async () => {
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
  try {
    await AdapterHostThread.start({ l1Handle: l1.handle, adapterIndex: 0, config: { type: 'memory' }, moduleUrl: new URL('./no-such-module.ts', import.meta.url).href });
    assert.unreachable('started');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_ADAPTER');
    assert.match((err as Error).message, /cannot import adapter module .*no-such-module\.ts/);
  } finally {
    l1.detach();
  }
});

test('close over the port ends the thread; later calls reject with KVT_ERR_CLOSED; close again is harmless', () => withHost(async (_l1, thread) => {
  await thread.close();
  await thread.api.pinCount().then(
    () => assert.unreachable('answered after close'),
    (err) => assert.is(err.code, 'KVT_ERR_CLOSED'),
  );
  await thread.close();
}));

uvuTest.run();

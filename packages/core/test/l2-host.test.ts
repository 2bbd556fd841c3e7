import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { Bitmap } from '../src/shm/bitmap.ts';
import { digestHex } from '../src/digest-batch.ts';
import type { DigestBatch } from '../src/l1/api.ts';
import { HEADER_BYTES, checkEnvelope, writeHeader, type EnvelopeFault } from '../src/l2/envelope.ts';
import { L2EventKind, type L2EventKindCode, type L2EventSink } from '../src/l2/events.ts';
import { AdapterHost, GROUP_BYTES } from '../src/l2/host.ts';
import { RELEASED_OWNERS_KEPT } from '../src/l2/pins.ts';
import { MemoryAdapter, boundedTest, fillPattern, sealedAsVersion1, slotArena, testKeys } from './l2-fixtures.ts';

const test = boundedTest(uvuTest);

class EventLog implements L2EventSink {
  readonly events: [L2EventKindCode, string, number][] = [];
  push(kind: L2EventKindCode, keys: DigestBatch, index: number, bytes: number): void {
    this.events.push([kind, digestHex(keys, index), bytes]);
  }
  of(kind: L2EventKindCode): string[] {
    return this.events.filter((e) => e[0] === kind).map((e) => e[1]);
  }
}

/**
 * A memory adapter with the `storeSealed` and `loadChecked` capabilities: it seals each payload
 * itself as the contract says (or, with `sealFor`, under another key's index: a wrong header) and
 * checks what it loads, recording each call.
 */
class SealingAdapter extends MemoryAdapter {
  readonly sealedCalls: number[] = [];
  readonly checkedCalls: number[] = [];
  async loadChecked(keys: DigestBatch, payloads: readonly Uint8Array[]): Promise<{ lengths: Float64Array; faults: (EnvelopeFault | null)[] }> {
    this.checkedCalls.push(payloads.length);
    const headers = payloads.map(() => new Uint8Array(HEADER_BYTES));
    const lengths = await super.load(keys, payloads.map((p, i) => [headers[i], p]));
    return { lengths, faults: payloads.map((p, i) => (lengths[i] < 0 ? null : checkEnvelope(headers[i], p, keys, i, lengths[i]))) };
  }
  sealFor = (i: number) => i;
  async storeSealed(keys: DigestBatch, payloads: readonly Uint8Array[]): Promise<Uint8Array> {
    this.sealedCalls.push(payloads.length);
    return super.store(keys, payloads.map((payload, i) => {
      const header = new Uint8Array(HEADER_BYTES);
      writeHeader(header, keys, this.sealFor(i), payload);
      return [header, payload];
    }));
  }
}

function setup(slotBytes = 8192, slots = 16, adapter = new MemoryAdapter()) {
  const arena = slotArena(slotBytes, slots);
  const events = new EventLog();
  const host = new AdapterHost({ adapter, index: 2, type: 'memory', l1: arena, events });
  return { adapter, arena, events, host };
}

/** Writes a pattern into slots [0, n) and stores keys 0..n-1 from them. */
async function storeKeys(s: ReturnType<typeof setup>, n: number, size = 1000) {
  const keys = testKeys(n);
  const slots = Int32Array.from({ length: n }, (_, i) => i);
  const sizes = new Uint32Array(n).fill(size);
  for (let i = 0; i < n; i++) fillPattern(s.arena.view(i, size), i);
  const ok = await s.host.store(keys, slots, sizes);
  return { keys, slots, sizes, ok };
}

function bits(data: { size: number; words: Uint32Array }): number[] {
  return new Bitmap(data.size, data.words.buffer, data.words.byteOffset).indices();
}

test('store writes header + payload per key and reports it stored', async () => {
  const s = setup();
  const { keys, ok } = await storeKeys(s, 3);
  assert.equal([...ok], [1, 1, 1]);
  const object = s.adapter.objects.get(digestHex(keys, 1))!;
  assert.is(object.length, HEADER_BYTES + 1000);
  assert.equal(object.subarray(HEADER_BYTES), s.arena.view(1, 1000));
  assert.equal(s.events.of(L2EventKind.STORED), [0, 1, 2].map((i) => digestHex(keys, i)));
  assert.is(s.host.counters.storedBytes, 3000);
});

test('load fills the L1 slots with the stored bytes', async () => {
  const s = setup();
  const { keys, sizes } = await storeKeys(s, 3);
  const target = Int32Array.from([10, 11, 12]);
  const loaded = await s.host.load(keys, target, sizes);
  assert.equal(bits(loaded), [0, 1, 2]);
  for (let i = 0; i < 3; i++) assert.equal(s.arena.view(10 + i, 1000), s.arena.view(i, 1000));
  assert.equal(s.events.of(L2EventKind.ACCESSED).length, 3);
});

test('a batch larger than one group goes out in several adapter calls, each key answered', async () => {
  const size = GROUP_BYTES / 2 + 4096;
  const s = setup(size + 4096, 8);
  let calls = 0;
  const store = s.adapter.store.bind(s.adapter);
  s.adapter.store = (k, o) => { calls++; return store(k, o); };
  const { keys, sizes, ok } = await storeKeys(s, 4, size);
  assert.equal([...ok], [1, 1, 1, 1]);
  assert.is(calls, 2);
  const loaded = await s.host.load(keys, Int32Array.from([4, 5, 6, 7]), sizes);
  assert.equal(bits(loaded), [0, 1, 2, 3]);
  assert.equal(s.arena.view(7, size), s.arena.view(3, size));
});

test('a group that fails while later groups are still being tagged fails only its keys', async () => {
  const size = GROUP_BYTES;
  const s = setup(size + 4096, 8);
  const store = s.adapter.store.bind(s.adapter);
  let calls = 0;
  s.adapter.store = (k, o) => (calls++ === 0 ? Promise.reject(new Error('first group lost')) : store(k, o));
  const { ok } = await storeKeys(s, 3, size);
  assert.equal([...ok], [0, 1, 1]);
  assert.is(s.host.counters.errors.get('store'), 1);
});

test('lookupAndLock finds stored keys with their payload sizes and pins them', async () => {
  const s = setup();
  const { keys } = await storeKeys(s, 2);
  const probe = new Uint32Array([...keys, ...testKeys(1, 99)]);
  const { found, sizes } = await s.host.lookupAndLock(probe, 1);
  assert.equal(bits(found), [0, 1]);
  assert.equal([...sizes], [1000, 1000, 0]);
  assert.is(await s.host.pinCount(), 2);
});

test('delete skips pinned keys and deletes the others', async () => {
  const s = setup();
  const { keys } = await storeKeys(s, 3);
  await s.host.lookupAndLock(keys.subarray(0, 4), 1);
  const deleted = await s.host.delete(keys);
  assert.equal([...deleted], [0, 1, 1]);
  assert.ok(s.adapter.objects.has(digestHex(keys, 0)));
  assert.is(s.host.counters.deleteSkippedPinned, 1);
  assert.equal(s.events.of(L2EventKind.DELETED), [digestHex(keys, 1), digestHex(keys, 2)]);
});

test('unlock releases pins: the pin count returns to 0 and the key can be deleted', async () => {
  const s = setup();
  const { keys } = await storeKeys(s, 2);
  await s.host.lookupAndLock(keys, 1);
  await s.host.unlock(keys, 1);
  assert.is(await s.host.pinCount(), 0);
  assert.equal([...(await s.host.delete(keys))], [1, 1]);
});

test('pins are owned: repeated unlocks by one owner leave the pin of another; the unlock of the last owner releases the key', async () => {
  const s = setup();
  const { keys } = await storeKeys(s, 1);
  await s.host.lookupAndLock(keys, 1);
  await s.host.lookupAndLock(keys, 1);
  await s.host.lookupAndLock(keys, 2);
  await s.host.unlock(keys, 1);
  await s.host.unlock(keys, 1);
  assert.equal([...(await s.host.delete(keys))], [0], 'owner 2 still pins it');
  assert.is(await s.host.pinCount(), 1);
  await s.host.unlock(keys, 2);
  assert.is(await s.host.pinCount(), 0);
  assert.equal([...(await s.host.delete(keys))], [1]);
});

test('release drops every pin of its owner only; a lookup of that owner still running then pins nothing', async () => {
  const adapter = new GatedLookupAdapter();
  const s = setup(8192, 16, adapter);
  const { keys } = await storeKeys(s, 2);
  await s.host.lookupAndLock(keys, 1);
  adapter.gated = true;
  const late = s.host.lookupAndLock(keys, 1);
  const other = s.host.lookupAndLock(keys.subarray(0, 4), 2);
  while (adapter.waiting < 2) await new Promise((r) => setTimeout(r, 1));
  await s.host.release(1);
  await s.host.release(1);
  assert.is(await s.host.pinCount(), 0, 'owner 1\'s pins are gone');
  adapter.open();
  assert.equal(bits((await late).found), [0, 1], 'the late lookup answers');
  assert.equal(bits((await other).found), [0]);
  assert.is(await s.host.pinCount(), 1, 'only owner 2 pins: the released owner\'s late lookup pinned nothing');
  assert.equal([...(await s.host.delete(keys))], [0, 1]);
});

test('a lookup that reaches the host after its owner was released (sent on another port) pins nothing and answers a miss without asking the adapter', async () => {
  const s = setup();
  const { keys } = await storeKeys(s, 2);
  await s.host.lookupAndLock(keys, 2);
  // The main thread releases a dead prefetch worker's request before the worker's lookup arrives.
  await s.host.release(1);
  s.adapter.failing.add('lookup');
  const late = await s.host.lookupAndLock(keys, 1);
  assert.equal(bits(late.found), [], 'a miss');
  assert.equal([...late.sizes], [0, 0]);
  assert.is(s.host.counters.errors.get('lookup'), undefined, 'the adapter was not asked (it would have failed)');
  await s.host.unlock(keys, 2);
  assert.is(await s.host.pinCount(), 0, 'the released owner pins nothing');
  assert.equal([...(await s.host.delete(keys))], [1, 1], 'nothing is left un-evictable');
});

test('released owners are remembered up to RELEASED_OWNERS_KEPT, the oldest forgotten first unless a lookup of it still runs', async () => {
  const adapter = new GatedLookupAdapter();
  const s = setup(8192, 16, adapter);
  const { keys } = await storeKeys(s, 1);
  adapter.gated = true;
  const running = s.host.lookupAndLock(keys, 1);
  while (adapter.waiting < 1) await new Promise((r) => setTimeout(r, 1));
  for (let owner = 1; owner <= RELEASED_OWNERS_KEPT + 1; owner++) await s.host.release(owner);
  adapter.open();
  await running;
  assert.is(await s.host.pinCount(), 0, 'owner 1 was kept while its lookup ran');
  await s.host.lookupAndLock(keys, 3);
  assert.is(await s.host.pinCount(), 0, 'owner 3 is still remembered');
  await s.host.lookupAndLock(keys, 2);
  assert.is(await s.host.pinCount(), 1, 'owner 2, the oldest without a running lookup, was forgotten: the memory is bounded');
});

test('a pin owner that is not a positive safe integer is refused with KVT_ERR_INVALID_ARGUMENT, pinning nothing', async () => {
  const s = setup();
  const { keys } = await storeKeys(s, 1);
  for (const owner of [0, -1, 1.5, Number.NaN, '1']) {
    try {
      await s.host.lookupAndLock(keys, owner as number);
      assert.unreachable('lookupAndLock accepted');
    } catch (err) {
      assert.is((err as { code: string }).code, 'KVT_ERR_INVALID_ARGUMENT');
      assert.is((err as Error).message, `owner must be a pin owner token (a positive safe integer), got ${String(owner)}`);
    }
  }
  assert.is(await s.host.pinCount(), 0);
});

test('unlock of unknown or unpinned keys is harmless', async () => {
  const s = setup();
  await s.host.unlock(testKeys(3, 7), 1);
  assert.is(await s.host.pinCount(), 0);
});

test('loadAndUnlock loads like load, then releases the pins it was given', async () => {
  const s = setup();
  const { keys, sizes } = await storeKeys(s, 2);
  await s.host.lookupAndLock(keys, 1);
  const loaded = await s.host.loadAndUnlock(keys, Int32Array.from([10, 11]), sizes, keys, 1);
  assert.equal(bits(loaded), [0, 1]);
  for (let i = 0; i < 2; i++) assert.equal(s.arena.view(10 + i, 1000), s.arena.view(i, 1000));
  assert.is(await s.host.pinCount(), 0);
  assert.equal([...(await s.host.delete(keys))], [1, 1]);
});

/** A memory adapter whose loads wait until `open()` is called. */
class GatedAdapter extends MemoryAdapter {
  open: () => void = () => {};
  readonly #gate = new Promise<void>((resolve) => { this.open = resolve; });
  started = false;
  override async load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array> {
    this.started = true;
    await this.#gate;
    return super.load(keys, targets);
  }
}

/** A memory adapter whose lookups, once `gated`, wait until `open()` is called. */
class GatedLookupAdapter extends MemoryAdapter {
  open: () => void = () => {};
  readonly #gate = new Promise<void>((resolve) => { this.open = resolve; });
  gated = false;
  waiting = 0;
  override async lookup(keys: DigestBatch): Promise<Float64Array> {
    if (this.gated) {
      this.waiting++;
      await this.#gate;
    }
    return super.lookup(keys);
  }
}

test('loadAndUnlock keeps its pins while the load runs and releases them when it fails', async () => {
  const adapter = new GatedAdapter();
  const s = setup(8192, 16, adapter);
  const { keys, sizes } = await storeKeys(s, 2);
  await s.host.lookupAndLock(keys, 1);
  const call = s.host.loadAndUnlock(keys, Int32Array.from([10, 11]), sizes, keys, 1);
  call.catch(() => {});
  while (!adapter.started) await new Promise((r) => setTimeout(r, 1));
  assert.is(await s.host.pinCount(), 2);
  assert.equal([...(await s.host.delete(keys))], [0, 0], 'eviction cannot delete what the load reads');
  adapter.failing.add('load');
  adapter.open();
  try {
    await call;
    assert.unreachable('the load succeeded');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_ADAPTER');
  }
  assert.is(await s.host.pinCount(), 0);
});

test('loadAndUnlock with a malformed pinned batch rejects with KVT_ERR_INVALID_ARGUMENT, loading and releasing nothing', async () => {
  const s = setup();
  const { keys, sizes } = await storeKeys(s, 1);
  await s.host.lookupAndLock(keys, 1);
  try {
    await s.host.loadAndUnlock(keys, Int32Array.of(10), sizes, new Uint32Array(3), 1);
    assert.unreachable('loadAndUnlock accepted');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_INVALID_ARGUMENT');
    assert.match((err as Error).message, 'pinned has 3 words, not a multiple of 4');
  }
  assert.is(await s.host.pinCount(), 1);
  assert.ok(s.arena.view(10, 1000).every((b) => b === 0), 'nothing loaded');
  assert.equal([s.host.counters.loadHits, s.host.counters.loadMisses], [0, 0], 'no load counted');
});

test('a corrupted object loads as a miss, is deleted and counted, never returned', async () => {
  const s = setup();
  const { keys, sizes } = await storeKeys(s, 3);
  s.adapter.objects.get(digestHex(keys, 1))![HEADER_BYTES + 500] ^= 0x40;
  const loaded = await s.host.load(keys, Int32Array.from([10, 11, 12]), sizes);
  assert.equal(bits(loaded), [0, 2]);
  assert.not.ok(s.adapter.objects.has(digestHex(keys, 1)));
  assert.is(s.host.counters.integrityFailures.get('checksum'), 1);
  assert.ok(s.events.of(L2EventKind.DELETED).includes(digestHex(keys, 1)));
  assert.match(await s.host.metrics(), /kvtier_l2_integrity_failures_total\{adapter="2",type="memory",reason="checksum"\} 1/);
});

test('an object of envelope version 1, intact, loads as a miss counted as a version fault, and is deleted', async () => {
  const s = setup();
  const { keys, sizes } = await storeKeys(s, 2);
  const k1 = digestHex(keys, 1);
  const payload = s.adapter.objects.get(k1)!.subarray(HEADER_BYTES);
  s.adapter.objects.get(k1)!.set(sealedAsVersion1(keys, 1, payload));
  const loaded = await s.host.load(keys, Int32Array.from([10, 11]), sizes);
  assert.equal(bits(loaded), [0]);
  assert.is(s.host.counters.integrityFailures.get('version'), 1);
  assert.not.ok(s.adapter.objects.has(k1));
});

test('an adapter with storeSealed gets the whole batch as bare payloads in one call; what it seals loads back', async () => {
  const adapter = new SealingAdapter();
  let plainStores = 0;
  const store = adapter.store.bind(adapter);
  adapter.store = (k, o) => { plainStores++; return store(k, o); };
  const size = GROUP_BYTES / 2 + 4096;
  const s = setup(size + 4096, 8, adapter);
  const { keys, sizes, ok } = await storeKeys(s, 4, size);
  assert.equal([...ok], [1, 1, 1, 1]);
  assert.equal(adapter.sealedCalls, [4], 'one call for the batch, not one per group');
  assert.is(plainStores, 0, 'the host never calls store when the adapter seals');
  assert.is(s.host.counters.storedBytes, 4 * size);
  assert.equal(s.events.of(L2EventKind.STORED).length, 4);
  const loaded = await s.host.load(keys, Int32Array.from([4, 5, 6, 7]), sizes);
  assert.equal(bits(loaded), [0, 1, 2, 3]);
  assert.equal(s.arena.view(6, size), s.arena.view(2, size));
});

test('a sealing adapter that writes a wrong header stores objects that load as misses', async () => {
  const adapter = new SealingAdapter();
  adapter.sealFor = (i) => (i === 1 ? 0 : i);
  const s = setup(8192, 16, adapter);
  const { keys, sizes, ok } = await storeKeys(s, 3);
  assert.equal([...ok], [1, 1, 1]);
  const loaded = await s.host.load(keys, Int32Array.from([10, 11, 12]), sizes);
  assert.equal(bits(loaded), [0, 2]);
  assert.is(s.host.counters.integrityFailures.get('key'), 1);
});

test('an adapter with loadChecked gets the whole batch in one call; its faults are misses, counted and deleted', async () => {
  const adapter = new SealingAdapter();
  let plainLoads = 0;
  adapter.load = () => { plainLoads++; return Promise.reject(new Error('the host should not call load')); };
  const s = setup(8192, 16, adapter);
  const { keys, sizes } = await storeKeys(s, 4);
  adapter.objects.get(digestHex(keys, 2))![HEADER_BYTES + 7] ^= 0x04;
  const probe = new Uint32Array([...keys, ...testKeys(1, 42)]);
  const loaded = await s.host.load(probe, Int32Array.from([10, 11, 12, 13, 14]), Uint32Array.from([...sizes, 1000]));
  assert.equal(bits(loaded), [0, 1, 3]);
  assert.equal(adapter.checkedCalls, [5]);
  assert.is(plainLoads, 0);
  assert.is(s.host.counters.integrityFailures.get('checksum'), 1);
  assert.is(s.host.counters.loadMisses, 2);
  assert.not.ok(adapter.objects.has(digestHex(keys, 2)));
  assert.equal(s.arena.view(13, 1000), s.arena.view(3, 1000));
});

test('a storeSealed that fails becomes KVT_ERR_ADAPTER naming the adapter; no key counts as stored', async () => {
  const adapter = new SealingAdapter();
  adapter.failing.add('store');
  const s = setup(8192, 16, adapter);
  try {
    await storeKeys(s, 2);
    assert.unreachable('store should reject');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_ADAPTER');
    assert.match((err as Error).message, /adapter 2 \(memory\): store failed: disk on fire during store/);
  }
  assert.is(s.host.counters.errors.get('store'), 1);
  assert.equal(s.events.of(L2EventKind.STORED), []);
});

test('a truncated object and another key\'s object load as misses', async () => {
  const s = setup();
  const { keys, sizes } = await storeKeys(s, 2);
  const k0 = digestHex(keys, 0);
  const k1 = digestHex(keys, 1);
  s.adapter.objects.set(k0, s.adapter.objects.get(k0)!.subarray(0, HEADER_BYTES + 10));
  s.adapter.objects.set(k1, s.adapter.objects.get(k0)!);
  const loaded = await s.host.load(keys, Int32Array.from([10, 11]), sizes);
  assert.equal(bits(loaded), []);
  assert.is(s.host.counters.integrityFailureCount, 2);
  assert.is(s.adapter.objects.size, 0);
});

test('a missing key loads as a miss without an integrity failure', async () => {
  const s = setup();
  const loaded = await s.host.load(testKeys(1), Int32Array.from([0]), Uint32Array.from([100]));
  assert.equal(bits(loaded), []);
  assert.is(s.host.counters.integrityFailureCount, 0);
  assert.is(s.host.counters.loadMisses, 1);
});

test('an adapter failure becomes KVT_ERR_ADAPTER naming the adapter, and is counted', async () => {
  const s = setup();
  s.adapter.failing.add('store');
  try {
    await storeKeys(s, 1);
    assert.unreachable('store succeeded');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_ADAPTER');
    assert.match((err as Error).message, /^adapter 2 \(memory\): store failed: disk on fire during store/);
  }
  assert.is(s.host.counters.errors.get('store'), 1);
  assert.is(s.host.counters.storesFailed, 1);
});

test('mismatched slots or sizes are rejected as invalid arguments', async () => {
  const s = setup();
  try {
    await s.host.store(testKeys(2), Int32Array.from([0]), Uint32Array.from([1, 1]));
    assert.unreachable('store accepted');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_INVALID_ARGUMENT');
  }
});

test('a slot that is not in L1 fails the whole call before anything is stored', async () => {
  const s = setup();
  try {
    await s.host.store(testKeys(2), Int32Array.from([0, 99_999]), Uint32Array.from([100, 100]));
    assert.unreachable('store accepted');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_INVALID_ARGUMENT');
  }
  assert.is(s.adapter.objects.size, 0);
});

test('close releases every pin, closes the adapter, and later calls reject with KVT_ERR_CLOSED', async () => {
  const s = setup();
  const { keys } = await storeKeys(s, 2);
  await s.host.lookupAndLock(keys, 1);
  await s.host.close();
  assert.is(await s.host.pinCount(), 0);
  assert.ok(s.adapter.closed);
  assert.is((await s.host.status()).healthy, false);
  try {
    await s.host.lookupAndLock(keys, 1);
    assert.unreachable('lookup after close');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KVT_ERR_CLOSED');
  }
});

test('status and usage come from the adapter, under the host\'s labels', async () => {
  const s = setup();
  await storeKeys(s, 2);
  const status = await s.host.status();
  assert.is(status.healthy, true);
  assert.is(status.index, 2);
  assert.is(status.type, 'memory');
  assert.equal(await s.host.usage(), { usedBytes: 2 * (HEADER_BYTES + 1000), capacityBytes: -1 });
});

uvuTest.run();

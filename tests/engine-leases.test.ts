// Leases as short as the adapter call deadline, with calls that often outlive them: prefetch
// loads land after their write lease, store claims outlive their read lease, while new objects
// keep taking slots. An expired lease releases the key, never the slot in use: never wrong
// bytes, and every slot comes back once its holders let go (docs/core/L1Manager.md#leases).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvCache } from '@kvtier/core';
import { eventually, makeKeys, pattern, storeSettled, withCache, OBJECT_BYTES } from './engine-helpers.ts';

const CALL_MS = 60;
/**
 * Rounds: at least MIN_ROUNDS, then more (up to MAX_ROUNDS) until what the test must see has been
 * seen (a prefetch beating its lease, a fresh object read back, a lease expired mid-call): on a
 * loaded machine fewer rounds see each, so the count follows what happened, not a time margin.
 */
const MIN_ROUNDS = 16;
const MAX_ROUNDS = 96;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * A third of the calls start 70 ms late: past their 60 ms deadline (abandoned, their slots kept
 * until they answer) and past the lease of the locks they hold, whatever the machine's speed.
 */
const SLOW = { type: 'fault', seed: 11, delayRate: 0.3, delayMs: 70, inner: { type: 'mock' } };
const SHORT_LEASES = {
  l1: { capacityBytes: 24 * OBJECT_BYTES, slotBytes: OBJECT_BYTES, writeLeaseMs: CALL_MS, readLeaseMs: CALL_MS },
  adapterCallTimeoutMs: CALL_MS,
  store: { maxRetries: 1, backoffMs: 1 },
};

/**
 * Writes what it can of `keys` with their patterns: with leases this short, a stalled machine may
 * expire the test's own write lock before its finishWrite (KEY_NOT_EXIST, the write discarded), and
 * orphaned slots may leave no room. Answers how many were published.
 */
function tryWrite(cache: KvCache, keys: Uint32Array): number {
  const r = cache.reserveWrite(keys, OBJECT_BYTES);
  r.slots.forEach((slot, i) => { if (r.codes[i] === 0) cache.view(slot, OBJECT_BYTES).set(pattern(keys, i)); });
  const finished = cache.finishWrite(keys);
  finished.forEach((code, i) => {
    if (r.codes[i] === 0) assert.ok(code === 0 || code === 1, `finishWrite of key ${i}: SUCCESS or KEY_NOT_EXIST (lease over), got ${code}`);
  });
  return finished.filter((c) => c === 0).length;
}

/** Leases found expired so far (write locks and objects whose read locks expired). */
async function expiredLeases(cache: KvCache): Promise<{ writes: number; reads: number }> {
  const { l1 } = await cache.status();
  return { writes: l1.expiredWrites, reads: l1.expiredReads };
}

test('prefetches and stores outliving their leases never return wrong bytes, and every slot comes back', () => withCache(async (cache) => {
  let prefetched = 0;
  let read = 0;
  let expired = 0;
  for (let round = 0; round < MIN_ROUNDS || (round < MAX_ROUNDS && !(prefetched > 0 && read > 0 && expired > 0)); round++) {
    const old = makeKeys(6);
    tryWrite(cache, old);
    await storeSettled(cache);
    cache.clear();
    const readsBefore = (await expiredLeases(cache)).reads;
    const handle = cache.submitPrefetch(old);
    // New objects take slots, two every 4 ms, while the loads are in flight.
    const fresh = makeKeys(12);
    let settled = false;
    const waited = cache.waitPrefetch(handle, { timeoutMs: 10_000 }).finally(() => { settled = true; });
    for (let k = 0; k < 12; k += 2) {
      tryWrite(cache, fresh.subarray(k * 4, (k + 2) * 4));
      if (!settled) await sleep(4);
    }
    const count = await waited;
    prefetched += count;
    if (count > 0) {
      const prefix = old.slice(0, count * 4);
      const views = cache.readPrefetched(prefix);
      if (views === null) {
        // Unreadable only when the read locks the prefetch gave expired before this read (a stalled
        // machine took longer than the lease): L1 counted that expiry when the read met it.
        assert.ok((await expiredLeases(cache)).reads > readsBefore, `round ${round}: the prefetched prefix is readable, or its read lease expired`);
      } else {
        views.forEach((v, i) => assert.equal(v, pattern(old, i), `round ${round}: prefetched key ${i} has its own bytes`));
        cache.finishReadPrefetched(prefix);
      }
    }
    // The eviction controller may have taken some (L1 is small on purpose); the rest are exact.
    const r = cache.l1.reserveRead(fresh);
    r.slots.forEach((slot, i) => {
      if (r.codes[i] !== 0) return;
      assert.equal(cache.view(slot, OBJECT_BYTES), pattern(fresh, i), `round ${round}: fresh key ${i} has its own bytes`);
      read++;
    });
    cache.l1.finishRead(fresh);
    await storeSettled(cache);
    cache.clear();
    const leases = await expiredLeases(cache);
    expired = leases.writes + leases.reads;
  }
  assert.ok(prefetched > 0, 'some prefetches beat their lease');
  assert.ok(read > 0, 'some fresh objects were read back');
  assert.ok(expired > 0, 'some leases expired mid-call');
  await eventually(async () => (await cache.status()).l1.orphanedSlots === 0, 'every orphaned slot to come back', 10_000);
  (cache.l1 as unknown as { checkInvariants(): void }).checkInvariants();
}, [SLOW], SHORT_LEASES, 240_000));

test('KvCache.open refuses a lease shorter than the adapter call deadline, naming both', async () => {
  try {
    await KvCache.open({ l1: { capacityBytes: 8 * OBJECT_BYTES, slotBytes: OBJECT_BYTES, writeLeaseMs: 50 }, adapters: [{ type: 'mock' }], adapterCallTimeoutMs: 400 });
    assert.unreachable('open should refuse');
  } catch (err) {
    assert.is((err as { code?: string }).code, ErrorCode.CONFIG);
    assert.match((err as Error).message, /^config\.l1\.writeLeaseMs: 50 ms is shorter than adapterCallTimeoutMs \(400 ms\)/);
  }
});

test.run();

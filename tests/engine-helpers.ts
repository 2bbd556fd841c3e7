/**
 * Shared helpers of the engine integration tests: a cache over real workers and real adapters,
 * keys, writes with a per-key byte pattern, and the leak check every engine test ends with.
 */
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@kvtier/adapters';
import { KvCache, digestBatch, type DigestBatch } from '@kvtier/core';
import type { AdapterHostApi } from '@kvtier/core/authoring';
import { lockedObjects, adapterHosts, newPinOwner, withDeadline, workerHealth } from '@kvtier/core/testing';

/** Bytes per object in these tests (one 4 KiB slot). */
export const OBJECT_BYTES = 4096;

let salt = 0;

/** `n` fresh key digests, distinct across calls. */
export function makeKeys(n: number): DigestBatch {
  const base = ++salt;
  return digestBatch(Array.from({ length: n }, (_, i) => {
    const d = new Uint8Array(16);
    new DataView(d.buffer).setUint32(0, base, true);
    new DataView(d.buffer).setUint32(4, i, true);
    new DataView(d.buffer).setUint32(8, process.pid, true);
    return d;
  }));
}

/** Keys [from, to) of a batch. */
export function slice(keys: DigestBatch, from: number, to = keys.length / 4): DigestBatch {
  return keys.slice(from * 4, to * 4);
}

/** The keys at `indices`. */
export function pick(keys: DigestBatch, indices: readonly number[]): DigestBatch {
  return Uint32Array.from(indices.flatMap((i) => Array.from(keys.subarray(i * 4, i * 4 + 4))));
}

/** The byte pattern of the object under key word `w0` (first digest word): every byte differs by key. */
export function pattern(keys: DigestBatch, i: number, size = OBJECT_BYTES): Uint8Array {
  const out = new Uint8Array(size);
  const seed = (keys[i * 4] * 31 + keys[i * 4 + 1] * 7) >>> 0;
  for (let b = 0; b < size; b++) out[b] = (seed + b * 13) & 0xff;
  return out;
}

/** Runs `body` with a fresh temporary directory named after `prefix`, removed afterwards; answers what `body` answered. */
export async function withTempDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens a cache with `adapters` and test-friendly defaults; `extra` overrides top-level fields. */
export function openCache(adapters: unknown[] = [{ type: 'mock' }], extra: Record<string, unknown> = {}): Promise<KvCache> {
  return KvCache.open({
    l1: { capacityBytes: 64 * OBJECT_BYTES, slotBytes: OBJECT_BYTES },
    adapters,
    adapterCallTimeoutMs: 5_000,
    ...extra,
  });
}

/** Writes keys (all must succeed) with their patterns. */
export function writeKeys(cache: KvCache, keys: DigestBatch): void {
  const n = keys.length / 4;
  const r = cache.reserveWrite(keys, OBJECT_BYTES);
  for (let i = 0; i < n; i++) {
    assert.is(r.codes[i], 0, `reserveWrite of key ${i}`);
    cache.view(r.slots[i], OBJECT_BYTES).set(pattern(keys, i));
  }
  assert.ok(cache.finishWrite(keys).every((c) => c === 0), 'finishWrite');
}

/** Polls `check` every 10 ms until it holds (or throws after `ms`). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until the store controller released every claimed object (nothing dirty or locked). */
export async function storeSettled(cache: KvCache): Promise<void> {
  // Dirty first, locks second: objects go dirty -> claimed (locked) -> released, so nothing dirty
  // at one moment and nothing locked later means every claim made before was released.
  await eventually(async () => (await cache.status()).l1.dirty === 0 && lockedObjects(cache) === 0, 'the store controller to settle');
}

/**
 * Calls adapter `a`'s host once it is healthy, bounded: while a host is being restarted,
 * `adapterHosts(cache)[a]` is still the dead one, and a call on it never settles.
 */
async function onHost<T>(cache: KvCache, a: number, what: string, call: (host: AdapterHostApi) => Promise<T>): Promise<T> {
  await eventually(() => workerHealth(cache).get(`adapter[${a}]`) === true, `adapter ${a}'s host to be healthy`);
  return withDeadline(call(adapterHosts(cache)[a]), 10_000, `adapter ${a}: ${what}`);
}

/** Whether adapter `a` holds each key (lookup, then unpin). */
export async function inL2(cache: KvCache, a: number, keys: DigestBatch): Promise<boolean[]> {
  const r = await onHost(cache, a, 'lookupAndLock', async (host) => {
    const owner = newPinOwner(cache);
    const found = await host.lookupAndLock(keys, owner);
    await host.unlock(keys, owner);
    return found;
  });
  return Array.from({ length: keys.length / 4 }, (_, i) => ((r.found.words[i >>> 5] >>> (i & 31)) & 1) === 1);
}

/**
 * The end-of-test check: no L1 object holds a lock and no adapter holds a pin. Locks still held
 * get `ms` to end, and the verdict is the last count the wait took, never a fresh one: a count of
 * 0 means nothing was locked at that moment, whereas a later count may meet a store claim the
 * store worker took since (objects left dirty by the test), which ends on its own and is no leak.
 * `count` is what is counted (lockedObjects of the cache; a test of this check scripts it).
 */
export async function assertNoLeaks(cache: KvCache, ms = 5_000, count = () => lockedObjects(cache)): Promise<void> {
  let locked = -1; // eventually counts at least once
  await eventually(() => (locked = count()) === 0, 'every L1 lock to be released', ms).catch(() => {});
  assert.is(locked, 0, 'L1 objects still locked');
  for (let a = 0; a < adapterHosts(cache).length; a++) assert.is(await onHost(cache, a, 'pinCount', (host) => host.pinCount()), 0, `adapter ${a} pins`);
}

/**
 * Runs `body` with a fresh cache under a deadline, then checks for leaks and closes the cache;
 * answers what `body` answered (a soak round's op count).
 */
export async function withCache<T>(
  body: (cache: KvCache) => Promise<T>,
  adapters?: unknown[], extra?: Record<string, unknown>, ms = 30_000,
): Promise<T> {
  // Starting the workers is not what a test checks, and under tsx on a loaded machine it can pass
  // 30 s: the open gets more time. One that ends after its deadline is closed then, or its workers
  // would keep the process alive and the clear error would end as the runner's timeout.
  const opening = openCache(adapters, extra);
  const cache = await withDeadline(opening, Math.max(ms, 60_000), 'KvCache.open').catch((err: unknown) => {
    void opening.then((late) => late.close(), () => {});
    throw err;
  });
  try {
    const result = await withDeadline(body(cache), ms, 'test body');
    await assertNoLeaks(cache);
    return result;
  } finally {
    await withDeadline(cache.close(), ms, 'KvCache.close');
  }
}

/** Puts keys in every adapter (through the store controller) and nowhere in L1. */
export async function seedL2(cache: KvCache, keys: DigestBatch): Promise<void> {
  writeKeys(cache, keys);
  await storeSettled(cache);
  const codes = cache.l1.delete(keys);
  assert.ok(codes.every((c) => c === 0), `seedL2: delete from L1 answered ${Array.from(codes)} (locks: ${readLocks(cache, keys)})`);
}

/** Prefetches and waits; returns the prefix count. */
export async function prefetch(cache: KvCache, keys: DigestBatch, extraCount = 0): Promise<number> {
  return cache.waitPrefetch(cache.submitPrefetch(keys, { extraCount }), { timeoutMs: 10_000 });
}

/** Read locks of each key (-1 where absent). */
export function readLocks(cache: KvCache, keys: DigestBatch): number[] {
  return Array.from({ length: keys.length / 4 }, (_, i) => cache.l1.state(keys, i)?.readLocks ?? -1);
}

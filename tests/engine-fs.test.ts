// The engine over the fs adapter: a real directory, one corrupted file, write-through and reload.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, KvCache, KvtierError, digestHex } from '@kvtier/core';
import { WorkerKind, soak, terminateWorker, engineCounters, workerHealth } from '@kvtier/core/testing';
import { eventually, inL2, makeKeys, pattern, prefetch, seedL2, storeSettled, withCache, withTempDir, writeKeys } from './engine-helpers.ts';

/** Runs `body` with a fresh temporary directory. */
function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  return withTempDir('kvtier-engine-fs-', body);
}

test('fs: write -> L2 -> clear -> prefetch reads the exact bytes back from files', () => withDir((dir) => withCache(async (cache) => {
  const keys = makeKeys(4);
  await seedL2(cache, keys);
  assert.is(await prefetch(cache, keys), 4);
  cache.readPrefetched(keys)!.forEach((v, i) => assert.equal(v, pattern(keys, i)));
  cache.finishReadPrefetched(keys);
}, [{ type: 'fs', baseDir: dir }])));

test('fs: a corrupted object is a miss for that key and its suffix, and is deleted from the adapter', () => withDir((dir) => withCache(async (cache) => {
  const keys = makeKeys(4);
  await seedL2(cache, keys);
  const hex = digestHex(keys, 2);
  const file = join(dir, hex.slice(0, 2), `${hex}.kv`);
  const bytes = await readFile(file);
  bytes[bytes.length - 1] ^= 0xff;
  await writeFile(file, bytes);
  assert.is(await prefetch(cache, keys), 2);
  assert.equal(await inL2(cache, 0, keys), [true, true, false, true], 'the bad object was deleted');
  assert.is(cache.l1.state(keys, 2), null);
  assert.is(cache.l1.state(keys, 3), null);
  cache.readPrefetched(keys.slice(0, 8))!.forEach((v, i) => assert.equal(v, pattern(keys, i)));
  cache.finishReadPrefetched(keys.slice(0, 8));
}, [{ type: 'fs', baseDir: dir }])));

test('an adapter worker killed is reported and restarted; controllers reach the new host', () => soak('engine-fs/kill-adapter', () => withDir((dir) => withCache(async (cache) => {
  const before = makeKeys(3);
  await seedL2(cache, before);
  await terminateWorker(cache, 'adapter[0]');
  await eventually(() => engineCounters(cache).getRestarts(WorkerKind.ADAPTER) === 1, 'the crash to be counted');
  await eventually(() => workerHealth(cache).get('adapter[0]') === true, 'the adapter host to be restarted');
  assert.ok((await cache.status()).healthy);
  // The new host found the files again (recovery scan); the prefetch worker talks to it.
  assert.is(await prefetch(cache, before), 3);
  cache.readPrefetched(before)!.forEach((v, i) => assert.equal(v, pattern(before, i)));
  cache.finishReadPrefetched(before);
  // The store worker talks to it too.
  const after = makeKeys(2);
  writeKeys(cache, after);
  await storeSettled(cache);
  assert.equal(await inL2(cache, 0, after), [true, true]);
  // 3 keys seeded, 1 kill, 3 prefetched, 2 stored.
  return 9;
}, [{ type: 'fs', baseDir: dir }]))));

test('fs: a baseDir the adapter cannot use fails open with KVT_ERR_CONFIG naming the field and the path', () => withDir(async (dir) => {
  const file = join(dir, 'a-file');
  await writeFile(file, 'x');
  const cases: [string, RegExp][] = [
    [file, /exists and is not a directory/],
    ['/dev/null', /exists and is not a directory/],
    [join(file, 'below'), /has a path component that is not a directory/],
    [join(dir, 'x'.repeat(300)), /too long/],
  ];
  for (const [baseDir, problem] of cases) {
    const err = await KvCache.open({ l1: { slotBytes: 4096, slotCount: 4 }, adapters: [{ type: 'fs', baseDir }] }).then(
      async (cache) => { await cache.close(); return null; },
      (e: KvtierError) => e,
    );
    assert.ok(err instanceof KvtierError, `${baseDir}: opened`);
    assert.is(err.code, ErrorCode.CONFIG, `${baseDir}: ${err.message}`);
    assert.match(err.message, /^config\.adapters\[0\]\.baseDir: /);
    assert.match(err.message, problem);
    assert.ok(err.message.includes(JSON.stringify(baseDir)), `the path is named: ${err.message}`);
  }
}));

test.run();

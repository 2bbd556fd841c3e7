// The engine over the fs adapter: a real directory, one corrupted file, write-through and reload.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestHex } from '@kvtier/core';
import { inL2, makeKeys, pattern, prefetch, seedL2, withCache } from './engine-helpers.ts';

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kvtier-engine-fs-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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

test.run();

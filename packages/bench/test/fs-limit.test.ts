import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestHex } from '@kvtier/core';
import { HEADER_BYTES, checkEnvelope } from '@kvtier/core/authoring';
import { withDeadline } from '@kvtier/core/testing';
import { benchKeys } from '../src/keys.ts';
import { FsLimit } from '../src/fs-limit.ts';

const TEST_MS = 60_000;

/** `count` payloads of `bytes` each, distinct patterns, on one SharedArrayBuffer. */
function sharedPayloads(count: number, bytes: number): Uint8Array[] {
  const shared = new SharedArrayBuffer(count * bytes);
  return Array.from({ length: count }, (_, i) => {
    const view = new Uint8Array(shared, i * bytes, bytes);
    for (let j = 0; j < bytes; j++) view[j] = (i * 31 + j * 7) & 0xff;
    return view;
  });
}

async function messageOf(work: Promise<unknown>): Promise<string> {
  return work.then(() => 'no error', (err) => String(err));
}

/**
 * Runs `body` on a limit of `threads` threads storing (and loading) `payloads` (keys `fs-limit` 0..n-1) into
 * `<a new temp dir>/objects`, within the test's time; closes the limit and removes the dir after.
 */
function withLimit(what: string, payloads: Uint8Array[], threads: number, body: (limit: FsLimit, objects: string, keys: Uint32Array) => Promise<void>): Promise<void> {
  return withDeadline((async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvtier-fs-limit-'));
    const objects = join(dir, 'objects');
    const keys = benchKeys('fs-limit', payloads.length);
    const limit = await FsLimit.open(objects, keys, payloads, threads);
    try {
      await body(limit, objects, keys);
    } finally {
      await limit.close();
      await rm(dir, { recursive: true, force: true });
    }
  })(), TEST_MS, what);
}

// 5 objects on 2 threads, in batches of 3 and 2: shares of 2, 1 and 1, 1.
const STORED = sharedPayloads(5, 100_003);

test('the fs store limit writes each object as a complete sealed file for its key, its temp file renamed away, batch after batch', () => withLimit('fs store limit', STORED, 2, async (limit, objects, keys) => {
  const names = Array.from({ length: 5 }, (_, i) => `${digestHex(keys, i)}.kv`);
  for (let run = 0; run < 2; run++) {
    await limit.reset();
    await limit.store(0, 3);
    await limit.store(3, 5);
    assert.equal((await readdir(objects)).sort(), [...names].sort(), `run ${run}: the objects and nothing else`);
    for (let i = 0; i < names.length; i++) {
      const file = await readFile(join(objects, names[i]));
      const payload = new Uint8Array(file.subarray(HEADER_BYTES));
      assert.is(checkEnvelope(file.subarray(0, HEADER_BYTES), payload, keys, i, file.length), null, `run ${run}: object ${i} is sealed for its key`);
      assert.equal(payload, new Uint8Array(STORED[i]), `run ${run}: object ${i}'s payload`);
    }
  }
  await limit.reset();
  assert.equal(await readdir(objects), []);
}));

test('a store of the fs store limit that fails rejects with the thread\'s error, and the threads go on', () => withLimit('fs store limit failure', sharedPayloads(2, 4096), 1, async (limit, objects) => {
  await rm(objects, { recursive: true });
  assert.match(await messageOf(limit.store(0, 2)), /Error: the fs limit failed: ENOENT: no such file or directory, open '.*objects\/[0-9a-f]{32}\.kv\.tmp-0'/);
  await mkdir(objects);
  await limit.store(0, 2);
  assert.is((await readdir(objects)).length, 2);
}));

test('a store of the fs store limit after its close rejects, naming the ended thread, instead of waiting for an answer', () => withLimit('fs store limit after close', sharedPayloads(1, 4096), 1, async (limit) => {
  await limit.close();
  assert.match(await messageOf(limit.store(0, 1)), /Error: a thread of the fs limit ended \(exit code \d+\)/);
}));

test('the fs load limit reads back every object the store limit wrote, into memory of its own, envelope checked, batch after batch', () => withLimit('fs load limit', STORED, 2, async (limit) => {
  await limit.reset();
  await limit.store(0, 5);
  for (let run = 0; run < 2; run++) {
    for (let i = 0; i < STORED.length; i++) limit.loaded(i).fill(0);
    await limit.load(0, 3);
    await limit.load(3, 5);
    for (let i = 0; i < STORED.length; i++) {
      assert.ok(limit.loaded(i).buffer instanceof SharedArrayBuffer, `object ${i} lands in shared memory`);
      assert.is.not(limit.loaded(i).buffer, STORED[i].buffer, `object ${i} lands apart from its payload`);
      assert.equal(limit.loaded(i), STORED[i], `run ${run}: object ${i}'s payload`);
    }
  }
}));

test('a load of the fs load limit rejects when an object is missing, cut short or not its key\'s, and the threads go on', () => withLimit('fs load limit failure', sharedPayloads(3, 4096), 1, async (limit, objects, keys) => {
  await limit.store(0, 3);
  const path = (i: number) => join(objects, `${digestHex(keys, i)}.kv`);
  await rm(path(0));
  assert.match(await messageOf(limit.load(0, 1)), /Error: the fs limit failed: ENOENT: no such file or directory, open '.*objects\/[0-9a-f]{32}\.kv'/);
  await truncate(path(1), HEADER_BYTES + 100);
  assert.match(await messageOf(limit.load(1, 2)), /Error: the fs limit failed: .*[0-9a-f]{32}\.kv fails its envelope check: truncated/);
  await writeFile(path(1), await readFile(path(2)));
  assert.match(await messageOf(limit.load(1, 2)), /fails its envelope check: key/);
  await limit.load(2, 3);
}));

test('the fs store limit refuses payloads it would copy, a thread count that is not a positive integer, and keys that do not match the payloads', async () => {
  const dir = join(tmpdir(), 'kvtier-fs-limit-never-created');
  const keys = benchKeys('fs-limit', 1);
  assert.match(await messageOf(FsLimit.open(dir, keys, [new Uint8Array(8)], 1)), /RangeError: FsLimit: payload 0 is not a view of a SharedArrayBuffer/);
  assert.match(await messageOf(FsLimit.open(dir, keys, sharedPayloads(1, 8), 0)), /RangeError: FsLimit: threads must be a positive integer, got 0/);
  assert.match(await messageOf(FsLimit.open(dir, keys, sharedPayloads(2, 8), 1)), /RangeError: FsLimit: 1 keys for 2 payloads/);
});

test.run();

import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readdir, rename, rm, stat, truncate, writeFile, readFile, mkdir, symlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ErrorCode, digestHex, type DigestBatch } from '@kvtier/core';
import { HEADER_BYTES, validateAdapterConfig, type AdapterModule } from '@kvtier/core/authoring';
import '../src/index.ts';
import { FsAdapter } from '../src/fs.ts';
import { TempOwner } from '../src/fs-temps.ts';
import { assertCallsRejectAfterClose, bits, boundedTest, chunkKeys, hosted, killingThreads, removeDir, tempDir } from './fixtures.ts';

const test = boundedTest(uvuTest);

/** Runs `body` with an fs adapter on a fresh temp dir, cleaning up after. */
async function withFs(body: (dir: string, adapter: FsAdapter) => Promise<void>, extra: Record<string, unknown> = {}): Promise<void> {
  const dir = await tempDir();
  try {
    const adapter = await FsAdapter.open({ type: 'fs', baseDir: dir, ...extra });
    try {
      await body(dir, adapter);
    } finally {
      await adapter.close();
    }
  } finally {
    await removeDir(dir);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

function fileOf(dir: string, keys: DigestBatch, i: number): string {
  const hex = digestHex(keys, i);
  return join(dir, hex.slice(0, 2), `${hex}.kv`);
}

test('store writes one file per key, named by its digest, in a 2-hex-digit shard', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(3);
  const m = hosted(adapter, 'fs');
  assert.equal([...(await m.store(keys, 5000))], [1, 1, 1]);
  const expected = [0, 1, 2].map((i) => relative(dir, fileOf(dir, keys, i))).sort();
  assert.equal(await filesUnder(dir), expected);
  assert.is((await stat(fileOf(dir, keys, 0))).size, HEADER_BYTES + 5000);
}));

test('load reads back exactly the stored bytes', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(4);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 60_000);
  assert.equal(await m.load(keys, 60_000), [0, 1, 2, 3]);
  for (let i = 0; i < 4; i++) assert.equal(m.arena.view(16 + i, 60_000), m.arena.view(i, 60_000));
}));

test('a store replaces an object; no temp file remains', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(1);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 1000);
  await m.store(keys, 2000);
  assert.equal(await filesUnder(dir), [relative(dir, fileOf(dir, keys, 0))]);
  assert.is((await adapter.usage()).usedBytes, HEADER_BYTES + 2000);
  assert.equal(await m.load(keys, 2000), [0]);
}));

test('a corrupted file reads as a miss, is deleted and counted', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(2);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 8000);
  const path = fileOf(dir, keys, 1);
  const bytes = await readFile(path);
  bytes[HEADER_BYTES + 4321] ^= 0x10;
  await writeFile(path, bytes);
  assert.equal(await m.load(keys, 8000), [0]);
  assert.is(m.host.counters.integrityFailures.get('checksum'), 1);
  await assert.not.ok((await filesUnder(dir)).includes(relative(dir, path)));
  assert.equal(bits((await m.host.lookupAndLock(keys, 1)).found), [0]);
}));

test('a truncated file reads as a miss and is deleted', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(1);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 8000);
  await truncate(fileOf(dir, keys, 0), HEADER_BYTES + 100);
  assert.equal(await m.load(keys, 8000), []);
  assert.is(m.host.counters.integrityFailures.get('truncated'), 1);
  assert.equal(await filesUnder(dir), []);
}));

test('a file longer than its header says reads as a miss', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(1);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 1000);
  await writeFile(fileOf(dir, keys, 0), new Uint8Array(10), { flag: 'a' });
  assert.equal(await m.load(keys, 1000), []);
  assert.is(m.host.counters.integrityFailures.get('length'), 1);
}));

test('another key\'s file renamed into place reads as a miss', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(2);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 1000);
  await rename(fileOf(dir, keys, 0), fileOf(dir, keys, 1));
  assert.equal(await m.load(keys, 1000), []);
  assert.is(m.host.counters.integrityFailures.get('key'), 1);
  assert.is(m.host.counters.loadMisses, 2);
}));

test('recovery scan: a new adapter on the same dir finds the objects and their usage', async () => {
  const dir = await tempDir();
  try {
    const keys = chunkKeys(3);
    const first = await FsAdapter.open({ type: 'fs', baseDir: dir });
    await hosted(first, 'fs').store(keys, 7000);
    await first.close();
    const second = await FsAdapter.open({ type: 'fs', baseDir: dir });
    assert.equal(await second.usage(), { usedBytes: 3 * (HEADER_BYTES + 7000), capacityBytes: -1 });
    const m = hosted(second, 'fs');
    assert.equal(bits((await m.host.lookupAndLock(keys, 1)).found), [0, 1, 2]);
    assert.equal(await m.load(keys, 7000), [0, 1, 2]);
    await second.close();
  } finally {
    await removeDir(dir);
  }
});

test('recovery scan removes stale temp files and leaves foreign files alone', async () => {
  const dir = await tempDir();
  try {
    const keys = chunkKeys(1);
    const first = await FsAdapter.open({ type: 'fs', baseDir: dir });
    await hosted(first, 'fs').store(keys, 100);
    await first.close();
    const shard = digestHex(keys, 0).slice(0, 2);
    // A temp file of a dead process of this machine (pid 2^22 + 1 is above Linux's pid_max).
    await writeFile(join(dir, shard, new TempOwner(undefined, 0).nameFor(digestHex(keys, 0)).replace(`-${process.pid}-`, `-${2 ** 22 + 1}-`)), 'half a write');
    await writeFile(join(dir, 'README'), 'not ours');
    const second = await FsAdapter.open({ type: 'fs', baseDir: dir });
    assert.is(second.removedTempFiles, 1);
    assert.equal(await filesUnder(dir), ['README', relative(dir, fileOf(dir, keys, 0))].sort());
    assert.is((await second.usage()).usedBytes, HEADER_BYTES + 100);
    await second.close();
  } finally {
    await removeDir(dir);
  }
});

test('hostile model names and salts are refused as keys, and any valid name stays under baseDir', () => withFs(async (dir, adapter) => {
  assert.throws(() => chunkKeys(1, '../../etc'), /model: must not contain '\/'/);
  assert.throws(() => chunkKeys(1, 'm', '..\\..\\x'), /cacheSalt: must not contain/);
  assert.throws(() => chunkKeys(1, '..'), /must not be a '\.\.' path segment/);
  const m = hosted(adapter, 'fs');
  for (const [model, salt] of [['..%2f..%2fetc', '...'], ['~root', '$(rm -rf ~)'], ['\u202e', ' '], ['a'.repeat(200), 'b'.repeat(256)]] as const) {
    await m.store(chunkKeys(1, model, salt), 10);
  }
  const files = await filesUnder(dir);
  assert.is(files.length, 4);
  for (const f of files) assert.match(f, new RegExp(`^[0-9a-f]{2}\\${sep}[0-9a-f]{32}\\.kv$`));
}));

test('a shard directory replaced by a symlink is refused, not followed', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(1);
  const outside = await tempDir('kvtier-outside-');
  try {
    await symlink(outside, join(dir, digestHex(keys, 0).slice(0, 2)));
    const m = hosted(adapter, 'fs');
    try {
      await m.store(keys, 10);
      assert.unreachable('store through a symlink');
    } catch (err) {
      assert.is((err as { code: string }).code, 'KVT_ERR_ADAPTER');
    }
    assert.equal(await readdir(outside), []);
  } finally {
    await removeDir(outside);
  }
}));

test('a shard directory swapped for a symlink after its first use is never written or read through', () => withFs(async (dir, adapter) => {
  // Two keys of one shard: the first store checks and remembers the shard directory.
  const all = chunkKeys(400);
  const byShard = new Map<string, number[]>();
  for (let i = 0; i < all.length / 4; i++) {
    const shard = digestHex(all, i).slice(0, 2);
    byShard.set(shard, [...(byShard.get(shard) ?? []), i]);
  }
  const [first, second] = [...byShard.values()].find((ids) => ids.length >= 2)!;
  const keyA = all.slice(first * 4, first * 4 + 4);
  const keyB = all.slice(second * 4, second * 4 + 4);
  const shard = join(dir, digestHex(keyA, 0).slice(0, 2));
  const m = hosted(adapter, 'fs');
  await m.store(keyA, 100);
  const outside = await tempDir('kvtier-outside-');
  try {
    await rename(shard, join(outside, 'moved-shard'));
    await symlink(join(outside, 'moved-shard'), shard);
    const stored = await m.store(keyB, 100).then((r) => Array.from(r), (err: { code: string }) => err.code);
    assert.equal(stored, 'KVT_ERR_ADAPTER', 'the store through the swapped shard fails');
    assert.equal((await readdir(join(outside, 'moved-shard'))).filter((f) => !f.startsWith(digestHex(keyA, 0))), [], 'nothing new landed outside baseDir');
    assert.equal(await m.load(keyA, 100), [], 'the object behind the link is not read');
  } finally {
    await removeDir(outside);
  }
}));

test('one key that cannot be written answers 0 without failing the others', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(8);
  const shard = (i: number) => digestHex(keys, i).slice(0, 2);
  const other = [1, 2, 3, 4, 5, 6, 7].find((i) => shard(i) !== shard(0))!;
  const pair = new Uint32Array([...keys.subarray(0, 4), ...keys.subarray(other * 4, other * 4 + 4)]);
  await writeFile(join(dir, shard(0)), 'a file where the shard directory should be');
  const m = hosted(adapter, 'fs');
  assert.equal([...(await m.store(pair, 100))], [0, 1]);
  assert.is(m.host.counters.storesFailed, 1);
}));

test('baseDir is validated: absolute, no NUL, no .. segments, not the root, and a directory', async () => {
  const message = (baseDir: unknown) => {
    try {
      validateAdapterConfig({ type: 'fs', baseDir }, 'adapters[1]');
      return 'accepted';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.match(message(undefined), /^config\.adapters\[1\]\.baseDir: must be a non-empty string/);
  assert.match(message('relative/dir'), /^config\.adapters\[1\]\.baseDir: must be an absolute path/);
  assert.match(message('/tmp/a\0b'), /^config\.adapters\[1\]\.baseDir: must not contain NUL/);
  assert.match(message('/tmp/../etc'), /^config\.adapters\[1\]\.baseDir: must not contain '\.\.' segments/);
  assert.match(message('/'), /^config\.adapters\[1\]\.baseDir: must not be the filesystem root/);
  assert.match(message('/tmp/x') , /^accepted$/);
  const dir = await tempDir();
  try {
    await writeFile(join(dir, 'file'), 'x');
    await FsAdapter.open({ type: 'fs', baseDir: join(dir, 'file') }).then(
      () => assert.unreachable('opened a file as baseDir'),
      (err) => assert.ok(['ENOTDIR', 'EEXIST', 'KVT_ERR_CONFIG'].includes((err as { code: string }).code), String(err)),
    );
  } finally {
    await removeDir(dir);
  }
});

test('fs config: fsync must be a boolean; unknown fields are named', () => {
  assert.throws(() => validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', fsync: 'yes' }, 'adapters[0]'), /config\.adapters\[0\]\.fsync: must be a boolean/);
  assert.throws(() => validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', basedir: '/y' }, 'adapters[0]'), /config\.adapters\[0\]\.basedir: is not a field of an fs adapter/);
});

test('capacity: usage counts envelopes; a store past capacity answers 0; delete frees space', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(3);
  const m = hosted(adapter, 'fs');
  assert.equal([...(await m.store(keys, 1000))], [1, 1, 0]);
  assert.equal(await adapter.usage(), { usedBytes: 2 * (HEADER_BYTES + 1000), capacityBytes: 2 * (HEADER_BYTES + 1000) + 20 });
  assert.equal([...(await m.host.delete(keys.subarray(0, 4)))], [1]);
  assert.is((await adapter.usage()).usedBytes, HEADER_BYTES + 1000);
  assert.equal([...(await m.host.store(keys.subarray(8), Int32Array.of(2), Uint32Array.of(1000)))], [1]);
}, { capacityBytes: 2 * (HEADER_BYTES + 1000) + 20 }));

test('concurrent stores never overshoot capacity', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(8);
  const m = hosted(adapter, 'fs');
  const results = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => m.host.store(keys.subarray(i * 4, i * 4 + 4), Int32Array.of(i), Uint32Array.of(1000))));
  assert.is(results.filter((r) => r[0] === 1).length, 3);
  assert.ok((await adapter.usage()).usedBytes <= 3 * (HEADER_BYTES + 1000) + 20);
}, { capacityBytes: 3 * (HEADER_BYTES + 1000) + 20 }));

test('a file deleted behind the adapter\'s back loads as a miss and leaves the index', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(1);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 100);
  await removeDir(join(dir, digestHex(keys, 0).slice(0, 2)));
  assert.equal(await m.load(keys, 100), []);
  assert.is(m.host.counters.integrityFailureCount, 0);
  assert.equal((await adapter.lookup(keys))[0], -1);
  assert.is((await adapter.usage()).usedBytes, 0);
}));

test('a FIFO or a symlink in place of an object file loads as a miss at once, and close() still ends', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(2);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 100);
  const fifo = fileOf(dir, keys, 0);
  await rm(fifo);
  execFileSync('mkfifo', [fifo]);
  const link = fileOf(dir, keys, 1);
  await rm(link);
  await writeFile(join(dir, 'elsewhere'), 'not an object');
  await symlink(join(dir, 'elsewhere'), link);
  assert.equal(await m.load(keys, 100), [], 'neither is an object: both miss');
  assert.equal(Array.from(await adapter.lookup(keys)), [-1, -1], 'and both left the index');
  await m.store(keys, 100);
  assert.equal(await m.load(keys, 100), [0, 1], 'a new store replaces them');
}));

test('fsync: true still stores and loads', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(2);
  const m = hosted(adapter, 'fs');
  assert.equal([...(await m.store(keys, 3000))], [1, 1]);
  assert.equal(await m.load(keys, 3000), [0, 1]);
}, { fsync: true }));

test('the fs module creates a ready adapter, making a missing baseDir', async () => {
  const dir = await tempDir();
  try {
    const nested = join(dir, 'a', 'b');
    await mkdir(dir, { recursive: true });
    const module: AdapterModule = await import('../src/fs.ts');
    const adapter = await module.createAdapter({ type: 'fs', baseDir: nested }, { index: 0, field: 'adapters[0]' });
    assert.is((await adapter.status()).healthy, true);
    assert.ok((await stat(nested)).isDirectory());
    await adapter.close();
  } finally {
    await removeDir(dir);
  }
});

test('close() waits for the calls in flight: once it resolves, every store has settled and no temp file is left', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(6);
  const payloads = Array.from({ length: 6 }, (_, i) => new Uint8Array(new SharedArrayBuffer(1 << 20)).fill(i + 1));
  let settled = false;
  // Asked for in the same turn as close(): its jobs are still queued for the I/O threads.
  const stored = adapter.storeSealed(keys, payloads).finally(() => { settled = true; });
  await adapter.close();
  assert.ok(settled, 'the store settled before close() resolved');
  assert.equal([...(await stored)], [1, 1, 1, 1, 1, 1]);
  const files = await filesUnder(dir);
  assert.equal(files, Array.from({ length: 6 }, (_, i) => relative(dir, fileOf(dir, keys, i))).sort(), 'every object in place, no temp file');
  for (const file of files) assert.is((await stat(join(dir, file))).size, HEADER_BYTES + (1 << 20));
}));

test('close() in the turn checked loads are asked for waits for them: once it resolves, every load has settled, read in place and checked', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(6);
  const payloads = Array.from({ length: 6 }, (_, i) => new Uint8Array(new SharedArrayBuffer(1 << 20)).fill(i + 1));
  assert.equal([...(await adapter.storeSealed(keys, payloads))], [1, 1, 1, 1, 1, 1]);
  const slots = Array.from({ length: 6 }, () => new Uint8Array(new SharedArrayBuffer(1 << 20)));
  let settled = false;
  // Asked for in the same turn as close(): its jobs are not even posted to the ring yet.
  const loaded = adapter.loadChecked(keys, slots).finally(() => { settled = true; });
  await adapter.close();
  assert.ok(settled, 'the loads settled before close() resolved');
  const { lengths, faults } = await loaded;
  assert.equal([...lengths], Array.from({ length: 6 }, () => HEADER_BYTES + (1 << 20)));
  assert.equal(faults, [null, null, null, null, null, null]);
  slots.forEach((slot, i) => assert.ok(slot.every((b) => b === i + 1), `slot ${i} holds its object`));
}));

test('I/O threads that die with sealed stores posted leave them to new threads, or fail the ones they took with KVT_ERR_WORKER; no temp file is left and the index matches the files', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(6);
  const payload = (fill: number) => new Uint8Array(new SharedArrayBuffer(1 << 20)).fill(fill);
  // Keys 0-2 hold objects: a thread may die after unlinking one, or after renaming its successor.
  assert.equal([...(await adapter.storeSealed(keys.slice(0, 12), [1, 2, 3].map(payload)))], [1, 1, 1]);
  /** The index, usage and every object agree with the files; each object is its key's payload `older` or `newer` (a fill per key). */
  const consistent = async (older: number, newer: number) => {
    assert.equal((await filesUnder(dir)).filter((f) => f.includes('.tmp-')), [], 'no temp file left');
    const sizes = await Promise.all(Array.from({ length: 6 }, (_, i) => stat(fileOf(dir, keys, i)).then((s) => s.size, () => -1)));
    assert.equal(Array.from(await adapter.lookup(keys)), sizes, 'the index says what the files are');
    assert.is((await adapter.usage()).usedBytes, sizes.filter((s) => s > 0).reduce((a, b) => a + b, 0));
    const slots = Array.from({ length: 6 }, () => new Uint8Array(new SharedArrayBuffer(1 << 20)));
    const loaded = await adapter.loadChecked(keys, slots);
    for (let i = 0; i < 6; i++) {
      if (sizes[i] < 0) continue;
      assert.is(loaded.faults[i], null, `key ${i} is a good object`);
      assert.ok([older + i, newer + i].includes(slots[i][0]) && slots[i].every((b) => b === slots[i][0]), `key ${i} holds its old or its new payload`);
    }
  };
  // Each new payload buffer is sent to the threads first, and each is killed then: they die
  // before they take a store, and the stores wait in the ring for a new thread.
  const killed = await killingThreads(async () => {
    assert.equal([...(await adapter.storeSealed(keys, [11, 12, 13, 14, 15, 16].map(payload)))], [1, 1, 1, 1, 1, 1], 'a new thread took the stores');
  });
  assert.ok(killed > 0, 'threads were killed');
  await consistent(11, 11);
  // Threads killed a moment later die mid-write, mid-rename or after answering: whatever each
  // key's store answered (a store a dead thread took fails with its code), the files and the index agree.
  await killingThreads(() => adapter.storeSealed(keys, [31, 32, 33, 34, 35, 36].map(payload)).then(() => {}, (e: { code?: string }) => assert.is(e.code, ErrorCode.WORKER)), 3);
  await consistent(11, 31);
  assert.equal([...(await adapter.storeSealed(keys, [21, 22, 23, 24, 25, 26].map(payload)))], [1, 1, 1, 1, 1, 1], 'new threads serve the next store');
  await consistent(21, 21);
}));

test('after close() every data call rejects with KVT_ERR_CLOSED', () => withFs(async (_dir, adapter) => {
  await assertCallsRejectAfterClose(adapter);
}));


/** Two keys whose objects share one shard directory. */
function sameShardPair(): [DigestBatch, DigestBatch] {
  const all = chunkKeys(400);
  const byShard = new Map<string, number[]>();
  for (let i = 0; i < all.length / 4; i++) {
    const shard = digestHex(all, i).slice(0, 2);
    byShard.set(shard, [...(byShard.get(shard) ?? []), i]);
  }
  const [a, b] = [...byShard.values()].find((ids) => ids.length >= 2)!;
  return [all.slice(a * 4, a * 4 + 4), all.slice(b * 4, b * 4 + 4)];
}

/** Polls `check` until it is true or `ms` pass. */
async function eventually(check: () => Promise<boolean>, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}

test('baseDir deleted while running: stores fail, status turns unhealthy naming it, and both recover once it is back', () => withFs(async (_dir, adapter) => {
  const base = adapter.baseDir;
  const keys = chunkKeys(2);
  const m = hosted(adapter, 'fs');
  assert.equal([...(await m.host.store(keys.subarray(0, 4), Int32Array.of(0), Uint32Array.of(100)))], [1]);
  await rm(base, { recursive: true, force: true });
  const failed = await m.host.store(keys.subarray(4, 8), Int32Array.of(1), Uint32Array.of(100)).then((r) => Array.from(r), (err: { code: string }) => err.code);
  assert.ok(failed === 'KVT_ERR_ADAPTER' || String(failed) === '0', `the store fails (${String(failed)})`);
  const sick = await adapter.status();
  assert.is(sick.healthy, false);
  assert.type(sick.reason, 'string');
  assert.ok((sick.reason as string).includes(base), 'the reason names baseDir');
  assert.match(sick.reason as string, /ENOENT/);
  await stat(base).then(() => assert.unreachable('a store re-created baseDir'), () => {});
  await mkdir(base);
  assert.is((await adapter.status()).healthy, true, 'healthy again once baseDir is back');
  assert.is((await adapter.status()).reason, undefined);
  assert.equal([...(await m.host.store(keys.subarray(4, 8), Int32Array.of(1), Uint32Array.of(100)))], [1], 'the shard is re-created');
  assert.equal(await m.load(keys.subarray(4, 8), 100), [0]);
}));

test('baseDir deleted and re-created: the next store works without a status() call', () => withFs(async (_dir, adapter) => {
  const [keyA, keyB] = sameShardPair();
  const m = hosted(adapter, 'fs');
  await m.store(keyA, 100);
  await rm(adapter.baseDir, { recursive: true, force: true });
  await m.store(keyB, 100).catch(() => {});
  await mkdir(adapter.baseDir);
  assert.equal([...(await m.store(keyB, 100))], [1], 'the cached shard is not trusted after ENOENT');
  assert.is((await adapter.status()).healthy, true);
}));

test('a shard directory removed behind the adapter is re-created by the next store of that shard', () => withFs(async (_dir, adapter) => {
  const [keyA, keyB] = sameShardPair();
  const m = hosted(adapter, 'fs');
  await m.store(keyA, 100);
  await rm(join(adapter.baseDir, digestHex(keyA, 0).slice(0, 2)), { recursive: true, force: true });
  assert.equal([...(await m.store(keyB, 100))], [1]);
  assert.equal(await m.load(keyB, 100), [0]);
  assert.is((await adapter.status()).healthy, true);
}));

test('a load that finds baseDir gone turns status unhealthy (through the reconciliation it starts)', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(2);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 100);
  await rm(adapter.baseDir, { recursive: true, force: true });
  assert.equal(await m.load(keys, 100), []);
  await adapter.reconcile();
  const status = await adapter.status();
  assert.is(status.healthy, false);
  assert.match(String(status.reason), /ENOENT/);
  assert.is((await adapter.usage()).usedBytes, 0, 'the vanished objects left usage');
  await mkdir(adapter.baseDir);
  assert.is((await adapter.status()).healthy, true);
}));

test('a directory where an object file belongs is a miss, and a store clears it without following links inside', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(1);
  const m = hosted(adapter, 'fs');
  const path = fileOf(adapter.baseDir, keys, 0);
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'junk'), 'not empty');
  const outside = await tempDir('kvtier-outside-');
  try {
    await writeFile(join(outside, 'keep'), 'must survive');
    await symlink(outside, join(path, 'link'));
    assert.equal(await m.load(keys, 100), [], 'a directory is no object');
    assert.equal([...(await m.store(keys, 100))], [1], 'the key is storable again');
    assert.ok((await stat(path)).isFile());
    assert.equal(await m.load(keys, 100), [0]);
    assert.is(await readFile(join(outside, 'keep'), 'utf8'), 'must survive', 'nothing behind a link was removed');
    assert.equal(await filesUnder(dir), [relative(dir, fileOf(dir, keys, 0))], 'no temp file remains');
  } finally {
    await removeDir(outside);
  }
}));

test('reconcile(): files removed or resized behind the adapter leave or fix usage and the index', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(3);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 1000);
  await rm(fileOf(adapter.baseDir, keys, 0));
  await truncate(fileOf(adapter.baseDir, keys, 1), 10);
  assert.is((await adapter.usage()).usedBytes, 3 * (HEADER_BYTES + 1000), 'within the interval usage() answers from the index');
  await adapter.reconcile();
  assert.is((await adapter.usage()).usedBytes, 10 + HEADER_BYTES + 1000);
  assert.equal(Array.from(await adapter.lookup(keys)), [-1, 10, HEADER_BYTES + 1000]);
  assert.is((await adapter.status()).objects, 2);
}));

test('usage() reconciles with the disk once reconcileIntervalMs has passed', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(2);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 1000);
  await rm(fileOf(adapter.baseDir, keys, 0));
  await new Promise((r) => setTimeout(r, 60));
  assert.ok(await eventually(async () => (await adapter.usage()).usedBytes === HEADER_BYTES + 1000), 'usage() started a reconciliation');
}, { reconcileIntervalMs: 50 }));

test('a load that finds an indexed file missing reconciles the rest at once', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(3);
  const m = hosted(adapter, 'fs');
  await m.store(keys, 1000);
  await rm(fileOf(adapter.baseDir, keys, 0));
  await rm(fileOf(adapter.baseDir, keys, 1));
  assert.equal(await m.load(keys.subarray(0, 4), 1000), []);
  assert.ok(await eventually(async () => (await adapter.usage()).usedBytes === HEADER_BYTES + 1000), 'the other missing file left usage too');
  assert.equal(Array.from(await adapter.lookup(keys)), [-1, -1, HEADER_BYTES + 1000]);
}));

test('a reconciliation keeps keys stored or replaced while it runs', () => withFs(async (_dir, adapter) => {
  const keys = chunkKeys(600);
  const m = hosted(adapter, 'fs', 1024, 700);
  await m.store(keys.subarray(0, 599 * 4), 10);
  const running = adapter.reconcile();
  // Replacements unlink the old file before the rename: a reconciliation must not forget them.
  await Promise.all([m.store(keys.subarray(599 * 4), 10), m.store(keys.subarray(0, 300 * 4), 20)]);
  await running;
  await adapter.reconcile();
  assert.is((await adapter.status()).objects, 600);
  assert.is((await adapter.usage()).usedBytes, 300 * (HEADER_BYTES + 20) + 300 * (HEADER_BYTES + 10));
}));

test('fs config: reconcileIntervalMs must be an integer >= 0', () => {
  assert.throws(() => validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', reconcileIntervalMs: -1 }, 'adapters[0]'), /config\.adapters\[0\]\.reconcileIntervalMs: must be an integer/);
  assert.throws(() => validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', reconcileIntervalMs: '5' }, 'adapters[0]'), /config\.adapters\[0\]\.reconcileIntervalMs: must be an integer/);
  validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', reconcileIntervalMs: 0 }, 'adapters[0]');
});

test('fs config: ioThreads must be an integer >= 1', () => {
  assert.throws(() => validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', ioThreads: 0 }, 'adapters[0]'), /config\.adapters\[0\]\.ioThreads: must be an integer ≥ 1, got 0/);
  assert.throws(() => validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', ioThreads: 2.5 }, 'adapters[0]'), /config\.adapters\[0\]\.ioThreads: must be an integer/);
  validateAdapterConfig({ type: 'fs', baseDir: '/tmp/x', ioThreads: 1 }, 'adapters[0]');
});

test('one I/O thread seals, writes, reads and checks a whole batch: every file is an envelope the host accepts', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(12);
  const m = hosted(adapter, 'fs', 64 * 1024, 32);
  assert.equal([...(await m.store(keys, 30_000))], new Array(12).fill(1));
  assert.equal(await m.load(keys, 30_000), [...Array(12).keys()]);
  for (let i = 0; i < 12; i++) assert.equal(m.arena.view(16 + i, 30_000), m.arena.view(i, 30_000));
  assert.equal((await filesUnder(dir)).filter((f) => f.includes('.tmp-')), []);
}, { ioThreads: 1 }));

test('an unsealed store (a wrapping adapter\'s host sealed it) writes its parts as given', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(1);
  const parts = [Uint8Array.from([1, 2, 3]), new Uint8Array(new SharedArrayBuffer(5000)).fill(7)];
  assert.equal([...(await adapter.store(keys, [parts]))], [1]);
  assert.equal(new Uint8Array(await readFile(fileOf(dir, keys, 0))), Uint8Array.from([1, 2, 3, ...parts[1]]));
}));

test('a plain load (no envelope check) reads into any memory, and misses a FIFO or a symlink at an object\'s name as a checked load does', () => withFs(async (dir, adapter) => {
  const keys = chunkKeys(3);
  const object = (i: number) => [new Uint8Array(100).fill(i + 1), new Uint8Array(new SharedArrayBuffer(3000)).fill(i + 10)];
  assert.equal([...(await adapter.store(keys, [0, 1, 2].map(object)))], [1, 1, 1]);
  const fifo = fileOf(dir, keys, 0);
  await rm(fifo);
  execFileSync('mkfifo', [fifo]);
  const link = fileOf(dir, keys, 1);
  await rm(link);
  await symlink(fileOf(dir, keys, 2), link);
  const targets = [0, 1, 2].map(() => [new Uint8Array(3000), new Uint8Array(100)]);
  assert.equal([...(await adapter.load(keys, targets))], [-1, -1, 3100]);
  assert.equal(Uint8Array.from([...targets[2][0], ...targets[2][1]]), Uint8Array.from([...object(2)[0], ...object(2)[1]]));
  assert.equal(Array.from(await adapter.lookup(keys)), [-1, -1, 3100], 'neither the FIFO nor the link is an object');
}));

uvuTest.run();

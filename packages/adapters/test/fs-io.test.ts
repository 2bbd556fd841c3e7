// The fs adapter's I/O threads on their own: real threads writing and reading real files.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '@kvtier/core';
import { HEADER_BYTES, writeHeader } from '@kvtier/core/authoring';
import { appendFile } from 'node:fs/promises';
import { FsIoThreads, sharedIoThreads, type CheckedRead } from '../src/fs-io.ts';
import { boundedTest, chunkKeys, fillPattern, removeDir, tempDir } from './fixtures.ts';

const test = boundedTest(uvuTest);

/** Runs `body` with a fresh pool of `threads` I/O threads (idle and unref'd after) and a temp dir, removed after. */
async function withThreads(threads: number, body: (io: FsIoThreads, dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('kvtier-fs-io-');
  try {
    await body(new FsIoThreads(threads), dir);
  } finally {
    await removeDir(dir);
  }
}

/** Opens `path` for writing, runs `body` with its descriptor, closes it. */
async function withFile(path: string, flags: string, body: (fd: number) => Promise<void>): Promise<void> {
  const fh = await open(path, flags);
  try {
    await body(fh.fd);
  } finally {
    await fh.close();
  }
}

test('a sealed write is the header the host would write, then the payload read in place from a SharedArrayBuffer', () => withThreads(2, async (io, dir) => {
  const keys = chunkKeys(3);
  const payload = new Uint8Array(new SharedArrayBuffer(3 * 70_000), 70_000, 70_000);
  fillPattern(payload, 4);
  const path = join(dir, 'sealed');
  await withFile(path, 'w', (fd) => io.write(fd, { parts: [payload], seal: keys.slice(4, 8) }, false));
  const expected = new Uint8Array(HEADER_BYTES);
  writeHeader(expected, keys, 1, payload);
  const file = new Uint8Array(await readFile(path));
  assert.is(file.length, HEADER_BYTES + payload.length);
  assert.equal(file.subarray(0, HEADER_BYTES), expected);
  assert.equal(file.subarray(HEADER_BYTES), payload);
}));

test('plain parts (not shared memory) are written exactly, in order, with fdatasync when asked', () => withThreads(1, async (io, dir) => {
  const parts = [new Uint8Array(10).fill(1), new Uint8Array(0), new Uint8Array(200_000).fill(2), new Uint8Array(3).fill(3)];
  const path = join(dir, 'plain');
  await withFile(path, 'w', (fd) => io.write(fd, { parts }, true));
  assert.equal(new Uint8Array(await readFile(path)), Uint8Array.from([...parts[0], ...parts[2], ...parts[3]]));
}));

test('more writes than threads queue up, each lands in its own file; the pool grows one ready thread at a time, never past its limit', () => withThreads(2, async (io, dir) => {
  const n = 12;
  const handles = await Promise.all(Array.from({ length: n }, (_, i) => open(join(dir, `f${i}`), 'w')));
  try {
    // One write first: a second thread starts only once the first is ready.
    await io.write(handles[0].fd, { parts: [new Uint8Array(50_000).fill(0)] }, false);
    await Promise.all(handles.map((fh, i) => io.write(fh.fd, { parts: [new Uint8Array(50_000).fill(i)] }, false)));
    assert.is(io.running, 2);
  } finally {
    await Promise.all(handles.map((fh) => fh.close()));
  }
  for (let i = 0; i < n; i++) assert.equal(new Uint8Array(await readFile(join(dir, `f${i}`))), new Uint8Array(50_000).fill(i));
}));

test('a failed write rejects with the I/O thread\'s error and its errno code; the thread keeps serving', () => withThreads(1, async (io, dir) => {
  const path = join(dir, 'read-only');
  await withFile(path, 'w', async () => {});
  await withFile(path, 'r', async (fd) => {
    const err = await io.write(fd, { parts: [new Uint8Array(8)] }, false).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    assert.is(err?.code, 'EBADF');
    assert.match(err?.message ?? '', /EBADF/);
  });
  await withFile(path, 'w', (fd) => io.write(fd, { parts: [new Uint8Array(4).fill(9)] }, false));
  assert.equal(new Uint8Array(await readFile(path)), new Uint8Array(4).fill(9));
}));

test('a checked read fills the payload view in place and answers the envelope check of the bytes it read', () => withThreads(2, async (io, dir) => {
  const keys = chunkKeys(2);
  const stored = new Uint8Array(new SharedArrayBuffer(9000));
  fillPattern(stored, 8);
  const path = join(dir, 'object');
  await withFile(path, 'w', (fd) => io.write(fd, { parts: [stored], seal: keys.slice(0, 4) }, false));
  const target = new Uint8Array(new SharedArrayBuffer(20_000), 5000, 9000);
  let result: CheckedRead | undefined;
  const readBack = (key: Uint32Array) => withFile(path, 'r', async (fd) => {
    result = await io.readChecked(fd, target, key);
  });
  await readBack(keys.slice(0, 4));
  assert.equal(result, { bytes: HEADER_BYTES + 9000, fault: null });
  assert.equal(target, stored);
  await readBack(keys.slice(4, 8));
  assert.is(result?.fault, 'key', 'the same object under another key is a bad object');
  await appendFile(path, Uint8Array.from([0]));
  await readBack(keys.slice(0, 4));
  assert.equal(result, { bytes: HEADER_BYTES + 9001, fault: 'length' }, 'the probe byte reveals a longer file');
  const plain = await io.readChecked(0, new Uint8Array(8), keys.slice(0, 4)).catch((e: { code?: string; message: string }) => e);
  assert.is((plain as { code?: string }).code, ErrorCode.INVALID_ARGUMENT);
  assert.match((plain as Error).message, /a checked read needs its payload view on a SharedArrayBuffer/);
}));

test('the fs adapters of a thread share one pool, allowed the largest thread count any of them asked for', () => withThreads(1, async (_io, dir) => {
  const first = sharedIoThreads(1);
  assert.is(sharedIoThreads(3), first);
  const handles = await Promise.all(Array.from({ length: 6 }, (_, i) => open(join(dir, `s${i}`), 'w')));
  try {
    await first.write(handles[0].fd, { parts: [new Uint8Array(1 << 20)] }, false);
    await Promise.all(handles.map((fh) => first.write(fh.fd, { parts: [new Uint8Array(1 << 20)] }, false)));
  } finally {
    await Promise.all(handles.map((fh) => fh.close()));
  }
  assert.is(first.running, 2, 'more than the first adapter\'s one thread');
}));

// Starting a child process under tsx takes seconds on a loaded machine: a bound of its own.
boundedTest(uvuTest, 120_000)('idle I/O threads do not keep a process alive: one that wrote through them ends by itself', async () => {
  const dir = await tempDir('kvtier-fs-io-');
  try {
    const path = join(dir, 'from-child');
    const script = [
      `import { open } from 'node:fs/promises';`,
      `import { sharedIoThreads } from ${JSON.stringify(new URL('../src/fs-io.ts', import.meta.url).href)};`,
      `const fh = await open(${JSON.stringify(path)}, 'w');`,
      `await sharedIoThreads(2).write(fh.fd, { parts: [new Uint8Array(1000).fill(3)] }, false);`,
      `await fh.close();`,
    ].join('\n');
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 100_000 }, (err) => (err === null ? resolve() : reject(err)));
    });
    assert.equal(new Uint8Array(await readFile(path)), new Uint8Array(1000).fill(3));
  } finally {
    await removeDir(dir);
  }
});

uvuTest.run();

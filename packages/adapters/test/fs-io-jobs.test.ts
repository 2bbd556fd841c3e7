// The file calls of one fs I/O job, run in-process over real files with a failing close or rename
// injected (fs-io-jobs.ts FileCalls), as a network mount can fail them: a failed close never leaves
// the temp file behind, and a rename that fails after the old object was unlinked says so.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, renameSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type FileCalls } from '../src/fs-io-jobs.ts';
import type { WriteJob } from '../src/fs-io.ts';
import { boundedTest, removeDir, tempDir } from './fixtures.ts';

const test = boundedTest(uvuTest);

function failure(code: string, call: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected failure, ${call}`), { code });
}

/** Closes for real, then reports EIO, as a close that lost buffered data on a network mount does. */
const FAILING_CLOSE: FileCalls = { closeSync: (fd) => { closeSync(fd); throw failure('EIO', 'close'); }, renameSync };
/** Renames nothing, and reports EACCES. */
const FAILING_RENAME: FileCalls = { closeSync, renameSync: () => { throw failure('EACCES', 'rename'); } };

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('kvtier-fs-jobs-');
  try {
    await body(dir);
  } finally {
    await removeDir(dir);
  }
}

function writeJob(dir: string, replace: boolean): WriteJob {
  return { op: 'write', id: 1, path: join(dir, '.tmp-new'), parts: [new Uint8Array(100).fill(7)], sync: false, place: { to: join(dir, 'object.kv'), replace } };
}

test('a write whose close fails removes its temp file and fails with the close errno; nothing is published', () => withDir(async (dir) => {
  await writeFile(join(dir, 'object.kv'), 'the old object');
  const done = run(writeJob(dir, true), FAILING_CLOSE);
  assert.is(done.error?.code, 'EIO');
  assert.match(done.error?.message ?? '', /injected failure, close/);
  assert.equal(await readdir(dir), ['object.kv'], 'no temp file left behind');
  assert.is(await readFile(join(dir, 'object.kv'), 'utf8'), 'the old object', 'the old object was not touched');
}));

test('a rename that fails after the old object was unlinked answers its errno, leaving the complete temp file to the caller', () => withDir(async (dir) => {
  await writeFile(join(dir, 'object.kv'), 'the old object');
  const done = run(writeJob(dir, true), FAILING_RENAME);
  assert.is(done.error, undefined);
  const outcome = done.outcome as { replacedMissing?: boolean; renameError?: { code?: string } };
  assert.is(outcome.renameError?.code, 'EACCES');
  assert.is(outcome.replacedMissing, false);
  assert.equal(await readdir(dir), ['.tmp-new'], 'the old object is gone: the adapter must not index it any more');
}));

test('with the real file calls the same write publishes the object', () => withDir(async (dir) => {
  await writeFile(join(dir, 'object.kv'), 'the old object');
  assert.equal(run(writeJob(dir, true)), { id: 1, outcome: { replacedMissing: false } });
  assert.equal(new Uint8Array(await readFile(join(dir, 'object.kv'))), new Uint8Array(100).fill(7));
  assert.equal(await readdir(dir), ['object.kv']);
}));

uvuTest.run();

// The fs adapter's temp files in a base directory other writers share: the recovery scan removes
// only provable orphans — an earlier host generation's of its own lineage, a dead process's of this
// machine, or any older than TEMP_ORPHAN_AGE_MS — and leaves a live writer's store in flight alone
// (two real processes share a directory here).
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from '@kvtier/core';
import { FsAdapter } from '../src/fs.ts';
import { TEMP_ORPHAN_AGE_MS, TempOwner } from '../src/fs-temps.ts';
import { boundedTest, chunkKeys, removeDir, tempDir } from './fixtures.ts';

const test = boundedTest(uvuTest, 60_000);

const WRITER = new URL('./fs-temp-writer.fixture.ts', import.meta.url).pathname;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Starts the writer process on `dir`; resolves once it scanned and left its temp file for `hex`. */
async function startWriter(dir: string, hex: string): Promise<{ child: ChildProcess; removed: number; temp: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, hex], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the writer process exited with ${String(code)} before it was ready`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const [word, removed, temp] = line.split(' ');
  assert.is(word, 'ready');
  return { child, removed: Number(removed), temp };
}

async function stopWriter(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Opens an adapter on `dir` (its scan runs), and answers how many temp files the scan removed. */
async function scan(dir: string, ctx?: { lineage: string; generation: number }): Promise<number> {
  const adapter = await FsAdapter.open({ type: 'fs', baseDir: dir, ioThreads: 1 }, 'adapter', ctx);
  const removed = adapter.removedTempFiles;
  await adapter.close();
  return removed;
}

test('two processes share a baseDir: neither scan removes the other\'s live temp file; a dead process\'s is removed', async () => {
  const dir = await tempDir();
  const [mine, theirs] = [digestHex(chunkKeys(2), 0), digestHex(chunkKeys(2), 1)];
  let writer: ChildProcess | undefined;
  try {
    // This process has a store in flight ...
    await mkdir(join(dir, mine.slice(0, 2)), { recursive: true });
    const myTemp = join(dir, mine.slice(0, 2), new TempOwner(undefined, 0).nameFor(mine));
    await writeFile(myTemp, 'a store in flight');
    // ... when the other process opens its adapter: its scan leaves this one's temp alone.
    const started = await startWriter(dir, theirs);
    writer = started.child;
    assert.is(started.removed, 0, 'the other process removed nothing');
    assert.ok(await exists(myTemp), 'this process\'s temp file survived the other\'s scan');
    // This process's scan leaves the live other process's temp alone, and its own (another adapter's of this process).
    assert.is(await scan(dir), 0);
    assert.ok(await exists(started.temp), 'the live process\'s temp file survived');
    assert.ok(await exists(myTemp));
    // Once the other process is gone, its temp file is an orphan.
    await stopWriter(writer);
    assert.is(await scan(dir), 1);
    assert.not.ok(await exists(started.temp), 'the dead process\'s temp file was removed');
    assert.ok(await exists(myTemp), 'this process\'s temp file is still left alone');
  } finally {
    if (writer !== undefined) await stopWriter(writer);
    await removeDir(dir);
  }
});

/** Runs `body` with a fresh base directory, a key's hex digest and its shard directory (created), removed afterwards. */
async function withShard(body: (dir: string, shard: string, hex: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    const hex = digestHex(chunkKeys(1), 0);
    const shard = join(dir, hex.slice(0, 2));
    await mkdir(shard, { recursive: true });
    await body(dir, shard, hex);
  } finally {
    await removeDir(dir);
  }
}

test('a host\'s earlier generations\' temp files are orphans to its restart; another lineage\'s are not', () => withShard(async (dir, shard, hex) => {
  const lineage = '0123456789abcdef';
  const earlier = join(shard, new TempOwner(lineage, 0).nameFor(hex));
  const sibling = join(shard, new TempOwner('fedcba9876543210', 0).nameFor(hex));
  const current = join(shard, new TempOwner(lineage, 1).nameFor(hex));
  for (const path of [earlier, sibling, current]) await writeFile(path, 'x');
  assert.is(await scan(dir, { lineage, generation: 1 }), 1);
  assert.equal([await exists(earlier), await exists(sibling), await exists(current)], [false, true, true]);
}));

test('any temp file older than TEMP_ORPHAN_AGE_MS is an orphan, whatever its name; a younger one of another format is kept', () => withShard(async (dir, shard, hex) => {
  const old = join(shard, `.tmp-${hex}-1-0`);
  const young = join(shard, `.tmp-${hex}-2-0`);
  await writeFile(old, 'half a write');
  await writeFile(young, 'half a write');
  const then = (Date.now() - TEMP_ORPHAN_AGE_MS - 60_000) / 1000;
  await utimes(old, then, then);
  assert.is(await scan(dir), 1);
  assert.equal([await exists(old), await exists(young)], [false, true]);
}));

uvuTest.run();

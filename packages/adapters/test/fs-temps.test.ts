// The fs adapter's temp files in a base directory other writers share: the recovery scan removes
// only provable orphans — an earlier host generation's of its own lineage, a dead process's of this
// host name, boot and pid namespace, or any older than TEMP_ORPHAN_AGE_MS — and leaves a live
// writer's store in flight alone (two real processes share a directory here).
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
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

/** A process id no process has: above Linux's largest pid_max (2^22). */
const DEAD_PID = 2 ** 22 + 1;

/** `name` (a temp file name) with its pid space and process id fields replaced. */
function writtenBy(name: string, pidSpace: string, pid: number): string {
  const fields = name.split('-');
  fields[3] = pidSpace;
  fields[4] = String(pid);
  return fields.join('-');
}

test('a gone pid\'s temp file of this host name is an orphan only from the same boot and pid namespace; another\'s is kept until TEMP_ORPHAN_AGE_MS', () => {
  const hex = digestHex(chunkKeys(1), 0);
  const mine = new TempOwner(undefined, 0, '0123456789abcdef');
  const name = mine.nameFor(hex);
  const now = Date.now();
  assert.ok(mine.isOrphan(writtenBy(name, '0123456789abcdef', DEAD_PID), now, now), 'same boot and pid namespace, pid gone');
  // Another container of the same host name (its own pid namespace), or the same name after a reboot or on another machine.
  const foreign = writtenBy(name, 'fedcba9876543210', DEAD_PID);
  assert.not.ok(mine.isOrphan(foreign, now, now), 'another boot or pid namespace: its pid says nothing here');
  assert.not.ok(mine.isOrphan(writtenBy(name, 'none', DEAD_PID), now, now), 'a writer that did not know its pid space');
  assert.ok(mine.isOrphan(foreign, now - TEMP_ORPHAN_AGE_MS - 1, now), 'until the age bound');
});

test('where this process\'s pid space is unknown (no /proc), no other pid\'s temp file is an orphan before TEMP_ORPHAN_AGE_MS; its own earlier generations\' are', () => {
  const hex = digestHex(chunkKeys(1), 0);
  const lineage = '0123456789abcdef';
  const mine = new TempOwner(lineage, 1, undefined);
  const now = Date.now();
  const gone = writtenBy(mine.nameFor(hex), 'none', DEAD_PID);
  assert.not.ok(mine.isOrphan(gone, now, now), 'a gone pid proves nothing without a pid space');
  assert.ok(mine.isOrphan(gone, now - TEMP_ORPHAN_AGE_MS - 1, now));
  assert.ok(mine.isOrphan(new TempOwner(lineage, 0, undefined).nameFor(hex), now, now), 'an earlier generation of its lineage');
});

test('a temp file named in the format without a pid space is kept until TEMP_ORPHAN_AGE_MS, even a gone pid\'s of this host name', () => withShard(async (dir, shard, hex) => {
  // `.tmp-<key>-<host>-<pid>-<lineage>-<generation>-<n>`, as the adapter named them before.
  const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 16);
  const young = join(shard, `.tmp-${hex}-${host}-${DEAD_PID}-0123456789abcdef-0-0`);
  const old = join(shard, `.tmp-${hex}-${host}-${DEAD_PID}-0123456789abcdef-0-1`);
  await writeFile(young, 'half a write');
  await writeFile(old, 'half a write');
  const then = (Date.now() - TEMP_ORPHAN_AGE_MS - 60_000) / 1000;
  await utimes(old, then, then);
  assert.is(await scan(dir), 1);
  assert.equal([await exists(young), await exists(old)], [true, false]);
}));

uvuTest.run();

// The fs adapter's I/O threads on their own: real threads writing and reading real files.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { ErrorCode } from '@kvtier/core';
import { HEADER_BYTES, writeHeader } from '@kvtier/core/authoring';
import { appendFile } from 'node:fs/promises';
import { FsIoThreads, MAX_FAILED_STARTS, sharedIoThreads } from '../src/fs-io.ts';
import { PATH_BYTES, RING_SLOTS } from '../src/fs-io-ring.ts';
import { boundedTest, chunkKeys, fillPattern, killingThreads, removeDir, tempDir } from './fixtures.ts';

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

test('a sealed write creates the file with the header the host would write, then the payload read in place from a SharedArrayBuffer', () => withThreads(2, async (io, dir) => {
  const keys = chunkKeys(3);
  const payload = new Uint8Array(new SharedArrayBuffer(3 * 70_000), 70_000, 70_000);
  fillPattern(payload, 4);
  const path = join(dir, 'sealed');
  assert.equal(await io.write(path, { parts: [payload], seal: keys.slice(4, 8) }, false), {});
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
  await io.write(path, { parts }, true);
  assert.equal(new Uint8Array(await readFile(path)), Uint8Array.from([...parts[0], ...parts[2], ...parts[3]]));
}));

test('more writes than threads queue up, each lands in its own file; the pool grows one ready thread at a time, never past its limit', () => withThreads(2, async (io, dir) => {
  const n = 12;
  // One write first: a second thread starts only once the first is ready.
  await io.write(join(dir, 'first'), { parts: [new Uint8Array(50_000).fill(0)] }, false);
  await Promise.all(Array.from({ length: n }, (_, i) => io.write(join(dir, `f${i}`), { parts: [new Uint8Array(50_000).fill(i)] }, false)));
  assert.is(io.running, 2);
  for (let i = 0; i < n; i++) assert.equal(new Uint8Array(await readFile(join(dir, `f${i}`))), new Uint8Array(50_000).fill(i));
}));

test('a write never replaces a file nor follows a link at its path: it rejects with the errno code; the thread keeps serving', () => withThreads(1, async (io, dir) => {
  const path = join(dir, 'taken');
  await writeFile(path, 'old');
  const taken = await io.write(path, { parts: [new Uint8Array(8)] }, false).then(() => undefined, (e: NodeJS.ErrnoException) => e);
  assert.is(taken?.code, 'EEXIST');
  assert.match(taken?.message ?? '', /EEXIST/);
  assert.is(await readFile(path, 'utf8'), 'old', 'the file there is left as it was');
  await symlink(join(dir, 'elsewhere'), join(dir, 'link'));
  const linked = await io.write(join(dir, 'link'), { parts: [new Uint8Array(8)] }, false).then(() => undefined, (e: NodeJS.ErrnoException) => e);
  assert.is(linked?.code, 'EEXIST');
  assert.equal((await readdir(dir)).sort(), ['link', 'taken'], 'nothing was created behind the link');
  await io.write(join(dir, 'fresh'), { parts: [new Uint8Array(4).fill(9)] }, false);
  assert.equal(new Uint8Array(await readFile(join(dir, 'fresh'))), new Uint8Array(4).fill(9));
}));

test('a placed write renames the complete file to its name, unlinking the old one first; a failed rename answers its errno and leaves the file', () => withThreads(1, async (io, dir) => {
  const final = join(dir, 'object');
  const temp = (n: number) => join(dir, `temp${n}`);
  assert.equal(await io.write(temp(0), { parts: [new Uint8Array(100).fill(1)] }, false, { to: final, replace: false }), { replacedMissing: false });
  assert.equal(new Uint8Array(await readFile(final)), new Uint8Array(100).fill(1));
  assert.equal(await io.write(temp(1), { parts: [new Uint8Array(50).fill(2)] }, true, { to: final, replace: true }), { replacedMissing: false });
  assert.equal(new Uint8Array(await readFile(final)), new Uint8Array(50).fill(2));
  assert.equal(await io.write(temp(2), { parts: [new Uint8Array(10).fill(3)] }, false, { to: join(dir, 'never-stored'), replace: true }), { replacedMissing: true }, 'no old file to unlink');
  await mkdir(join(dir, 'taken'));
  await writeFile(join(dir, 'taken', 'inside'), 'x');
  const failed = await io.write(temp(3), { parts: [new Uint8Array(10).fill(4)] }, false, { to: join(dir, 'taken'), replace: false });
  assert.is((failed.renameError as NodeJS.ErrnoException | undefined)?.code, 'EISDIR');
  assert.match(failed.renameError?.message ?? '', /EISDIR/);
  assert.equal(new Uint8Array(await readFile(temp(3))), new Uint8Array(10).fill(4), 'the written file stays for the caller');
  assert.equal((await readdir(dir)).sort(), ['never-stored', 'object', 'taken', 'temp3']);
}));

test('a job that cannot be posted to its thread (a part on a detached buffer) fails alone with KVT_ERR_INVALID_ARGUMENT; the other jobs of its turn are done', () => withThreads(1, async (io, dir) => {
  await io.write(join(dir, 'first'), { parts: [new Uint8Array(10)] }, false);
  const detached = new ArrayBuffer(16);
  const view = new Uint8Array(detached);
  structuredClone(detached, { transfer: [detached] });
  const writes = [0, 1, 2].map((i) => io.write(join(dir, `w${i}`), { parts: [i === 1 ? view : new Uint8Array(100).fill(i)] }, false));
  const outcomes = await Promise.allSettled(writes);
  assert.equal(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
  const err = (outcomes[1] as PromiseRejectedResult).reason as { code?: string; message: string };
  assert.is(err.code, ErrorCode.INVALID_ARGUMENT);
  assert.match(err.message, new RegExp(`an fs I/O job for ${join(dir, 'w1')} cannot be sent to an I/O thread: .*detached`));
  assert.equal(new Uint8Array(await readFile(join(dir, 'w2'))), new Uint8Array(100).fill(2));
  assert.equal((await readdir(dir)).sort(), ['first', 'w0', 'w2'], 'the job that was not sent created nothing');
  assert.equal(await io.read(join(dir, 'w0'), [new Uint8Array(new SharedArrayBuffer(100))]), { bytes: 100, fault: null }, 'the thread keeps serving');
}));

test('an I/O thread that dies with a batch in flight fails each of its jobs with KVT_ERR_WORKER; the next jobs get a new thread', () => withThreads(1, async (io, dir) => {
  await io.write(join(dir, 'first'), { parts: [new Uint8Array(10)] }, false);
  const killed = await killingThreads(async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => io.write(join(dir, `w${i}`), { parts: [new Uint8Array(4 << 20).fill(i)] }, false)));
    for (const o of outcomes) {
      assert.is(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as { code?: string; message: string };
      assert.is(err.code, ErrorCode.WORKER);
      assert.match(err.message, /an fs I\/O thread exited \(code 1\) before it answered its jobs/);
    }
  });
  assert.is(killed, 1, 'one thread had the whole batch');
  assert.is(io.running, 0);
  await io.write(join(dir, 'after'), { parts: [new Uint8Array(10).fill(5)] }, false);
  assert.equal(new Uint8Array(await readFile(join(dir, 'after'))), new Uint8Array(10).fill(5));
  assert.is(io.running, 1);
}));

test('a write whose directory leads elsewhere than its path removes the file and answers where it landed', () => withThreads(1, async (io, dir) => {
  await mkdir(join(dir, 'real'));
  await symlink(join(dir, 'real'), join(dir, 'swapped'));
  const outcome = await io.write(join(dir, 'swapped', 'object'), { parts: [new Uint8Array(16)] }, false);
  assert.equal(outcome, { openedAt: join(dir, 'real', 'object') });
  assert.equal(await readdir(join(dir, 'real')), [], 'the file that landed elsewhere is removed');
}));

test('a checked read fills the payload view in place and answers the envelope check of the bytes it read', () => withThreads(2, async (io, dir) => {
  const keys = chunkKeys(2);
  const stored = new Uint8Array(new SharedArrayBuffer(9000));
  fillPattern(stored, 8);
  const path = join(dir, 'object');
  await io.write(path, { parts: [stored], seal: keys.slice(0, 4) }, false);
  const target = new Uint8Array(new SharedArrayBuffer(20_000), 5000, 9000);
  assert.equal(await io.readChecked(path, target, keys.slice(0, 4)), { bytes: HEADER_BYTES + 9000, fault: null });
  assert.equal(target, stored);
  assert.equal(await io.readChecked(path, target, keys.slice(4, 8)), { bytes: HEADER_BYTES + 9000, fault: 'key' }, 'the same object under another key is a bad object');
  await appendFile(path, Uint8Array.from([0]));
  assert.equal(await io.readChecked(path, target, keys.slice(0, 4)), { bytes: HEADER_BYTES + 9001, fault: 'length' }, 'the probe byte reveals a longer file');
  const plain = await io.readChecked(path, new Uint8Array(8), keys.slice(0, 4)).catch((e: { code?: string; message: string }) => e);
  assert.is((plain as { code?: string }).code, ErrorCode.INVALID_ARGUMENT);
  assert.match((plain as Error).message, /a checked read needs its payload view on a SharedArrayBuffer/);
}));

test('an unchecked read fills shared parts in place, and other memory through a staging buffer, up to the probe byte', () => withThreads(1, async (io, dir) => {
  const bytes = new Uint8Array(5000);
  fillPattern(bytes, 6);
  const path = join(dir, 'plain');
  await writeFile(path, bytes);
  const shared = [new Uint8Array(new SharedArrayBuffer(3000), 1000, 2000), new Uint8Array(new SharedArrayBuffer(3000))];
  assert.equal(await io.read(path, shared), { bytes: 5000, fault: null });
  assert.equal(Uint8Array.from([...shared[0], ...shared[1]]), bytes);
  const plain = [new Uint8Array(1234), new Uint8Array(0), new Uint8Array(3766)];
  assert.equal(await io.read(path, plain), { bytes: 5000, fault: null });
  assert.equal(Uint8Array.from([...plain[0], ...plain[2]]), bytes);
  const short = [new Uint8Array(4000)];
  assert.equal(await io.read(path, short), { bytes: 4001, fault: null }, 'the probe byte reveals a longer file');
  assert.equal(short[0], bytes.subarray(0, 4000));
}));

test('an unchecked read into other memory leaves the bytes past what it read as they were', () => withThreads(1, async (io, dir) => {
  const path = join(dir, 'short');
  await writeFile(path, new Uint8Array(50).fill(3));
  const parts = [new Uint8Array(30).fill(7), new Uint8Array(40).fill(7)];
  assert.equal(await io.read(path, parts), { bytes: 50, fault: null });
  assert.equal(parts[0], new Uint8Array(30).fill(3));
  assert.equal(parts[1], Uint8Array.from([...new Uint8Array(20).fill(3), ...new Uint8Array(20).fill(7)]));
}));

test('the jobs asked for in one turn reach each thread as one message, answered together; a later turn is a message of its own', () => withThreads(2, async (io, dir) => {
  const n = 9;
  const paths = Array.from({ length: n }, (_, i) => join(dir, `f${i}`));
  // Both threads started and ready first: a thread answers only once it listens.
  await io.write(join(dir, 'first'), { parts: [new Uint8Array(10)] }, false);
  await Promise.all([0, 1, 2, 3].map((i) => io.write(join(dir, `warm${i}`), { parts: [new Uint8Array(10)] }, false)));
  assert.is(io.running, 2);
  const before = io.handOffs;
  await Promise.all(paths.map((path, i) => io.write(path, { parts: [new Uint8Array(70_000).fill(i)] }, false)));
  assert.is(io.handOffs - before, 2, `${n} writes in one turn: one message per thread`);
  const targets = paths.map(() => new Uint8Array(new SharedArrayBuffer(70_000)));
  const reads = await Promise.all(paths.map((path, i) => io.read(path, [targets[i]])));
  assert.is(io.handOffs - before, 4, `${n} reads in one turn: one message per thread`);
  reads.forEach((read, i) => {
    assert.equal(read, { bytes: 70_000, fault: null });
    assert.equal(targets[i], new Uint8Array(70_000).fill(i));
  });
  await io.read(paths[0], [targets[0]]);
  await io.read(paths[1], [targets[1]]);
  assert.is(io.handOffs - before, 6, 'one job per turn: one message each');
}));

test('sealed placed writes and checked reads of shared memory go through the I/O ring: no message per batch, one wake-up of the threads per turn, each object sealed, checked and in place', () => withThreads(2, async (io, dir) => {
  const keys = chunkKeys(9);
  const memory = new SharedArrayBuffer(9 * 70_000);
  const payloads = Array.from({ length: 9 }, (_, i) => {
    const payload = new Uint8Array(memory, i * 70_000, 70_000);
    fillPattern(payload, i);
    return payload;
  });
  await io.write(join(dir, 'first'), { parts: [new Uint8Array(10)] }, false);
  const before = io.handOffs;
  const wakes = io.ringWakes;
  const outcomes = await Promise.all(payloads.map((payload, i) => io.write(join(dir, `t${i}`), { parts: [payload], seal: keys.slice(4 * i, 4 * i + 4) }, false, { to: join(dir, `o${i}`), replace: i === 0 })));
  assert.is(io.handOffs - before, 0, 'no batch message');
  assert.is(io.ringWakes - wakes, 1, '9 stores in one turn: the threads are woken once');
  assert.equal(outcomes, payloads.map((_, i) => (i === 0 ? { replacedMissing: true } : { replacedMissing: false })));
  for (let i = 0; i < 9; i++) {
    const back = new Uint8Array(new SharedArrayBuffer(70_000));
    assert.equal(await io.readChecked(join(dir, `o${i}`), back, keys.slice(4 * i, 4 * i + 4)), { bytes: HEADER_BYTES + 70_000, fault: null });
    assert.equal(back, payloads[i]);
  }
  assert.is(io.handOffs - before, 0, 'no message for the checked reads either');
  const shared = new SharedArrayBuffer(9 * 70_000);
  const reads = await Promise.all(payloads.map((_, i) => io.readChecked(join(dir, `o${i}`), new Uint8Array(shared, i * 70_000, 70_000), keys.slice(4 * i, 4 * i + 4))));
  assert.equal(reads, payloads.map(() => ({ bytes: HEADER_BYTES + 70_000, fault: null })));
  assert.equal(new Uint8Array(shared), new Uint8Array(memory), 'every read in place');
  assert.is(io.ringWakes - wakes, 1 + 9 + 1, 'a read a turn, then 9 reads in one turn: a wake-up each turn');
  assert.equal((await readdir(dir)).filter((f) => f.startsWith('t')), [], 'every temp file renamed');
  const failed = await io.write(join(dir, 'o1'), { parts: [payloads[1]], seal: keys.slice(4, 8) }, false, { to: join(dir, 'x'), replace: false }).then(() => undefined, (e: { code?: string }) => e);
  assert.is(failed?.code, 'EEXIST', 'a ring store keeps its errno code');
}));

/** Collects garbage until `done()` (finalizers run between collections), for at most `ms`; whether it came true. */
async function collectUntil(done: () => boolean, ms: number): Promise<boolean> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (const until = Date.now() + ms; !done() && Date.now() < until;) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return done();
}

test('a payload buffer nothing references any more is forgotten by the pool (it kept every L1 it ever served alive); one in use stays, and the ring goes on with new buffers', () => withThreads(1, async (io, dir) => {
  const keys = chunkKeys(3);
  const kept = new Uint8Array(new SharedArrayBuffer(1000));
  fillPattern(kept, 1);
  await io.write(join(dir, 't-kept'), { parts: [kept], seal: keys.slice(0, 4) }, false, { to: join(dir, 'kept'), replace: false });
  // Stored from and loaded into a buffer of its own, then dropped.
  await (async () => {
    const dropped = new Uint8Array(new SharedArrayBuffer(1000));
    fillPattern(dropped, 2);
    await io.write(join(dir, 't-dropped'), { parts: [dropped], seal: keys.slice(4, 8) }, false, { to: join(dir, 'dropped'), replace: false });
    assert.equal(await io.readChecked(join(dir, 'dropped'), new Uint8Array(new SharedArrayBuffer(1000)), keys.slice(4, 8)), { bytes: HEADER_BYTES + 1000, fault: null });
  })();
  assert.is(io.payloadBuffers, 3);
  assert.ok(await collectUntil(() => io.payloadBuffers === 1, 5000), `${io.payloadBuffers} payload buffers held, 1 expected`);
  const back = new Uint8Array(new SharedArrayBuffer(1000));
  assert.equal(await io.readChecked(join(dir, 'kept'), back, keys.slice(0, 4)), { bytes: HEADER_BYTES + 1000, fault: null });
  assert.equal(back, kept, 'a new buffer after the forgotten ones is read into in place');
  await io.write(join(dir, 't-kept2'), { parts: [kept], seal: keys.slice(0, 4) }, false, { to: join(dir, 'kept'), replace: true });
  assert.equal(new Uint8Array(await readFile(join(dir, 'kept'))).subarray(HEADER_BYTES), kept, 'the buffer in use is still known to the thread');
}));

test('threads that keep ending before they are ready fail the jobs waiting in the ring with KVT_ERR_WORKER after MAX_FAILED_STARTS starts (they waited forever while threads were restarted); the next jobs get a thread that works', () => withThreads(1, async (io, dir) => {
  const keys = chunkKeys(1);
  const payload = new Uint8Array(new SharedArrayBuffer(1000));
  fillPattern(payload, 5);
  // Written by another pool: this one has started no thread yet.
  await new FsIoThreads(1).write(join(dir, 't0'), { parts: [payload], seal: keys }, false, { to: join(dir, 'o0'), replace: false });
  const on = Worker.prototype.on;
  let starts = 0;
  // Every thread started from now on is ended at once, before it can say it is ready.
  Worker.prototype.on = function (this: Worker, event: string | symbol, listener: (...args: any[]) => void) {
    if (event === 'message') {
      starts++;
      void this.terminate();
    }
    return on.call(this, event, listener);
  } as typeof Worker.prototype.on;
  let failed: { code?: string; message: string } | undefined;
  try {
    failed = await io.readChecked(join(dir, 'o0'), new Uint8Array(new SharedArrayBuffer(1000)), keys).then(() => undefined, (e) => e);
  } finally {
    Worker.prototype.on = on;
  }
  assert.is(failed?.code, ErrorCode.WORKER, String(failed?.message));
  assert.match(failed!.message, /ended before they were ready/);
  assert.is(starts, MAX_FAILED_STARTS, 'one start after another, then no more');
  const back = new Uint8Array(new SharedArrayBuffer(1000));
  assert.equal(await io.readChecked(join(dir, 'o0'), back, keys), { bytes: HEADER_BYTES + 1000, fault: null });
  assert.equal(back, payload);
}));

test('I/O threads that die with checked reads in the ring fail only the reads they had claimed, with KVT_ERR_WORKER; the reads still posted are read by new threads', () => withThreads(2, async (io, dir) => {
  const n = 6;
  const bytes = 1 << 20;
  const keys = chunkKeys(n);
  const key = (i: number) => keys.slice(4 * i, 4 * i + 4);
  const source = new SharedArrayBuffer(n * bytes);
  for (let i = 0; i < n; i++) {
    const payload = new Uint8Array(source, i * bytes, bytes).fill(i + 1);
    await io.write(join(dir, `t${i}`), { parts: [payload], seal: key(i) }, false, { to: join(dir, `o${i}`), replace: false });
  }
  /** Checked reads of every object into a new buffer (sent to the threads first); each outcome, and its target's bytes. */
  const readAll = async () => {
    const targets = new SharedArrayBuffer(n * bytes);
    const outcomes = await Promise.allSettled(Array.from({ length: n }, (_, i) => io.readChecked(join(dir, `o${i}`), new Uint8Array(targets, i * bytes, bytes), key(i))));
    return outcomes.map((o, i) => ({ o, target: new Uint8Array(targets, i * bytes, bytes) }));
  };
  const good = (o: PromiseSettledResult<unknown>, target: Uint8Array, i: number) => {
    assert.equal(o, { status: 'fulfilled', value: { bytes: HEADER_BYTES + bytes, fault: null } }, `read ${i}`);
    assert.ok(target.every((b) => b === i + 1), `read ${i} filled its target`);
  };
  // Killed as the new buffer is sent to them: they die before they take a read, which waits in the ring for a new thread.
  let reads: Awaited<ReturnType<typeof readAll>> = [];
  const killed = await killingThreads(async () => {
    reads = await readAll();
  });
  assert.ok(killed > 0, 'threads were killed');
  reads.forEach(({ o, target }, i) => good(o, target, i));
  // Killed a moment later, mid-read: a read a dead thread had claimed fails with its code, every other one is read.
  await killingThreads(async () => {
    reads = await readAll();
  }, 3);
  reads.forEach(({ o, target }, i) => {
    if (o.status === 'fulfilled') good(o, target, i);
    else assert.is((o.reason as { code?: string }).code, ErrorCode.WORKER, `read ${i}: ${String(o.reason)}`);
  });
  (await readAll()).forEach(({ o, target }, i) => good(o, target, i));
  assert.ok(io.running > 0, 'new threads serve the next reads');
}));

test('a checked read whose path is past PATH_MAX rejects with ENAMETOOLONG; the other reads of its turn, more than the ring holds, are all read', () => withThreads(2, async (io, dir) => {
  const keys = chunkKeys(3);
  const memory = new SharedArrayBuffer(3 * 5000);
  for (let i = 0; i < 3; i++) {
    const payload = new Uint8Array(memory, i * 5000, 5000);
    fillPattern(payload, i);
    await io.write(join(dir, `t${i}`), { parts: [payload], seal: keys.slice(4 * i, 4 * i + 4) }, false, { to: join(dir, `o${i}`), replace: false });
  }
  const n = RING_SLOTS + 10;
  const targets = new SharedArrayBuffer(n * 5000);
  const target = (j: number) => new Uint8Array(targets, j * 5000, 5000);
  const tooLong = join(dir, 'x'.repeat(PATH_BYTES));
  const reads = await Promise.allSettled(Array.from({ length: n }, (_, j) => io.readChecked(j === 20 ? tooLong : join(dir, `o${j % 3}`), target(j), keys.slice(4 * (j % 3), 4 * (j % 3) + 4))));
  for (let j = 0; j < n; j++) {
    if (j === 20) {
      assert.is(reads[j].status, 'rejected');
      assert.is(((reads[j] as PromiseRejectedResult).reason as { code?: string }).code, 'ENAMETOOLONG');
      continue;
    }
    assert.equal(reads[j], { status: 'fulfilled', value: { bytes: HEADER_BYTES + 5000, fault: null } }, `read ${j}`);
    assert.equal(target(j), new Uint8Array(memory, (j % 3) * 5000, 5000), `read ${j} in place`);
  }
}));

test('a checked read of no file, a link, a FIFO, a directory or a path that leads elsewhere is absent, and reads nothing', () => withThreads(1, async (io, dir) => {
  const keys = chunkKeys(1);
  const stored = new Uint8Array(new SharedArrayBuffer(64));
  await io.write(join(dir, 'object'), { parts: [stored], seal: keys.slice(0, 4) }, false);
  await symlink(join(dir, 'object'), join(dir, 'link'));
  await mkdir(join(dir, 'directory'));
  await symlink(dir, join(dir, 'swapped'));
  await new Promise<void>((resolve, reject) => execFile('mkfifo', [join(dir, 'fifo')], (err) => (err === null ? resolve() : reject(err))));
  const target = new Uint8Array(new SharedArrayBuffer(64)).fill(7);
  const read = (name: string) => io.readChecked(join(dir, name), target, keys.slice(0, 4));
  assert.equal(await read('none'), { absent: 'ENOENT' });
  assert.equal(await read('link'), { absent: 'ELOOP' });
  assert.equal(await read('fifo'), { absent: 'not-an-object' }, 'a FIFO is not waited on');
  assert.equal(await read('directory'), { absent: 'not-an-object' });
  assert.equal(await read('swapped/object'), { absent: 'not-an-object' }, 'a file reached through a link is not its own path');
  assert.equal(target, new Uint8Array(64).fill(7));
  // An unchecked read opens through the same rule, into shared or other memory.
  for (const parts of [[target], [new Uint8Array(64).fill(7)]]) {
    assert.equal(await io.read(join(dir, 'link'), parts), { absent: 'ELOOP' });
    assert.equal(await io.read(join(dir, 'fifo'), parts), { absent: 'not-an-object' });
    assert.equal(await io.read(join(dir, 'directory'), parts), { absent: 'not-an-object' });
    assert.equal(await io.read(join(dir, 'swapped/object'), parts), { absent: 'not-an-object' });
    assert.equal(parts[0], new Uint8Array(64).fill(7));
  }
}));

test('the fs adapters of a thread share one pool, allowed the largest thread count any of them asked for', () => withThreads(1, async (_io, dir) => {
  const first = sharedIoThreads(1);
  assert.is(sharedIoThreads(3), first);
  await first.write(join(dir, 's'), { parts: [new Uint8Array(1 << 20)] }, false);
  await Promise.all(Array.from({ length: 6 }, (_, i) => first.write(join(dir, `s${i}`), { parts: [new Uint8Array(1 << 20)] }, false)));
  assert.is(first.running, 2, 'more than the first adapter\'s one thread');
}));

// Starting a child process under tsx takes seconds on a loaded machine: a bound of its own.
boundedTest(uvuTest, 120_000)('idle I/O threads do not keep a process alive: one that wrote through them ends by itself', async () => {
  const dir = await tempDir('kvtier-fs-io-');
  try {
    const path = join(dir, 'from-child');
    const script = [
      `import { sharedIoThreads } from ${JSON.stringify(new URL('../src/fs-io.ts', import.meta.url).href)};`,
      `await sharedIoThreads(2).write(${JSON.stringify(path)}, { parts: [new Uint8Array(1000).fill(3)] }, false);`,
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

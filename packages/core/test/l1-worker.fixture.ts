// Worker body for l1-threads.test.ts: attaches to the L1 in workerData.handle, waits at the start
// barrier so all workers begin together, runs one task and posts its outcome.
import { parentPort, workerData } from 'node:worker_threads';
import { L1Error } from '../src/l1/api.ts';
import type { L1Handle } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { ringTestHooks } from '../src/shm/event-ring.ts';
import { L2EventRing } from '../src/l2/event-ring.ts';
import { L2EventKind } from '../src/l2/events.ts';
import { isObject, writeObject } from './l1-helpers.ts';

export interface WorkerTask {
  readonly handle: L1Handle;
  /** [arrived, go]: each worker bumps `arrived`, then waits until `go` is 1. */
  readonly barrier: Int32Array;
  readonly task: 'write' | 'read' | 'stress' | 'hold' | 'waitDirty' | 'readBatches' | 'rewrite' | 'remove' | 'readForever' | 'stopInPush' | 'stopInL2Push' | 'stopInDrain' | 'stopInL2Drain' | 'stopInL2Take';
  readonly keys: Uint32Array;
  readonly durationMs?: number;
  readonly seed?: number;
  /** `stopInPush`: the worker waits on word 0 while it is 0, between claiming ring positions and publishing them. */
  readonly pause?: Int32Array;
  /** `stopInL2Push`, `stopInL2Drain`, `stopInL2Take`: the buffer of the L2 event ring it pushes to or drains. */
  readonly l2Ring?: SharedArrayBuffer;
}

const t = workerData as WorkerTask;
const l1 = L1Manager.attach(t.handle);
Atomics.add(t.barrier, 0, 1);
Atomics.notify(t.barrier, 0);
Atomics.wait(t.barrier, 1, 0);

const one = (i: number) => t.keys.subarray(i * 4, i * 4 + 4);

/** Runs `step` until the task's deadline (`durationMs` from now, 1 s by default). */
function untilDeadline(step: () => void): void {
  const until = Date.now() + (t.durationMs ?? 1000);
  while (Date.now() < until) step();
}

/** The keys numbered `ids` of the task's keys, as one batch. */
function subset(ids: number[]): Uint32Array {
  const out = new Uint32Array(ids.length * 4);
  ids.forEach((k, i) => out.set(one(k), i * 4));
  return out;
}

/** A small deterministic PRNG (mulberry32), so a failing stress run can be replayed by seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random write/finish/read/unsafeRead/finishRead/delete traffic on the shared keys. It tracks
 * the locks it holds so that most finishes are valid, but any call may meet any state (other
 * workers touch the same keys); the result codes are L1's business, exceptions are failures.
 */
function stress(): { ops: number } {
  const rnd = random(t.seed ?? 1);
  const count = t.keys.length / 4;
  const writing = new Set<number>();
  const reading: number[] = [];
  const until = Date.now() + (t.durationMs ?? 1000);
  let ops = 0;
  while (Date.now() < until) {
    const k = Math.floor(rnd() * count);
    const op = rnd();
    if (op < 0.2) {
      if (!writing.has(k) && l1.reserveWrite(one(k), 1 + Math.floor(rnd() * 4096), { mode: rnd() < 0.5 ? 'all' : 'new', temporary: rnd() < 0.1 }).codes[0] === L1Error.SUCCESS) writing.add(k);
    } else if (op < 0.35) {
      const [first] = writing;
      if (first !== undefined) {
        writing.delete(first);
        if (rnd() < 0.5) l1.finishWrite(one(first));
        else if (l1.finishWriteAndReserveRead(one(first)).codes[0] === L1Error.SUCCESS) reading.push(first);
      }
    } else if (op < 0.6) {
      const extraCount = rnd() < 0.2 ? 2 : 0;
      if (l1.reserveRead(one(k), { extraCount }).codes[0] === L1Error.SUCCESS) {
        for (let i = 0; i <= extraCount; i++) reading.push(k);
      }
    } else if (op < 0.7) {
      if (reading.length > 0) l1.unsafeRead(one(reading[reading.length - 1]));
    } else if (op < 0.9) {
      const r = reading.pop();
      if (r !== undefined) l1.finishRead(one(r));
    } else if (op < 0.97) {
      l1.delete(one(k));
    } else {
      l1.clear();
    }
    ops++;
  }
  // Leave cleanly: finish what is still held; detach releases anything another thread's delete raced.
  for (const k of writing) l1.finishWrite(one(k));
  for (const r of reading) l1.finishRead(one(r));
  l1.detach();
  return { ops };
}

/**
 * Reads every key in batches of 8 (answers into reused arrays) until the deadline, checking the
 * bytes of every object it read-locked and that each of its own locks is released SUCCESS.
 */
function readBatches(): { reads: number; wrongBytes: number; badReleases: number } {
  const count = t.keys.length / 4;
  const into = { codes: new Uint8Array(8), slots: new Int32Array(8), sizes: new Uint32Array(8) };
  const released = new Uint8Array(8);
  let reads = 0, wrongBytes = 0, badReleases = 0;
  let first = 0;
  untilDeadline(() => {
    const batch = t.keys.subarray(first * 4, (first + 8) * 4);
    l1.reserveRead(batch, { into });
    const got = [...into.codes];
    for (let j = 0; j < 8; j++) {
      if (got[j] !== L1Error.SUCCESS) continue;
      reads++;
      if (!isObject(l1.view(into.slots[j], into.sizes[j]), first + j)) wrongBytes++;
    }
    // Only its own locks: a finishRead of a key it holds none on would release another thread's.
    const mine = got.flatMap((c, j) => (c === L1Error.SUCCESS ? [first + j] : []));
    const codes = mine.length === 8 ? l1.finishRead(batch, { into: released }) : l1.finishRead(subset(mine));
    for (const c of codes) if (c !== L1Error.SUCCESS) badReleases++;
    first = (first + 8) % count;
  });
  l1.detach();
  return { reads, wrongBytes, badReleases };
}

/** Rewrites random keys (creating absent ones) with fresh bytes until the deadline. */
function rewrite(): { writes: number } {
  const rnd = random(t.seed ?? 2);
  const count = t.keys.length / 4;
  let writes = 0;
  untilDeadline(() => {
    const k = Math.floor(rnd() * count);
    const size = 5 + Math.floor(rnd() * 4000);
    const w = l1.reserveWrite(one(k), size);
    if (w.codes[0] !== L1Error.SUCCESS) return;
    writeObject(l1.view(w.slots[0], size), k, 1 + Math.floor(rnd() * 255));
    l1.finishWrite(one(k));
    writes++;
  });
  l1.detach();
  return { writes };
}

/** Deletes and evicts random runs of keys (never forced: locked keys stay) until the deadline. */
function remove(): { removed: number } {
  const rnd = random(t.seed ?? 3);
  const count = t.keys.length / 4;
  let removed = 0;
  untilDeadline(() => {
    const k = Math.floor(rnd() * (count - 4));
    const run = t.keys.subarray(k * 4, (k + 4) * 4);
    const codes = rnd() < 0.5 ? l1.delete(run) : l1.evict(run);
    for (const c of codes) if (c === L1Error.SUCCESS) removed++;
  });
  l1.detach();
  return { removed };
}

/** Says it stopped, then waits for good (the test kills the worker here). */
function stopForGood(): void {
  parentPort!.postMessage({ stopped: true });
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

switch (t.task) {
  case 'write':
    parentPort!.postMessage({ codes: [...l1.reserveWrite(t.keys, 1000).codes], ownerId: l1.ownerId });
    break;
  case 'read':
    parentPort!.postMessage({ codes: [...l1.reserveRead(t.keys).codes] });
    break;
  case 'stress':
    parentPort!.postMessage(stress());
    break;
  case 'waitDirty': {
    // Blocks this worker until the main thread finishes a write; posts what each wait answered.
    const first = l1.waitDirty(10_000);
    const claimed = l1.takeDirty(8).keys.length / 4;
    parentPort!.postMessage({ first, claimed, idle: l1.waitDirty(30) });
    break;
  }
  case 'readBatches':
    parentPort!.postMessage(readBatches());
    break;
  case 'rewrite':
    parentPort!.postMessage(rewrite());
    break;
  case 'remove':
    parentPort!.postMessage(remove());
    break;
  case 'readForever': {
    // Read-locks every key (3 locks each) and releases them, back to back, until terminated: a
    // kill lands inside a read batch almost always. Posts its owner id first.
    parentPort!.postMessage({ ownerId: l1.ownerId });
    const into = { codes: new Uint8Array(t.keys.length / 4), slots: new Int32Array(t.keys.length / 4), sizes: new Uint32Array(t.keys.length / 4) };
    for (;;) {
      l1.reserveRead(t.keys, { extraCount: 2, into });
      l1.finishRead(t.keys, { extraCount: 2 });
    }
  }
  case 'stopInPush': {
    // Read-locks the keys, then releases them: the release's touched events are claimed in the
    // ring, and the hook stops this thread before it publishes them (posting its owner id) until
    // `pause` is set, or for good (the test kills it there). Posts `published` when it goes on.
    l1.reserveRead(t.keys);
    ringTestHooks.afterClaim = () => {
      ringTestHooks.afterClaim = undefined;
      parentPort!.postMessage({ ownerId: l1.ownerId });
      Atomics.wait(t.pause!, 0, 0);
    };
    l1.finishRead(t.keys);
    parentPort!.postMessage({ published: true });
    break;
  }
  case 'stopInL2Push': {
    // An adapter host's push of a stored event, stopped for good (the test kills it) between
    // claiming the ring position and publishing it.
    ringTestHooks.afterClaim = stopForGood;
    new L2EventRing(t.l2Ring!).push(L2EventKind.STORED, t.keys, 0, 1);
    break;
  }
  case 'stopInDrain': {
    // Drains the L1 events and stops for good (the test kills it) inside the drain, at the first
    // event it is handed, posting its owner id.
    l1.drainEvents(() => {
      parentPort!.postMessage({ ownerId: l1.ownerId });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });
    break;
  }
  case 'stopInL2Drain': {
    // The eviction worker's drain of an adapter's L2 events, stopped for good (the test kills it)
    // at the first event it is handed.
    new L2EventRing(t.l2Ring!).drain(stopForGood);
    break;
  }
  case 'stopInL2Take': {
    // The eviction worker's drain of an adapter's L2 events, stopped for good (the test kills it)
    // between moving past the first event and handing its record back.
    ringTestHooks.afterTake = stopForGood;
    new L2EventRing(t.l2Ring!).drain(() => {});
    break;
  }
  case 'hold': {
    const w = l1.reserveWrite(one(0), 1000).codes[0];
    const r = l1.reserveRead(one(1), { extraCount: 2 }).codes[0];
    parentPort!.postMessage({ ownerId: l1.ownerId, codes: [w, r] });
    // Keep holding until terminated.
    setInterval(() => {}, 1 << 30);
    break;
  }
}

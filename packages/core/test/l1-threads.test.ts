// "L1: leases and threads" with real worker threads on one shared L1: concurrent
// writers and readers, a random-traffic stress run, and a worker terminated while holding locks.
import { threadId } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '../src/deadline.ts';
import { digestHex } from '../src/digest-batch.ts';
import { ErrorCode } from '../src/errors.ts';
import { L1EventKind } from '../src/l1/api.ts';
import { Header } from '../src/l1/layout.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { soak } from '../src/soak.ts';
import { keys, names, ready, throwsCode } from './l1-helpers.ts';
import { startTogether, stopAll } from './l1-workers.ts';


test('8 threads × 5 distinct keys reserveWrite at once -> all SUCCESS on 40 distinct slots', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 40 });
    const tasks = Array.from({ length: 8 }, (_, t) => ({ handle: l1.handle, task: 'write' as const, keys: keys(...[0, 1, 2, 3, 4].map((i) => t * 5 + i)) }));
    const { workers, results } = await startTogether(tasks);
    try {
      const answers = (await results) as { codes: number[]; ownerId: number }[];
      for (const a of answers) assert.equal(a.codes, [0, 0, 0, 0, 0]);
      assert.is(new Set(answers.map((a) => a.ownerId)).size, 8, 'each thread has its own owner id');
      const all = keys(...Array.from({ length: 40 }, (_, i) => i));
      const slots = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const s = l1.state(all, i)!;
        assert.ok(s.writeLocked);
        slots.add(s.slot);
      }
      assert.is(slots.size, 40);
      l1.checkInvariants();
    } finally {
      await stopAll(workers);
    }
  })(), 60_000, '8 concurrent writers'));

test('10 concurrent reserveReads of one key -> all SUCCESS, 10 locks held', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    ready(l1, keys(1));
    const tasks = Array.from({ length: 10 }, () => ({ handle: l1.handle, task: 'read' as const, keys: keys(1) }));
    const { workers, results } = await startTogether(tasks);
    try {
      for (const a of (await results) as { codes: number[] }[]) assert.equal(a.codes, [0]);
      assert.is(l1.state(keys(1), 0)!.readLocks, 10);
      l1.checkInvariants();
    } finally {
      await stopAll(workers);
    }
  })(), 60_000, '10 concurrent readers'));

test('4 workers of random write/finish/read/unsafeRead/finishRead/delete on shared keys: no exception, invariants hold', () => soak('l1-threads/stress', ({ seed }) =>
  withDeadline((async () => {
    // 24 keys over 12 slots: writes run out of room and evict inline, deletes race reads.
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 12 });
    const shared = keys(...Array.from({ length: 24 }, (_, i) => i));
    // The workers' seeds are the round's and the three after it (1 to 4 in CI).
    const tasks = [0, 1, 2, 3].map((i) => ({ handle: l1.handle, task: 'stress' as const, keys: shared, durationMs: 2000, seed: seed + i }));
    const { workers, results } = await startTogether(tasks);
    try {
      // Meanwhile the main thread contends for the mutex too (its spinning path) and checks
      // consistent snapshots mid-run.
      let midRunChecks = 0;
      let done = false;
      results.finally(() => { done = true; }).catch(() => {});
      while (!done) {
        l1.checkInvariants();
        midRunChecks++;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(midRunChecks > 5);
      const answers = (await results) as { ops: number }[];
      for (const a of answers) assert.ok(a.ops > 100, `a worker ran only ${a.ops} ops`);
      assert.ok(l1.status().counters.emergencyEvictions > 0, 'the run filled L1 and evicted inline');
      l1.checkInvariants();
      for (let i = 0; i < 24; i++) {
        const s = l1.state(shared, i);
        assert.ok(s === null || (!s.writeLocked && s.readLocks === 0), `key ${i} left locked`);
      }
      const u = l1.usage();
      assert.is(u.objects + u.freeSlots, u.totalSlots);
      return answers.reduce((sum, a) => sum + a.ops, 0);
    } finally {
      await stopAll(workers);
    }
  })(), 60_000, 'stress'), { seed: 1 }));

test('a worker terminated while holding write and read locks: reclaimThread releases them, no slot leaks', () => soak('l1-threads/kill-holder', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    ready(l1, keys(1));
    const { workers, results } = await startTogether([{ handle: l1.handle, task: 'hold', keys: keys(0, 1) }]);
    const [worker] = workers;
    const thread = worker.threadId;
    const [held] = (await results) as { ownerId: number; codes: number[] }[];
    assert.equal(held.codes, [0, 0]);
    assert.is(l1.state(keys(0), 0)!.writeLocked, true);
    assert.is(l1.state(keys(1), 0)!.readLocks, 3);
    await worker.terminate();
    assert.equal(l1.ownersOfThread(thread), [held.ownerId], 'the dead thread\'s owner id is found by its threadId');
    assert.equal(l1.reclaimThread(held.ownerId, thread), { writesDiscarded: 1, readLocksReleased: 3 });
    l1.checkInvariants();
    assert.is(l1.state(keys(0), 0), null, 'the unfinished write is discarded');
    assert.is(l1.state(keys(1), 0)!.readLocks, 0);
    assert.equal(names(l1.delete(keys(1))), ['SUCCESS']);
    assert.is(l1.usage().freeSlots, 4);
    assert.equal(l1.ownersOfThread(thread), []);
    // 2 reservations, 1 kill, 1 reclaim, 1 delete.
    return 5;
  })(), 60_000, 'terminated worker')));

test('a second reclaim of a dead thread\'s owner id, now registered by a live thread, touches nothing of the live one', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    ready(l1, keys(1, 3));
    const first = await startTogether([{ handle: l1.handle, task: 'hold', keys: keys(0, 1) }]);
    const deadThread = first.workers[0].threadId;
    const [dead] = (await first.results) as { ownerId: number }[];
    await first.workers[0].terminate();
    assert.equal(l1.reclaimThread(dead.ownerId, deadThread), { writesDiscarded: 1, readLocksReleased: 3 });
    // The freed id goes to the next thread that attaches: a live one holding locks of its own.
    const second = await startTogether([{ handle: l1.handle, task: 'hold', keys: keys(2, 3) }]);
    try {
      const liveThread = second.workers[0].threadId;
      const [live] = (await second.results) as { ownerId: number }[];
      assert.is(live.ownerId, dead.ownerId, 'the id was reused');
      assert.equal(l1.reclaimThread(dead.ownerId, deadThread), { writesDiscarded: 0, readLocksReleased: 0 }, 'the late reclaim is a no-op');
      assert.is(l1.state(keys(2), 0)!.writeLocked, true, 'the live thread\'s write lock stays');
      assert.is(l1.state(keys(3), 0)!.readLocks, 3, 'its read locks stay');
      assert.equal(l1.ownersOfThread(liveThread), [live.ownerId], 'the id is still the live thread\'s');
      await second.workers[0].terminate();
      assert.equal(l1.reclaimThread(live.ownerId, liveThread), { writesDiscarded: 1, readLocksReleased: 3 });
      l1.checkInvariants();
    } finally {
      await stopAll(second.workers);
    }
  })(), 60_000, 'reused owner id'));

test('waitDirty blocks a worker until another thread finishes a write', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    l1.reserveWrite(keys(1, 2), 100);
    const { workers, results } = await startTogether([{ handle: l1.handle, task: 'waitDirty', keys: keys() }]);
    try {
      await new Promise((r) => setTimeout(r, 50));
      l1.finishWrite(keys(1, 2));
      const [answer] = (await results) as { first: boolean; claimed: number; idle: boolean }[];
      assert.equal(answer, { first: true, claimed: 2, idle: false });
    } finally {
      await stopAll(workers);
    }
  })(), 60_000, 'waitDirty in a worker'));

test('reclaimThread breaks the index mutex of an owner that died holding it', () => {
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
  const dead = L1Manager.attach(l1.handle);
  // What a thread terminated inside an L1 call leaves behind: the mutex word holding its owner id.
  Atomics.store(new Int32Array(l1.handle.meta), Header.MUTEX, dead.ownerId << 1);
  l1.reclaimThread(dead.ownerId, threadId);
  assert.equal(names(l1.reserveWrite(keys(1), 100).codes), ['SUCCESS']);
  l1.checkInvariants();
});

test('a reclaim that cannot take the index mutex (a live holder stalled) throws KVT_ERR_TIMEOUT, releases nothing, and a later reclaim of the same owner succeeds', () => {
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
  const dead = L1Manager.attach(l1.handle);
  assert.equal(names(dead.reserveWrite(keys(1), 100).codes), ['SUCCESS']);
  const live = L1Manager.attach(l1.handle);
  const meta = new Int32Array(l1.handle.meta);
  // A live owner holding the mutex past the stall bound: the reclaim waits it out, then gives up.
  Atomics.store(meta, Header.MUTEX, live.ownerId << 1);
  throwsCode(() => l1.reclaimThread(dead.ownerId, threadId), ErrorCode.TIMEOUT, new RegExp(`L1 mutex held by owner ${live.ownerId}`));
  Atomics.store(meta, Header.MUTEX, 0);
  assert.equal(l1.ownersOfThread(threadId).includes(dead.ownerId), true, 'the id is still the dead thread\'s');
  assert.is(l1.state(keys(1), 0)!.writeLocked, true, 'its write lock is still held');
  assert.equal(l1.reclaimThread(dead.ownerId, threadId), { writesDiscarded: 1, readLocksReleased: 0 });
  assert.is(l1.status().threads.registered, 2, 'the owner id is free');
  live.detach();
  l1.checkInvariants();
});

test('a detach that cannot take the index mutex throws KVT_ERR_TIMEOUT, leaves the instance attached with its locks, and can be retried', () => {
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
  const leaving = L1Manager.attach(l1.handle);
  assert.equal(names(leaving.reserveWrite(keys(1), 100).codes), ['SUCCESS']);
  const live = L1Manager.attach(l1.handle);
  const meta = new Int32Array(l1.handle.meta);
  Atomics.store(meta, Header.MUTEX, live.ownerId << 1);
  throwsCode(() => leaving.detach(), ErrorCode.TIMEOUT, new RegExp(`L1 mutex held by owner ${live.ownerId}`));
  Atomics.store(meta, Header.MUTEX, 0);
  assert.is(leaving.state(keys(1), 0)!.writeLocked, true, 'still attached, its write lock held');
  assert.equal(leaving.detach(), { writesDiscarded: 1, readLocksReleased: 0 }, 'the retry releases its locks');
  assert.is(l1.status().threads.registered, 2, 'and frees its owner id');
  live.detach();
  l1.checkInvariants();
});

/** Drains every event the ring hands over now, as [kind, key hex] pairs. */
function drained(l1: L1Manager): [number, string][] {
  const out: [number, string][] = [];
  l1.drainEvents((kind, key) => out.push([kind, digestHex(key, 0)]));
  return out;
}

/**
 * A reader that stops in the hook between claiming its release's two ring positions and publishing
 * them (its first message, with its owner id, says it is there); `pause` lets it go on.
 */
async function readerStoppedInPush(l1: L1Manager): Promise<{ worker: import('node:worker_threads').Worker; ownerId: number; pause: Int32Array }> {
  ready(l1, keys(1, 2));
  drained(l1);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const { workers, results } = await startTogether([{ handle: l1.handle, task: 'stopInPush', keys: keys(1, 2), pause }]);
  const [stopped] = (await results) as { ownerId: number }[];
  return { worker: workers[0], ownerId: stopped.ownerId, pause };
}

const touched = (...ids: number[]) => ids.map((i) => [L1EventKind.TOUCHED, digestHex(keys(i), 0)]);

test('a live reader stopped between claiming ring positions and publishing them holds the consumer back; its events arrive once it goes on', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    const { worker, pause } = await readerStoppedInPush(l1);
    try {
      assert.equal(drained(l1), [], 'nothing is skipped while its producer lives');
      const published = new Promise((resolve) => worker.on('message', (m: { published?: boolean }) => { if (m.published === true) resolve(m); }));
      Atomics.store(pause, 0, 1);
      Atomics.notify(pause, 0);
      await published;
      assert.equal(drained(l1), touched(1, 2));
      assert.is(l1.status().events.dropped, 0);
      l1.checkInvariants();
    } finally {
      await stopAll([worker]);
    }
  })(), 30_000, 'stopped reader'));

test('a reader killed between claiming ring positions and publishing them: once reclaimed, the consumer skips its records (counted as dropped) and takes later ones', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    const { worker, ownerId } = await readerStoppedInPush(l1);
    const thread = worker.threadId;
    await worker.terminate();
    assert.equal(drained(l1), [], 'a dead producer not yet reclaimed is not skipped');
    // Its release ended the locks before it pushed the events: nothing else is left to reclaim.
    assert.equal(l1.reclaimThread(ownerId, thread), { writesDiscarded: 0, readLocksReleased: 0 });
    l1.touch(keys(1));
    assert.equal(drained(l1), touched(1), 'the consumer went past the dead reader\'s records');
    assert.is(l1.status().events.dropped, 2);
    assert.equal(drained(l1), []);
    l1.checkInvariants();
  })(), 30_000, 'killed reader'));

test('a consumer killed inside a drain: once reclaimed, the next consumer drains again (only the event it was handed is lost)', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    ready(l1, keys(1, 2));
    drained(l1);
    l1.touch(keys(1));
    const { workers, results } = await startTogether([{ handle: l1.handle, task: 'stopInDrain', keys: keys(1) }]);
    const [stopped] = (await results) as { ownerId: number }[];
    const thread = workers[0].threadId;
    await workers[0].terminate();
    l1.touch(keys(2));
    assert.equal(drained(l1), [], 'until the dead consumer is reclaimed, its drain keeps the others out');
    l1.reclaimThread(stopped.ownerId, thread);
    assert.equal(drained(l1), touched(2), 'the dead consumer\'s drain ended');
    l1.checkInvariants();
  })(), 30_000, 'killed consumer'));

test.run();

// The read path (fast-reads.ts): reserveRead/finishRead batches that run inside the reader gate,
// without the index mutex. Real worker threads reading while others rewrite, delete and evict the
// same keys; a reader killed inside a batch; and, in one thread, what the mutex-held calls, the
// leases and the events see of locks taken that way, and the caller-supplied result arrays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestHex } from '../src/digest-batch.ts';
import { withDeadline } from '../src/deadline.ts';
import { ErrorCode } from '../src/errors.ts';
import { L1EventFlag, L1EventKind, NO_SLOT } from '../src/l1/api.ts';
import { metaLayout, Reader } from '../src/l1/layout.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { READER_STRIDE } from '../src/shm/reader-gate.ts';
import { checkedL1, isObject, keys, names, ready, sleep, throwsCode, writeObject } from './l1-helpers.ts';
import { startTogether, stopAll } from './l1-workers.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Writes every key of `batch` (key i numbered i) as {@link writeObject} does, and finishes it. */
function writeAll(l1: L1Manager, count: number): void {
  const batch = keys(...ids(count));
  const w = l1.reserveWrite(batch, 100);
  for (let i = 0; i < count; i++) writeObject(l1.view(w.slots[i], 100), i, 1 + (i % 255));
  assert.ok(names(l1.finishWrite(batch)).every((c) => c === 'SUCCESS'));
}

test('two reader threads, a rewriter and a remover on the same keys: every byte read is right, every own lock releases, nothing is left held', () =>
  withDeadline((async () => {
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 80 });
    writeAll(l1, 64);
    const batch = keys(...ids(64));
    const { workers, results } = await startTogether([
      { handle: l1.handle, task: 'readBatches', keys: batch, durationMs: 1500 },
      { handle: l1.handle, task: 'readBatches', keys: batch, durationMs: 1500 },
      { handle: l1.handle, task: 'rewrite', keys: batch, durationMs: 1500, seed: 7 },
      { handle: l1.handle, task: 'remove', keys: batch, durationMs: 1500, seed: 11 },
    ]);
    try {
      const [r1, r2, w, d] = (await results) as [{ reads: number; wrongBytes: number; badReleases: number }, { reads: number; wrongBytes: number; badReleases: number }, { writes: number }, { removed: number }];
      for (const r of [r1, r2]) {
        assert.ok(r.reads > 0, 'each reader read objects');
        assert.is(r.wrongBytes, 0, 'no object read under a read lock had bytes other than its writer\'s');
        assert.is(r.badReleases, 0, 'every lock a reader took released SUCCESS');
      }
      assert.ok(w.writes > 0 && d.removed > 0, 'the keys were rewritten and removed meanwhile');
    } finally {
      await stopAll(workers);
    }
    l1.checkInvariants();
    for (let i = 0; i < 64; i++) {
      const s = l1.state(batch.subarray(i * 4, i * 4 + 4), 0);
      if (s === null) continue;
      assert.equal([s.readLocks, s.writeLocked], [0, false], `key ${i} is left unlocked`);
      assert.ok(isObject(l1.view(s.slot, s.size), i), `key ${i} holds its writer's bytes`);
    }
    const usage = l1.usage();
    assert.is(usage.objects + usage.freeSlots, 80, 'no slot leaked or left orphaned');
  })(), 60_000, 'readers against a rewriter and a remover'));

test('a reader thread killed inside a read batch: reclaimThread releases exactly the locks it held, the others\' stay', () =>
  withDeadline((async () => {
    const count = 512;
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: count + 8 });
    const batch = keys(...ids(count));
    ready(l1, batch);
    const mine = keys(0, 1, 2, 3);
    assert.equal(names(l1.reserveRead(mine, { extraCount: 1 }).codes), ['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    const regions = metaLayout(l1.config.totalSlots, l1.config.maxThreads, l1.config.eventRingCapacity);
    const words = new Int32Array(l1.handle.meta);
    let killedInside = 0;
    for (let attempt = 0; attempt < 10 && killedInside === 0; attempt++) {
      const { workers, results } = await startTogether([{ handle: l1.handle, task: 'readForever', keys: batch }]);
      const [{ ownerId }] = (await results) as { ownerId: number }[];
      await sleep(20 + attempt * 7);
      const thread = workers[0].threadId;
      await workers[0].terminate();
      if (words[(regions.readersOffset >>> 2) + (ownerId - 1) * READER_STRIDE + Reader.ACTIVE] === 1) killedInside++;
      const { writesDiscarded, readLocksReleased } = l1.reclaimThread(ownerId, thread);
      assert.is(writesDiscarded, 0);
      assert.is(readLocksReleased % 3, 0, 'whole keys of 3 locks each (a lock of a key is one store)');
      l1.checkInvariants();
      for (let i = 0; i < count; i++) assert.is(l1.state(batch, i)!.readLocks, i < 4 ? 2 : 0, `key ${i} keeps only the main thread's locks`);
    }
    assert.ok(killedInside > 0, 'a kill landed inside a read batch');
    assert.equal(names(l1.finishRead(mine, { extraCount: 1 })), ['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    assert.ok(names(l1.delete(batch)).every((c) => c === 'SUCCESS'));
    assert.is(l1.usage().freeSlots, count + 8);
  })(), 120_000, 'killed reader'));

test('read locks taken without the mutex are seen exactly by every mutex-held call of any owner', () => {
  const a = checkedL1();
  const b = L1Manager.attach(a.handle);
  ready(a, keys(1, 2));
  assert.equal(names(a.reserveRead(keys(1, 2), { extraCount: 1 }).codes), ['SUCCESS', 'SUCCESS']);
  assert.is(b.state(keys(1), 0)!.readLocks, 2);
  assert.equal(names(b.delete(keys(1, 2))), ['KEY_IS_LOCKED', 'KEY_IS_LOCKED']);
  assert.equal(names(b.unsafeRead(keys(1)).codes), ['SUCCESS']);
  assert.equal(names(a.finishRead(keys(1))), ['SUCCESS']);
  assert.is(b.state(keys(1), 0)!.readLocks, 1);
  // b holds none of its own: releasing key 2 releases a's last locks there (as under the mutex).
  assert.equal(names(b.finishRead(keys(2), { extraCount: 1 })), ['SUCCESS']);
  assert.equal(names(a.finishRead(keys(1))), ['SUCCESS']);
  assert.equal(names(b.delete(keys(1, 2))), ['SUCCESS', 'SUCCESS']);
});

test('a read lock taken without the mutex expires at its lease: the next batch past it takes the mutex and makes it a stale hold', () => {
  let now = 1_000;
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4, readLeaseMs: 100 }, { clock: () => now });
  ready(l1, keys(1));
  l1.reserveRead(keys(1));
  now += 101;
  l1.reserveRead(keys(1));
  const { counters } = l1.status();
  assert.is(counters.expiredReads, 1, 'the unfolded lock met its lease');
  assert.is(l1.state(keys(1), 0)!.readLocks, 1, 'only the new lock is left');
  assert.equal(names(l1.finishRead(keys(1), { extraCount: 1 })), ['SUCCESS'], 'the stale hold and the lock release together');
  l1.checkInvariants();
  assert.is(l1.usage().orphanedSlots, 0);
});

test('a read batch the read path cannot finish goes on under the mutex as one call: one batch id, one tick, flags in key order', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 3));
  l1.reserveWrite(keys(2), 100, { temporary: true });
  l1.finishWriteAndReserveRead(keys(2));
  l1.reserveRead(keys(1, 3));
  l1.drainEvents(() => {});
  // Key 2 is temporary with its last lock: the read path leaves it, and key 3, to the mutex.
  assert.equal(names(l1.finishRead(keys(1, 2, 3))), ['SUCCESS', 'SUCCESS', 'SUCCESS']);
  const seen: [number, number, number][] = [];
  l1.drainEvents((kind, _key, batch, flags) => seen.push([kind, batch, flags]));
  const { TOUCHED, REMOVED } = L1EventKind;
  const { LAST, FOLLOWS } = L1EventFlag;
  const id = seen[0][1];
  assert.equal(seen, [[TOUCHED, id, 0], [REMOVED, id, FOLLOWS], [TOUCHED, id, LAST | FOLLOWS]]);
  assert.is(l1.state(keys(2), 0), null, 'the temporary object went with its last lock');
});

test('reserveRead and finishRead answer into the caller\'s arrays, call after call, resetting what a failed key had', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  const into = { codes: new Uint8Array(2), slots: new Int32Array(2), sizes: new Uint32Array(2) };
  const codes = new Uint8Array(2);
  assert.is(l1.reserveRead(keys(1, 2), { into }), into);
  assert.equal([...into.codes, ...into.sizes], [0, 0, 100, 100]);
  assert.is(l1.finishRead(keys(1, 2), { into: codes }), codes);
  assert.equal(names(codes), ['SUCCESS', 'SUCCESS']);
  l1.delete(keys(2));
  l1.reserveRead(keys(1, 2), { into });
  assert.equal(names(into.codes), ['SUCCESS', 'KEY_NOT_EXIST']);
  assert.equal([into.slots[1], into.sizes[1]], [NO_SLOT, 0], 'the failed key\'s old slot and size are gone');
  l1.finishRead(keys(1, 2), { into: codes });
  assert.equal(names(codes), ['SUCCESS', 'KEY_NOT_EXIST']);
});

test('a reused result array is reset for the keys the mutex path answers after the read path stopped', () => {
  let now = 1_000;
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 8, writeLeaseMs: 100 }, { clock: () => now });
  ready(l1, keys(1, 2, 3));
  const into = { codes: new Uint8Array(3), slots: new Int32Array(3), sizes: new Uint32Array(3) };
  l1.reserveRead(keys(1, 2, 3), { into });
  assert.equal([...into.sizes], [100, 100, 100]);
  l1.finishRead(keys(1, 2, 3));
  l1.delete(keys(3));
  l1.reserveWrite(keys(2), 50, { mode: 'update' });
  now += 101;
  // Key 2's write lease has passed: the read path stops there, the mutex path discards it and answers keys 2 and 3.
  l1.reserveRead(keys(1, 2, 3), { into });
  assert.equal(names(into.codes), ['SUCCESS', 'KEY_NOT_EXIST', 'KEY_NOT_EXIST']);
  assert.equal([into.slots[1], into.slots[2], into.sizes[1], into.sizes[2]], [NO_SLOT, NO_SLOT, 0, 0], 'no slot or size is left from the previous call');
  assert.is(into.sizes[0], 100);
  assert.is(l1.status().counters.expiredWrites, 1);
  l1.finishRead(keys(1));
  l1.checkInvariants();
});

test('the read path\'s touched events: FOLLOWS only after a key that emitted one, LAST on the batch\'s last key, one id per call, none a mutex hold\'s', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2, 4));
  l1.reserveRead(keys(1, 2, 4));
  l1.drainEvents(() => {});
  // Key 3 is absent: it answers KEY_NOT_EXIST and emits nothing.
  assert.equal(names(l1.finishRead(keys(1, 2, 3, 4))), ['SUCCESS', 'SUCCESS', 'KEY_NOT_EXIST', 'SUCCESS']);
  l1.touch(keys(1));
  l1.reserveRead(keys(4));
  l1.finishRead(keys(4));
  const seen: [number, string, number, number][] = [];
  l1.drainEvents((kind, key, batch, flags) => seen.push([kind, digestHex(key, 0), batch, flags]));
  const { TOUCHED } = L1EventKind;
  const { LAST, FOLLOWS } = L1EventFlag;
  const hex = (id: number) => digestHex(keys(id), 0);
  assert.equal(seen.map(([kind, key, , flags]) => [kind, key, flags]), [
    [TOUCHED, hex(1), 0], [TOUCHED, hex(2), FOLLOWS], [TOUCHED, hex(4), LAST], [TOUCHED, hex(1), LAST], [TOUCHED, hex(4), LAST],
  ]);
  const ids = seen.map(([, , batch]) => batch);
  assert.ok(ids[0] === ids[1] && ids[1] === ids[2], 'one call, one batch id');
  assert.is(new Set([ids[0], ids[3], ids[4]]).size, 3, 'the read-path calls and the mutex hold between them have ids of their own');
});

test('result arrays of the wrong size or type are refused, naming the array; nothing is locked', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  const C = ErrorCode.INVALID_ARGUMENT;
  const of = (n: number) => ({ codes: new Uint8Array(n), slots: new Int32Array(n), sizes: new Uint32Array(n) });
  throwsCode(() => l1.reserveRead(keys(1, 2), { into: of(3) }), C, /^reserveRead: opts\.into\.codes must be a Uint8Array of 2 \(one per key\), got Uint8Array of 3/);
  throwsCode(() => l1.reserveRead(keys(1, 2), { into: { ...of(2), slots: new Int32Array(1) } }), C, /^reserveRead: opts\.into\.slots must be a Int32Array of 2 .*got Int32Array of 1/);
  throwsCode(() => l1.reserveRead(keys(1, 2), { into: { ...of(2), sizes: new Int32Array(2) as unknown as Uint32Array } }), C, /opts\.into\.sizes must be a Uint32Array of 2 .*got Int32Array of 2/);
  throwsCode(() => l1.reserveRead(keys(1, 2), { into: null as unknown as ReturnType<typeof of> }), C, /^reserveRead: opts\.into must be an L1SlotResult/);
  assert.is(l1.state(keys(1), 0)!.readLocks, 0, 'a refused call locks nothing');
  l1.reserveRead(keys(1, 2));
  throwsCode(() => l1.finishRead(keys(1, 2), { into: new Uint8Array(1) }), C, /^finishRead: opts\.into must be a Uint8Array of 2 \(one per key\), got Uint8Array of 1/);
  throwsCode(() => l1.finishRead(keys(1, 2), { into: [0, 0] as unknown as Uint8Array }), C, /^finishRead: opts\.into must be a Uint8Array of 2 .*got Array of 2/);
  assert.is(l1.state(keys(1), 0)!.readLocks, 1, 'a refused call releases nothing');
});

test.run();

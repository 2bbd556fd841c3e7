// "Listeners and events", plus the store controller's side of L1: takeDirty and
// the dirty wake-ups, and the eviction worker's emergency wake-up.
import { threadId } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '../src/deadline.ts';
import { ErrorCode } from '../src/errors.ts';
import { digestHex, keyCount } from '../src/digest-batch.ts';
import { L1EventKind, type DigestBatch } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { checkedL1, keys, names, ready, throwsCode } from './l1-helpers.ts';

const { CREATED, TOUCHED, REMOVED, PARENT } = L1EventKind;

/** Drains every pending event as [kind, key hex] pairs. */
function drain(l1: L1Manager): [number, string][] {
  const out: [number, string][] = [];
  l1.drainEvents((kind, key) => out.push([kind, digestHex(key, 0)]));
  return out;
}
const hex = (batch: DigestBatch, i = 0) => digestHex(batch, i);

test('events carry only the keys that succeeded, once per key of the batch', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1, 3), 100);
  assert.equal(names(l1.finishWrite(keys(1, 2, 3))), ['SUCCESS', 'KEY_NOT_EXIST', 'SUCCESS']);
  // Key 3's parent in the batch (key 2) emitted nothing: a PARENT record names it first.
  assert.equal(drain(l1), [[CREATED, hex(keys(1))], [PARENT, hex(keys(2))], [CREATED, hex(keys(3))]]);
  assert.equal(drain(l1), [], 'drained once');
});

test('finishWrite -> created and dirty; finishWriteAndReserveRead -> created, not dirty', () => {
  const l1 = checkedL1();
  l1.reserveWrite(keys(1, 2), 100);
  l1.finishWrite(keys(1));
  l1.finishWriteAndReserveRead(keys(2));
  assert.equal(drain(l1), [[CREATED, hex(keys(1))], [CREATED, hex(keys(2))]]);
  assert.equal([l1.state(keys(1), 0)!.dirty, l1.state(keys(2), 0)!.dirty], [true, false]);
});

test('finishRead and touch -> touched; reserveRead and failed finishReads -> nothing', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  drain(l1);
  l1.reserveRead(keys(1));
  assert.equal(drain(l1), []);
  l1.finishRead(keys(1, 2));
  l1.finishRead(keys(1));
  l1.touch(keys(1, 2));
  assert.equal(drain(l1), [[TOUCHED, hex(keys(1))], [TOUCHED, hex(keys(1))]]);
});

test('delete, eviction and temporary free -> removed; a discarded unfinished write -> nothing', () => {
  const l1 = checkedL1({ slotCount: 3 });
  ready(l1, keys(1, 2));
  l1.reserveWrite(keys(3), 100, { temporary: true });
  l1.finishWriteAndReserveRead(keys(3));
  drain(l1);
  l1.delete(keys(1));
  l1.finishRead(keys(3));
  l1.reserveWrite(keys(4, 5, 6), 100); // keys 4 and 5 take the freed slots; key 6 evicts key 2 inline
  l1.delete(keys(4, 5, 6), { force: true });
  assert.equal(drain(l1), [[REMOVED, hex(keys(1))], [REMOVED, hex(keys(3))], [REMOVED, hex(keys(2))]]);
});

test('a full ring drops events and counts the drops; drain takes at most max', () => {
  const l1 = checkedL1({ slotCount: 32, eventRingCapacity: 16 });
  const ids = Array.from({ length: 20 }, (_, i) => i);
  ready(l1, keys(...ids));
  assert.equal(l1.status().events, { pending: 16, dropped: 4 });
  const got: string[] = [];
  assert.is(l1.drainEvents((_, key) => got.push(hex(key)), 10), 10);
  assert.is(l1.drainEvents((_, key) => got.push(hex(key))), 6);
  assert.equal(got, ids.slice(0, 16).map((i) => hex(keys(i))));
  l1.touch(keys(0));
  assert.is(l1.status().events.pending, 1, 'room again after draining');
});

test('a call\'s events go to the ring at once: with room for some, the first ones are kept in order and the rest dropped and counted', () => {
  const l1 = checkedL1({ slotCount: 32, eventRingCapacity: 16 });
  const ids = Array.from({ length: 10 }, (_, i) => i);
  ready(l1, keys(...ids));
  l1.reserveRead(keys(...ids));
  assert.equal(names(l1.finishRead(keys(...ids))), ids.map(() => 'SUCCESS'));
  assert.equal(l1.status().events, { pending: 16, dropped: 4 });
  const got: [number, string][] = [];
  l1.drainEvents((kind, key) => got.push([kind, hex(key)]));
  assert.equal(got, [...ids.map((i) => [CREATED, hex(keys(i))]), ...ids.slice(0, 6).map((i) => [TOUCHED, hex(keys(i))])]);
  l1.touch(keys(0, 1));
  assert.equal(l1.status().events, { pending: 2, dropped: 4 }, 'a call that fits is kept whole');
});

test('one consumer at a time: a drain from inside a drain callback gets nothing', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  let nested = -1;
  l1.drainEvents(() => { nested = l1.drainEvents(() => {}); }, 1);
  assert.is(nested, 0);
  assert.is(l1.drainEvents(() => {}), 1);
});

test('the ring keeps order across many laps (wrapping positions)', () => {
  const l1 = checkedL1({ slotCount: 4, eventRingCapacity: 16 });
  ready(l1, keys(1));
  let seen = 0;
  for (let lap = 0; lap < 100; lap++) {
    l1.touch(keys(1));
    l1.touch(keys(1));
    l1.drainEvents((kind) => { assert.ok(kind === CREATED || kind === TOUCHED); seen++; });
  }
  assert.is(seen, 201);
});

test('takeDirty claims up to max dirty objects, read-locked, dirty marks cleared; finishRead releases them', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2, 3));
  const first = l1.takeDirty(2);
  assert.is(first.keys.length, 8);
  assert.equal(names(first.codes), ['SUCCESS', 'SUCCESS']);
  assert.equal([...first.sizes], [100, 100]);
  const second = l1.takeDirty(10);
  assert.is(second.keys.length, 4);
  assert.is(l1.takeDirty(10).keys.length, 0);
  const claimed = new Set([hex(first.keys, 0), hex(first.keys, 1), hex(second.keys, 0)]);
  assert.equal(claimed, new Set([hex(keys(1)), hex(keys(2)), hex(keys(3))]));
  assert.is(l1.state(keys(1), 0)!.readLocks, 1);
  assert.is(l1.dirtyCount(), 0);
  l1.finishRead(first.keys);
  l1.finishRead(second.keys);
  assert.equal(names(l1.reserveWrite(keys(1, 2, 3), 100, { mode: 'update' }).codes), ['SUCCESS', 'SUCCESS', 'SUCCESS']);
});

test('a claimed object is being stored, not dirty; finishStore ends the claim and releases its lock', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  const claimed = l1.takeDirty(4);
  assert.equal([l1.state(keys(1), 0)!.storing, l1.state(keys(1), 0)!.dirty], [true, false]);
  assert.equal(names(l1.finishStore(claimed.keys)), ['SUCCESS']);
  assert.equal([l1.state(keys(1), 0)!.storing, l1.state(keys(1), 0)!.readLocks], [false, 0]);
  assert.equal(names(l1.finishStore(claimed.keys)), ['KEY_IN_WRONG_STATE']);
});

test('finishStore wakes waitStoredAsync at once; with no claim ending it times out with false', () => withDeadline((async () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  const claimed = l1.takeDirty(4);
  const idle = await l1.waitStoredAsync(l1.storedSeq(), 20);
  assert.is(idle, false, 'nothing ended a claim');
  const seq = l1.storedSeq();
  const woken = l1.waitStoredAsync(seq, 5_000);
  const started = performance.now();
  l1.finishStore(claimed.keys);
  assert.is(await woken, true);
  assert.ok(performance.now() - started < 1_000, 'woken by the claim ending, not by the timeout');
  assert.is.not(l1.storedSeq(), seq);
  l1.finishRead(keys(1, 2));
  assert.is(l1.storedSeq(), seq + 1, 'a plain finishRead ends no claim');
})(), 10_000, 'test'));

test('reclaiming a dead store claimer makes its claimed objects dirty again and wakes the store worker', () => withDeadline((async () => {
  const l1 = checkedL1();
  const storer = L1Manager.attach(l1.handle);
  ready(l1, keys(1, 2, 3));
  assert.is(storer.takeDirty(10).keys.length, 12);
  assert.is(l1.dirtyCount(), 0);
  const woken = l1.waitDirtyAsync(5_000);
  l1.reclaimThread(storer.ownerId, threadId);
  assert.is(await woken, true);
  assert.is(l1.dirtyCount(), 3);
  for (const i of [0, 1, 2]) {
    const state = l1.state(keys(1, 2, 3), i)!;
    assert.equal([state.dirty, state.storing, state.readLocks], [true, false, 0]);
  }
  assert.is(l1.takeDirty(10).keys.length, 12, 'every object is claimable again');
})(), 5_000, 'test'));

test('the events of one batch call share a batch id; the next call has another', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2, 3));
  l1.touch(keys(1, 2));
  const seen: [number, number][] = [];
  l1.drainEvents((kind, _key, batch) => seen.push([kind, batch]));
  assert.equal(seen.map(([kind]) => kind), [CREATED, CREATED, CREATED, TOUCHED, TOUCHED]);
  const [created, touched] = [seen[0][1], seen[3][1]];
  assert.equal(seen.map(([, batch]) => batch), [created, created, created, touched, touched]);
  assert.is.not(created, touched);
});

test('finishStore is not a use: no touched event', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  drain(l1);
  l1.finishStore(l1.takeDirty(4).keys);
  assert.equal(drain(l1), []);
});

test('unstoredKeys lists dirty and claimed objects until their store finishes', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2, 3));
  const claimed = l1.takeDirty(1);
  assert.is(l1.unstoredKeys().length, 12);
  l1.finishStore(claimed.keys);
  const left = l1.unstoredKeys();
  assert.is(left.length, 8);
  assert.equal(l1.unstoredKeys(keys(1, 2, 3)).length, 8);
  l1.finishStore(l1.takeDirty(4).keys);
  assert.is(l1.unstoredKeys(left).length, 0);
});

test('an update clears the dirty mark until the new write finishes', () => {
  const l1 = checkedL1();
  ready(l1, keys(1));
  l1.reserveWrite(keys(1), 50, { mode: 'update' });
  assert.is(l1.dirtyCount(), 0);
  l1.finishWrite(keys(1));
  assert.is(l1.takeDirty(4).sizes[0], 50);
});

test('waitDirtyAsync resolves true when a write finishes, at once when work is there, false on timeout', () =>
  withDeadline((async () => {
    const l1 = checkedL1();
    assert.is(await l1.waitDirtyAsync(20), false);
    l1.reserveWrite(keys(1), 100);
    const waiting = l1.waitDirtyAsync(5000);
    setTimeout(() => l1.finishWrite(keys(1)), 10);
    assert.is(await waiting, true);
    assert.is(await l1.waitDirtyAsync(5000), true);
  })(), 5000, 'waitDirtyAsync'));

test('waitEmergencyAsync resolves true after an inline eviction', () =>
  withDeadline((async () => {
    const l1 = checkedL1({ slotCount: 1 });
    ready(l1, keys(1));
    const seq = l1.emergencySeq();
    const waiting = l1.waitEmergencyAsync(seq, 5000);
    setTimeout(() => l1.reserveWrite(keys(2), 100), 10);
    assert.is(await waiting, true);
    assert.is(await l1.waitEmergencyAsync(l1.emergencySeq(), 10), false);
  })(), 5000, 'waitEmergencyAsync'));

test('the blocking waits refuse the main thread', () => {
  const l1 = checkedL1();
  throwsCode(() => l1.waitDirty(10), ErrorCode.INVALID_ARGUMENT, /waitDirty blocks the thread/);
  throwsCode(() => l1.waitEmergency(0, 10), ErrorCode.INVALID_ARGUMENT, /waitEmergency blocks the thread/);
});

test('liveKeys lists every readable-once object, not unfinished writes', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2));
  l1.reserveWrite(keys(3), 100);
  const { keys: live, pendingEvents } = l1.liveKeys();
  assert.is(pendingEvents, l1.status().events.pending, 'nothing was drained: every event came before');
  assert.equal(new Set([hex(live, 0), hex(live, 1)]), new Set([hex(keys(1)), hex(keys(2))]));
  assert.is(live.length, 8);
});

test('lockedObjects counts the write-locked, read-locked and claimed objects of one moment, not the readable ones', () => {
  const l1 = checkedL1();
  ready(l1, keys(1, 2, 3, 4));
  assert.is(l1.lockedObjects(), 0, 'readable and dirty objects hold no lock');
  l1.reserveWrite(keys(5), 100);
  assert.is(l1.lockedObjects(), 1, 'a reserved write');
  l1.reserveRead(keys(1), { extraCount: 2 });
  assert.is(l1.lockedObjects(), 2, 'an object read-locked three times counts once');
  assert.is(keyCount(l1.takeDirty(2).keys), 2);
  assert.is(l1.lockedObjects(), 3, 'two claims, one of them on the read-locked object');
  l1.finishRead(keys(1), { extraCount: 2 });
  l1.finishStore(keys(1, 2));
  l1.finishWrite(keys(5));
  assert.is(l1.lockedObjects(), 0);
});

test('lockedObjects also counts holds that outlived their object or lease: an orphaned slot, a stale hold', () => {
  const l1 = checkedL1({ readLeaseMs: 60_000 });
  ready(l1, keys(1, 2));
  l1.reserveRead(keys(1, 2));
  l1.delete(keys(1), { force: true });
  assert.is(l1.usage().orphanedSlots, 1);
  assert.is(l1.lockedObjects(), 2, 'the read-locked object and the slot its reader may still use');
  l1.expireLeases(Date.now() + 120_000);
  assert.is(l1.lockedObjects(), 2, 'a reader past its lease holds its slot until it lets go');
  assert.equal(names(l1.finishRead(keys(1, 2))), ['SUCCESS', 'SUCCESS']);
  assert.is(l1.lockedObjects(), 0);
});

test.run();

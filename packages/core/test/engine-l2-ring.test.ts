// The L2 event ring: one producer, one consumer, drops counted when full.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { L2EventKind } from '../src/l2/events.ts';
import { L2EventRing } from '../src/l2/event-ring.ts';
import { withDeadline } from '../src/deadline.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { startTogether } from './l1-workers.ts';

const KEYS = Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

test('events come out in order with their key and bytes; drained events are gone', () => {
  const ring = new L2EventRing(8);
  ring.push(L2EventKind.STORED, KEYS, 0, 100);
  ring.push(L2EventKind.DELETED, KEYS, 1, 0);
  const seen: [number, number[], number][] = [];
  assert.is(ring.drain((kind, digest, bytes) => seen.push([kind, Array.from(digest), bytes])), 2);
  assert.equal(seen, [[L2EventKind.STORED, [1, 2, 3, 4], 100], [L2EventKind.DELETED, [5, 6, 7, 8], 0]]);
  assert.is(ring.drain(() => assert.unreachable()), 0);
});

test('a full ring drops and counts; after a drain it takes events again', () => {
  const ring = new L2EventRing(4);
  for (let i = 0; i < 6; i++) ring.push(L2EventKind.ACCESSED, KEYS, 0, i);
  assert.is(ring.dropped, 2);
  const bytes: number[] = [];
  ring.drain((_, __, b) => bytes.push(b));
  assert.equal(bytes, [0, 1, 2, 3]);
  ring.push(L2EventKind.ACCESSED, KEYS, 1, 9);
  ring.drain((_, digest, b) => { assert.is(digest[0], 5); assert.is(b, 9); });
});

test('a second instance over the same buffer (the other thread) sees the same ring', () => {
  const producer = new L2EventRing(8);
  const consumer = new L2EventRing(producer.buffer);
  producer.push(L2EventKind.STORED, KEYS, 1, 7);
  let n = 0;
  consumer.drain((kind, digest) => { n++; assert.is(kind, L2EventKind.STORED); assert.is(digest[3], 8); });
  assert.is(n, 1);
});

test('the events of one adapter call share a batch id: a new keys batch, kind or key order starts another', () => {
  const ring = new L2EventRing(16);
  const other = KEYS.slice();
  ring.push(L2EventKind.STORED, KEYS, 0, 1);
  ring.push(L2EventKind.STORED, KEYS, 1, 1);
  ring.push(L2EventKind.STORED, other, 0, 1);
  ring.push(L2EventKind.ACCESSED, other, 1, 0);
  ring.push(L2EventKind.ACCESSED, other, 0, 0);
  const batches: number[] = [];
  ring.drain((_, __, ___, batch) => batches.push(batch));
  assert.is(batches[0], batches[1]);
  assert.is(new Set(batches).size, 4, `batches ${batches}`);
});

test('a restarted host\'s batch ids go on from its predecessor\'s: its first batch is not taken for the dead host\'s last one still queued', () => {
  const ring = new L2EventRing(16);
  const dead = new L2EventRing(ring.buffer);
  dead.push(L2EventKind.STORED, KEYS, 0, 1);
  dead.push(L2EventKind.STORED, KEYS, 1, 1);
  ring.forgetProducer();
  const successor = new L2EventRing(ring.buffer);
  successor.push(L2EventKind.STORED, KEYS.slice(), 0, 1);
  const batches: number[] = [];
  ring.drain((_, __, ___, batch) => batches.push(batch));
  assert.is(batches.length, 3);
  assert.is(batches[0], batches[1], 'one call of the dead host');
  assert.is.not(batches[2], batches[1], `the successor's first call is a batch of its own (batches ${batches})`);
});

test('a host killed between claiming a position and publishing it: once forgotten, the consumer skips it (counted as dropped) and takes its successor\'s events', () =>
  withDeadline((async () => {
    const ring = new L2EventRing(8);
    const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
    const { workers, results } = await startTogether([{ handle: l1.handle, task: 'stopInL2Push', keys: KEYS.slice(0, 4), l2Ring: ring.buffer }]);
    await results;
    await workers[0].terminate();
    assert.is(ring.drain(() => assert.unreachable('nothing published')), 0, 'not skipped before it is forgotten');
    ring.forgetProducer();
    const successor = new L2EventRing(ring.buffer);
    successor.push(L2EventKind.STORED, KEYS, 1, 5);
    const seen: number[][] = [];
    assert.is(ring.drain((_, digest) => seen.push(Array.from(digest))), 1);
    assert.equal(seen, [[5, 6, 7, 8]]);
    assert.is(ring.dropped, 1);
  })(), 30_000, 'killed host'));

/**
 * A ring holding one stored event, and an eviction worker killed in its drain of it where `task`
 * stops it: inside the visit, or between moving past the event and handing its record back.
 */
async function consumerKilledIn(task: 'stopInL2Drain' | 'stopInL2Take'): Promise<L2EventRing> {
  const ring = new L2EventRing(8);
  ring.push(L2EventKind.STORED, KEYS, 0, 5);
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 4 });
  const { workers, results } = await startTogether([{ handle: l1.handle, task, keys: KEYS.slice(0, 4), l2Ring: ring.buffer }]);
  await results;
  await workers[0].terminate();
  return ring;
}

test('an eviction worker killed inside a drain: once forgotten, its successor drains again (only the event it was handed is lost)', () =>
  withDeadline((async () => {
    const ring = await consumerKilledIn('stopInL2Drain');
    ring.push(L2EventKind.DELETED, KEYS, 1, 0);
    const successor = new L2EventRing(ring.buffer);
    assert.is(successor.drain(() => assert.unreachable('the dead drain keeps it out')), 0, 'kept out before it is forgotten');
    ring.forgetConsumer();
    const seen: number[][] = [];
    assert.is(successor.drain((kind, digest) => seen.push([kind, ...digest])), 1);
    assert.equal(seen, [[L2EventKind.DELETED, 5, 6, 7, 8]]);
  })(), 30_000, 'killed consumer'));

test('an eviction worker killed between moving past an event and handing its record back: once forgotten, the record takes events again', () =>
  withDeadline((async () => {
    const ring = await consumerKilledIn('stopInL2Take');
    ring.forgetConsumer();
    // A full lap: the eighth event goes to the record the dead consumer had not handed back yet.
    for (let i = 0; i < 8; i++) ring.push(i % 2 === 0 ? L2EventKind.ACCESSED : L2EventKind.DELETED, KEYS, i % 2, 0);
    const successor = new L2EventRing(ring.buffer);
    assert.is(successor.drain(() => {}), 8);
    assert.is(ring.dropped, 0);
  })(), 30_000, 'killed consumer'));

test.run();

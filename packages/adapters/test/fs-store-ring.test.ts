// The fs store ring on its own, in one thread playing the host and the I/O threads: what a slot
// carries, the order and the once-only of claims, answers, and what does not fit.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { ANSWERED, CLAIMED_BASE, FREE, PATH_BYTES, POSTED, RING_SLOTS, StoreRing, TEXT_BYTES, type RingStore } from '../src/fs-store-ring.ts';
import { boundedTest } from './fixtures.ts';

const test = boundedTest(uvuTest);

const memory = new SharedArrayBuffer(1 << 16);
const known = (id: number) => (id === 7 ? memory : undefined);

function store(i: number, fields: Partial<RingStore> = {}): RingStore {
  return { buffer: 7, payload: new Uint8Array(memory, 1000 * i, 100 + i), key: Uint32Array.of(i, 2, 3, 0xffffffff), temp: `/base/ab/.tmp-${i}`, to: `/base/ab/${i}.kv`, sync: i % 2 === 1, replace: i % 3 === 0, ...fields };
}

test('a claimed store is the job the host posted: the payload in place, key, paths, sync and replace', () => {
  const ring = new StoreRing();
  const slot = ring.freeSlot();
  ring.post(slot, store(3, { temp: '/base/ä/.tmp-✓' }));
  assert.is(ring.state(slot), POSTED);
  const claimed = ring.claim(1, known)!;
  assert.is(claimed.slot, slot);
  assert.is(ring.state(slot), CLAIMED_BASE + 1, 'the slot names its thread');
  const { job } = claimed;
  assert.is(job.path, '/base/ä/.tmp-✓');
  assert.equal(job.place, { to: '/base/ab/3.kv', replace: true });
  assert.is(job.sync, true);
  assert.equal([...job.seal!], [3, 2, 3, 0xffffffff]);
  assert.is(job.parts[0].buffer, memory, 'the payload is a view of the shared memory itself');
  assert.is(job.parts[0].byteOffset, 3000);
  assert.is(job.parts[0].length, 103);
});

test('threads claim the oldest posted store first, each store once, and only stores of buffers they were sent', () => {
  const ring = new StoreRing();
  // Slots freed and reused out of order: the tickets, not the slots, give the order.
  for (let i = 0; i < 3; i++) ring.post(ring.freeSlot(), store(i));
  const first = ring.claim(0, known)!;
  ring.answer(first.slot, { outcome: {} });
  ring.take(first.slot);
  ring.post(ring.freeSlot(), store(3));
  assert.is(ring.claim(0, () => undefined), undefined, 'a thread that does not know the buffer leaves its stores');
  const order = [ring.claim(1, known), ring.claim(0, known), ring.claim(1, known)].map((c) => c!.job.place!.to);
  assert.equal([first.job.place!.to, ...order], ['/base/ab/0.kv', '/base/ab/1.kv', '/base/ab/2.kv', '/base/ab/3.kv']);
  assert.is(ring.claim(0, known), undefined, 'every store was claimed once');
});

test('an answer reaches the host in its slot, which is then free; the ring holds RING_SLOTS stores at once', async () => {
  const ring = new StoreRing();
  for (let i = 0; i < RING_SLOTS; i++) ring.post(ring.freeSlot(), store(i % 60));
  assert.is(ring.freeSlot(), -1);
  const { slot } = ring.claim(2, known)!;
  const seq = ring.answeredSeq();
  const woken = ring.waitAnswered(seq);
  ring.answer(slot, { outcome: { replacedMissing: true } });
  await woken;
  assert.is(ring.state(slot), ANSWERED);
  assert.equal(ring.take(slot), { outcome: { replacedMissing: true } });
  assert.is(ring.state(slot), FREE);
  assert.is(ring.freeSlot(), slot);
});

test('a path longer than PATH_BYTES is refused with ENAMETOOLONG and posts nothing; an answer too long for its slot keeps its code', () => {
  const ring = new StoreRing();
  const slot = ring.freeSlot();
  let err: NodeJS.ErrnoException | undefined;
  try {
    ring.post(slot, store(1, { to: `/${'x'.repeat(PATH_BYTES)}` }));
  } catch (e) {
    err = e as NodeJS.ErrnoException;
  }
  assert.is(err?.code, 'ENAMETOOLONG');
  assert.is(ring.state(slot), FREE);
  ring.post(slot, store(1));
  ring.claim(0, known);
  ring.answer(slot, { error: { message: 'y'.repeat(2 * TEXT_BYTES), code: 'EIO' } });
  const done = ring.take(slot);
  assert.is(done.error?.code, 'EIO');
  assert.ok(done.error!.message.startsWith('yyy') && done.error!.message.length <= TEXT_BYTES);
});

uvuTest.run();

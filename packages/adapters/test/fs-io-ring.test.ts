// The fs I/O ring on its own, in one thread playing the host and the I/O threads: what a slot
// carries for a store and for a checked load, the order and the once-only of claims, answers, the
// claims of a thread that died, and what does not fit.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { ANSWERED, ANSWERS_PER_WAKE, CLAIMED_BASE, FREE, IoRing, PATH_BYTES, POSTED, RING_SLOTS, TEXT_BYTES, type RingLoad, type RingStore } from '../src/fs-io-ring.ts';
import type { ReadJob, WriteJob } from '../src/fs-io.ts';
import { boundedTest } from './fixtures.ts';

const test = boundedTest(uvuTest);

const memory = new SharedArrayBuffer(1 << 16);
const known = (id: number) => (id === 7 ? memory : undefined);

function store(i: number, fields: Partial<RingStore> = {}): RingStore {
  return { op: 'write', buffer: 7, payload: new Uint8Array(memory, 1000 * i, 100 + i), key: Uint32Array.of(i, 2, 3, 0xffffffff), temp: `/base/ab/.tmp-${i}`, to: `/base/ab/${i}.kv`, sync: i % 2 === 1, replace: i % 3 === 0, ...fields };
}

function load(i: number, fields: Partial<RingLoad> = {}): RingLoad {
  return { op: 'read', buffer: 7, payload: new Uint8Array(memory, 1000 * i + 10, 200 + i), key: Uint32Array.of(0xfffffffe, i, 5, 6), path: `/base/cd/${i}.kv`, ...fields };
}

/** What a claimed job names: its path (a store's temp path, a load's path). */
function pathOf(claimed: { job: ReadJob | WriteJob } | undefined): string | undefined {
  return claimed?.job.path;
}

test('a claimed store is the job the host posted: the payload in place, key, paths, sync and replace', () => {
  const ring = new IoRing();
  const slot = ring.freeSlot();
  ring.post(slot, store(3, { temp: '/base/ä/.tmp-✓' }));
  assert.is(ring.state(slot), POSTED);
  const claimed = ring.claim(1, known)!;
  assert.is(claimed.slot, slot);
  assert.is(ring.state(slot), CLAIMED_BASE + 1, 'the slot names its thread');
  const job = claimed.job as WriteJob;
  assert.is(job.op, 'write');
  assert.is(job.path, '/base/ä/.tmp-✓');
  assert.equal(job.place, { to: '/base/ab/3.kv', replace: true });
  assert.is(job.sync, true);
  assert.equal([...job.seal!], [3, 2, 3, 0xffffffff]);
  assert.is(job.parts[0].buffer, memory, 'the payload is a view of the shared memory itself');
  assert.is(job.parts[0].byteOffset, 3000);
  assert.is(job.parts[0].length, 103);
});

test('threads claim the oldest posted store first, each store once, and only stores of buffers they were sent', () => {
  const ring = new IoRing();
  // Slots freed and reused out of order: the tickets, not the slots, give the order.
  for (let i = 0; i < 3; i++) ring.post(ring.freeSlot(), store(i));
  const first = ring.claim(0, known)!;
  ring.answer(first.slot, { outcome: {} });
  ring.take(first.slot);
  ring.post(ring.freeSlot(), store(3));
  assert.is(ring.claim(0, () => undefined), undefined, 'a thread that does not know the buffer leaves its stores');
  const order = [first, ring.claim(1, known), ring.claim(0, known), ring.claim(1, known)].map((c) => (c!.job as WriteJob).place!.to);
  assert.equal(order, ['/base/ab/0.kv', '/base/ab/1.kv', '/base/ab/2.kv', '/base/ab/3.kv']);
  assert.is(ring.claim(0, known), undefined, 'every store was claimed once');
});

test('an answer reaches the host in its slot, which is then free; the ring holds RING_SLOTS stores at once', async () => {
  const ring = new IoRing();
  for (let i = 0; i < RING_SLOTS; i++) ring.post(ring.freeSlot(), store(i % 60));
  assert.is(ring.freeSlot(), -1);
  const { slot } = ring.claim(2, known)!;
  const seq = ring.answeredSeq();
  const woken = ring.waitAnswered(seq);
  ring.answer(slot, { outcome: { replacedMissing: true } });
  assert.is(ring.answeredSeq(), seq, 'an answer alone wakes no one: its thread wakes the host once it has none left to take');
  ring.wakeHost();
  await woken;
  assert.is(ring.state(slot), ANSWERED);
  assert.equal(ring.take(slot), { outcome: { replacedMissing: true } });
  assert.is(ring.state(slot), FREE);
  assert.is(ring.freeSlot(), slot);
});

test('a claimed load is the checked read the host posted: the target view in place, the key, its one path', () => {
  const ring = new IoRing();
  // The slot held a store before: nothing of it carries over into the load.
  const slot = ring.freeSlot();
  ring.post(slot, store(3));
  ring.claim(0, known);
  ring.answer(slot, { outcome: {} });
  ring.take(slot);
  ring.post(slot, load(4, { path: '/base/ü/4.kv' }));
  const claimed = ring.claim(1, known)!;
  assert.is(claimed.slot, slot);
  assert.is(ring.state(slot), CLAIMED_BASE + 1, 'the slot names its thread');
  const job = claimed.job as ReadJob;
  assert.equal(Object.keys(job).sort(), ['id', 'key', 'op', 'parts', 'path']);
  assert.is(job.op, 'read');
  assert.is(job.path, '/base/ü/4.kv');
  assert.equal([...job.key!], [0xfffffffe, 4, 5, 6]);
  assert.is(job.parts.length, 1);
  assert.is(job.parts[0].buffer, memory, 'the target is a view of the shared memory itself');
  assert.is(job.parts[0].byteOffset, 4010);
  assert.is(job.parts[0].length, 204);
});

test('stores and loads are claimed in one order, the oldest posted first, each job once', () => {
  const ring = new IoRing();
  const posted = [load(0), store(1), load(2), store(3), load(5)];
  for (const job of posted) ring.post(ring.freeSlot(), job);
  const first = ring.claim(0, known)!;
  ring.answer(first.slot, { outcome: { bytes: 0, fault: null } });
  ring.take(first.slot);
  // A load posted into the freed first slot is the youngest, whatever its slot.
  ring.post(first.slot, load(6));
  const order = [first, ring.claim(1, known), ring.claim(0, known), ring.claim(1, known), ring.claim(0, known), ring.claim(1, known)].map(pathOf);
  assert.equal(order, ['/base/cd/0.kv', '/base/ab/.tmp-1', '/base/cd/2.kv', '/base/ab/.tmp-3', '/base/cd/5.kv', '/base/cd/6.kv']);
  assert.is(ring.claim(0, known), undefined, 'every job was claimed once');
});

test('a load\'s answer reaches the host as it was given: bytes and envelope fault, or why there was no object, or the error with its code', async () => {
  const ring = new IoRing();
  const answers = [{ outcome: { bytes: 64 + 204, fault: null } }, { outcome: { bytes: 64 + 205, fault: 'length' } }, { outcome: { absent: 'not-an-object' } }, { error: { message: 'EIO: i/o error, read', code: 'EIO' } }] as const;
  for (const answer of answers) {
    const slot = ring.freeSlot();
    ring.post(slot, load(slot));
    assert.is(ring.claim(0, known)!.slot, slot);
    const woken = ring.waitAnswered(ring.answeredSeq());
    ring.answer(slot, answer);
    ring.wakeHost();
    await woken;
    assert.is(ring.state(slot), ANSWERED);
    assert.equal(ring.take(slot), answer);
    assert.is(ring.state(slot), FREE);
  }
});

test('the jobs a thread claimed name it: the host frees those when it dies, and the jobs still posted go to another thread', () => {
  const ring = new IoRing();
  const slots = [load(0), store(1), load(2), load(3)].map((job) => {
    const slot = ring.freeSlot();
    ring.post(slot, job);
    return slot;
  });
  const dying = [ring.claim(2, known)!, ring.claim(2, known)!];
  const other = ring.claim(0, known)!;
  // What the host does for thread 2 (fs-io.ts): every slot in its CLAIMED state, and no other.
  const claimedBy2 = slots.filter((s) => ring.state(s) === CLAIMED_BASE + 2);
  assert.equal(claimedBy2, dying.map((c) => c.slot));
  for (const slot of claimedBy2) ring.free(slot);
  assert.is(ring.state(other.slot), CLAIMED_BASE + 0, 'a live thread\'s claim stands');
  assert.is(pathOf(ring.claim(1, known)), '/base/cd/3.kv', 'the job still posted is taken by another thread');
  assert.is(ring.claim(1, known), undefined, 'the dead thread\'s jobs are not posted again');
});

test('a draining thread answers every job it can take, oldest first, and wakes the host once at the end, or every ANSWERS_PER_WAKE answers while new jobs keep coming', () => {
  const ring = new IoRing();
  for (const job of [load(0), store(1), load(2)]) ring.post(ring.freeSlot(), job);
  let seq = ring.answeredSeq();
  const ran: string[] = [];
  ring.drain(0, known, (job) => {
    ran.push(job.path);
    assert.is(ring.answeredSeq(), seq, 'no wake-up before the drain ends');
    return { outcome: {} };
  });
  assert.equal(ran, ['/base/cd/0.kv', '/base/ab/.tmp-1', '/base/cd/2.kv']);
  assert.is(ring.answeredSeq() - seq, 1, 'one wake-up for the three answers');
  assert.equal(Array.from({ length: RING_SLOTS }, (_, s) => ring.state(s)).filter((st) => st === ANSWERED).length, 3);
  for (let s = 0; s < RING_SLOTS; s++) if (ring.state(s) === ANSWERED) ring.take(s);
  // A steady stream: each job run posts the next, so the thread never runs dry before the last.
  const stream = 2 * ANSWERS_PER_WAKE + 1;
  seq = ring.answeredSeq();
  let posted = 1;
  ring.post(ring.freeSlot(), load(0));
  const wakes: number[] = [];
  ring.drain(1, known, () => {
    wakes.push(ring.answeredSeq() - seq);
    if (posted < stream) ring.post(ring.freeSlot(), load(posted++));
    return { outcome: { bytes: 0, fault: null } };
  });
  assert.equal(wakes, Array.from({ length: stream }, (_, j) => Math.floor(j / ANSWERS_PER_WAKE)), 'a wake-up after every ANSWERS_PER_WAKE answers');
  assert.is(ring.answeredSeq() - seq, 3, 'and one for the last');
});

test('a path longer than PATH_BYTES is refused with ENAMETOOLONG and posts nothing; an answer too long for its slot keeps its code', () => {
  const ring = new IoRing();
  const slot = ring.freeSlot();
  for (const job of [store(1, { to: `/${'x'.repeat(PATH_BYTES)}` }), load(1, { path: `/${'é'.repeat(PATH_BYTES / 2)}` })]) {
    let err: NodeJS.ErrnoException | undefined;
    try {
      ring.post(slot, job);
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    assert.is(err?.code, 'ENAMETOOLONG', `${job.op}: the code`);
    assert.is(ring.state(slot), FREE, `${job.op}: nothing posted`);
  }
  ring.post(slot, store(1));
  ring.claim(0, known);
  ring.answer(slot, { error: { message: 'y'.repeat(2 * TEXT_BYTES), code: 'EIO' } });
  const done = ring.take(slot);
  assert.is(done.error?.code, 'EIO');
  assert.ok(done.error!.message.startsWith('yyy') && done.error!.message.length <= TEXT_BYTES);
});

test('an answer too long for its slot whose escapes or multi-byte characters outgrow a plain cut is still whole JSON; a rename error keeps its outcome and code', () => {
  const ring = new IoRing();
  const slot = ring.freeSlot();
  const answers = [
    { error: { message: `EACCES: permission denied, open '/${'"'.repeat(PATH_BYTES)}'`, code: 'EACCES' } },
    { error: { message: `EIO: i/o error, open '/${'✓'.repeat(PATH_BYTES)}'`, code: 'EIO' } },
    { outcome: { replacedMissing: true, renameError: { message: `EXDEV: cross-device link not permitted, rename '/${'t'.repeat(PATH_BYTES)}' -> '/${'o'.repeat(PATH_BYTES)}'`, code: 'EXDEV' } } },
  ];
  for (const answer of answers) {
    ring.post(slot, store(1));
    ring.claim(0, known);
    ring.answer(slot, answer);
    const done = ring.take(slot) as { error?: { code?: string; message: string }; outcome?: { replacedMissing: boolean; renameError: { code: string; message: string } } };
    if (answer.error !== undefined) {
      assert.is(done.error?.code, answer.error.code);
      assert.ok(answer.error.message.startsWith(done.error!.message.slice(0, -1)), 'the message, cut short');
    } else {
      assert.is(done.outcome?.replacedMissing, true, 'the outcome is kept');
      assert.is(done.outcome?.renameError.code, 'EXDEV', 'the rename error keeps its code (the adapter retries the rename on it)');
      assert.ok(done.outcome!.renameError.message.startsWith('EXDEV: cross-device link not permitted'));
    }
  }
});

test("a slot freed and posted again between a thread's scan and its claim, with a buffer the thread was not sent yet, is given back (not run on a view of no buffer); the thread takes it once it knows the buffer", () => {
  const ring = new IoRing();
  const other = new IoRing(ring.buffer);
  const late = new SharedArrayBuffer(1 << 12);
  const slot = ring.freeSlot();
  ring.post(slot, store(1));
  let raced = false;
  // Thread 0 knows buffer 7 only. Its scan picks the slot; before its compare-exchange, thread 1
  // runs that store, the host takes the answer and posts a load of buffer 8 into the same slot.
  const knownSoFar = (id: number) => {
    if (id === 7 && !raced) {
      raced = true;
      const first = other.claim(1, (b) => (b === 7 ? memory : b === 8 ? late : undefined))!;
      other.answer(first.slot, { outcome: {} });
      ring.take(first.slot);
      ring.post(slot, load(2, { buffer: 8, payload: new Uint8Array(late, 16, 256) }));
    }
    return known(id);
  };
  const seq = ring.postedSeq();
  assert.is(ring.claim(0, knownSoFar), undefined, 'nothing thread 0 can run');
  assert.is(ring.state(slot), POSTED, 'the load is posted again');
  assert.ok(ring.postedSeq() !== seq, 'and the threads are told to look again');
  const claimed = ring.claim(0, (b) => (b === 8 ? late : known(b)))!;
  assert.is(claimed.job.op, 'read');
  assert.is(claimed.job.parts[0].buffer, late, 'the load lands in its own buffer');
  assert.is(claimed.job.parts[0].byteOffset, 16);
  assert.is(claimed.job.parts[0].length, 256);
});

uvuTest.run();

/**
 * Entry of one fs I/O thread (fs-io.ts): runs the jobs of each message it is sent (fs-io-jobs.ts)
 * on this thread alone, one after another, answered together, and the stores and checked loads
 * posted to the I/O ring (fs-io-ring.ts), taking the oldest one it can whenever it is free and
 * answering each in its slot. Blocking calls are the point: this thread is an I/O thread, and
 * doing an object's file calls here, next to its tag and I/O, spares the adapter host one thread
 * hand-off (a libuv request and its answer) per call. It waits for the ring without blocking, so
 * messages still reach it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { run } from './fs-io-jobs.ts';
import { IoRing } from './fs-io-ring.ts';
import type { IoMessage, IoRequest, IoThreadData } from './fs-io.ts';

const port = parentPort!;
const { ring: ringBuffer, number, buffers: sent } = workerData as IoThreadData;
const ring = new IoRing(ringBuffer);
const buffers = new Map(sent);
const known = (id: number) => buffers.get(id);

/** Runs ring jobs until none it can take is posted. */
function drainRing(): void {
  ring.drain(number, known, (job) => {
    const { id: _, ...done } = run(job);
    return done;
  });
}

port.on('message', (request: IoRequest) => {
  if ('forget' in request) {
    buffers.delete(request.forget);
    return;
  }
  if ('buffer' in request) {
    buffers.set(request.id, request.buffer);
    // Jobs of this buffer may be posted already.
    drainRing();
    return;
  }
  port.postMessage({ done: request.jobs.map((job) => run(job)) } satisfies IoMessage);
});
port.postMessage({ ready: true } satisfies IoMessage);

for (;;) {
  // Read before the scan: a post after it bumps the word, so the wait below returns at once.
  const seq = ring.postedSeq();
  drainRing();
  await ring.waitPosted(seq);
}

/**
 * Entry of one fs I/O thread (fs-io.ts): runs the jobs of each message it is sent (fs-io-jobs.ts)
 * on this thread alone, one after another, answered together. Blocking calls are the point: this
 * thread is an I/O thread, and doing an object's file calls here, next to its tag and I/O, spares
 * the adapter host one thread hand-off (a libuv request and its answer) per call.
 */
import { parentPort } from 'node:worker_threads';
import { run } from './fs-io-jobs.ts';
import type { IoBatch, IoMessage } from './fs-io.ts';

const port = parentPort!;

port.on('message', ({ jobs }: IoBatch) => {
  port.postMessage({ done: jobs.map((job) => run(job)) } satisfies IoMessage);
});
port.postMessage({ ready: true } satisfies IoMessage);

// Shared by the l1-*.test.ts files that run real worker threads (l1-worker.fixture.ts): start
// them together, stop them.
import { Worker } from 'node:worker_threads';
import type { WorkerTask } from './l1-worker.fixture.ts';

const FIXTURE = new URL('./l1-worker.launch.mjs', import.meta.url);

/** Started workers and their first messages. */
export interface Started {
  readonly workers: Worker[];
  /** Each worker's first message. */
  readonly results: Promise<unknown[]>;
}

/** Starts one worker per task, releases them together once all are attached, collects their first messages. */
export async function startTogether(tasks: Omit<WorkerTask, 'barrier'>[]): Promise<Started> {
  const barrier = new Int32Array(new SharedArrayBuffer(8));
  const workers = tasks.map((task) => new Worker(FIXTURE, { execArgv: [], workerData: { ...task, barrier } }));
  const results = Promise.all(workers.map((w) => new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  })));
  let failure: unknown;
  results.catch((e: unknown) => { failure = e; });
  while (Atomics.load(barrier, 0) < tasks.length) {
    if (failure !== undefined) {
      await stopAll(workers);
      throw failure;
    }
    const seen = Atomics.load(barrier, 0);
    const wait = Atomics.waitAsync(barrier, 0, seen, 50);
    if (wait.async) await wait.value;
    else await new Promise((r) => setTimeout(r, 1));
  }
  Atomics.store(barrier, 1, 1);
  Atomics.notify(barrier, 1);
  return { workers, results };
}

/** Terminates every worker. */
export async function stopAll(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.terminate()));
}

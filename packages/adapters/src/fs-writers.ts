/**
 * The fs adapter's writer threads: a few worker threads, each of which seals (when asked) and
 * writes one object at a time into a file the adapter opened (fs-writer-worker.ts). The tag and
 * the write of an object run on the same thread, so they share its cache and several objects are
 * sealed at once; on the adapter host's thread a batch was sealed one object after another while
 * libuv's threads wrote. Payloads on a SharedArrayBuffer (L1 slots) are read in place: posting a
 * view shares its memory. Any other part is copied by `postMessage`.
 *
 * File descriptors belong to the process, so the adapter keeps opening, checking, closing and
 * renaming files as before; only the bytes move through these threads.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { workerEntry } from '@kvtier/core/authoring';

const WORKER_URL = workerEntry('./fs-writer-worker', import.meta.url);

/** What is written: the object is the concatenation of `parts`, behind its envelope header when `seal` is set. */
export interface FsObject {
  /** The bytes; exactly one part (the payload) when `seal` is set. */
  readonly parts: readonly Uint8Array[];
  /** The key's 4 digest words: the writer thread writes the envelope header for them first. */
  readonly seal?: Uint32Array;
}

/** A job as posted to a writer thread. */
export interface WriteJob extends FsObject {
  readonly id: number;
  readonly fd: number;
  /** fdatasync before answering. */
  readonly sync: boolean;
}

/** A writer thread's answer to job `id`; `error` when it failed. */
export interface WriteDone {
  readonly id: number;
  readonly error?: { readonly message: string; readonly code?: string };
}

interface Pending {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** One writer thread and its jobs in flight. */
interface Writer {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/** An error as the writer thread reported it, with its errno code (the adapter retries on some). */
function writeError(error: NonNullable<WriteDone['error']>): Error {
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
}

/** A pool of writer threads, started on first use, each held (ref'd) only while it has jobs. */
export class FsWriters {
  readonly #threads: number;
  readonly #writers: Writer[] = [];
  /** Every write not settled yet: `close` waits for them. */
  readonly #inFlight = new Set<Promise<void>>();
  #nextId = 0;
  #closed = false;

  /** `threads`: the most writer threads that run at once (≥ 1). */
  constructor(threads: number) {
    this.#threads = threads;
  }

  /** Writer threads running now (started on demand, ended by {@link close}). */
  get running(): number {
    return this.#writers.length;
  }

  /**
   * Writes `object` into `fd` from offset 0 (and syncs it when `sync`), on the least busy writer
   * thread. Rejects with the thread's error (its errno `code` kept), or when the thread dies.
   */
  write(fd: number, object: FsObject, sync: boolean): Promise<void> {
    if (this.#closed) return Promise.reject(new KvtierError(ErrorCode.CLOSED, 'the fs writer threads are closed'));
    const writer = this.#pick();
    const id = this.#nextId++;
    const job: WriteJob = { id, fd, parts: object.parts, seal: object.seal, sync };
    const written = new Promise<void>((resolve, reject) => {
      if (writer.pending.size === 0) writer.worker.ref();
      writer.pending.set(id, { resolve, reject });
      writer.worker.postMessage(job);
    });
    this.#inFlight.add(written);
    const settled = () => this.#inFlight.delete(written);
    written.then(settled, settled);
    return written;
  }

  /** An idle thread, a new one while fewer than the limit run, else the one with the fewest jobs. */
  #pick(): Writer {
    const idle = this.#writers.find((w) => w.pending.size === 0);
    if (idle !== undefined) return idle;
    if (this.#writers.length < this.#threads) return this.#start();
    return this.#writers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  #start(): Writer {
    const worker = new Worker(WORKER_URL, { execArgv: [] });
    const writer: Writer = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (done: WriteDone) => {
      const job = writer.pending.get(done.id);
      if (job === undefined) return;
      writer.pending.delete(done.id);
      if (writer.pending.size === 0) worker.unref();
      if (done.error === undefined) job.resolve();
      else job.reject(writeError(done.error));
    });
    // A thread that fails or ends fails its jobs and leaves the pool; the next job starts another.
    const lost = (err: Error) => {
      const at = this.#writers.indexOf(writer);
      if (at !== -1) this.#writers.splice(at, 1);
      for (const job of writer.pending.values()) job.reject(err);
      writer.pending.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`an fs writer thread exited (code ${code})`)));
    this.#writers.push(writer);
    return writer;
  }

  /** Waits for the jobs in flight, then ends every thread; later writes reject. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#inFlight);
    await Promise.all(this.#writers.splice(0).map((w) => w.worker.terminate()));
  }
}

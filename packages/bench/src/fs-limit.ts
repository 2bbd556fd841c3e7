/**
 * The fs limits of `kvtier-bench l2` (issue #13): what storing and loading sealed objects cost with
 * no engine and no adapter around them. A few worker threads, each handed views of its objects on
 * a SharedArrayBuffer (as the fs adapter's I/O threads get L1 slot views), do for each object what
 * the adapter's I/O thread does (fs-limit-worker.ts), one message per thread per batch: a store
 * tags and writes it (the same envelope, the same temp file and rename); a load opens it, reads its
 * header and payload into shared memory and checks the envelope, every byte. The engine cannot beat
 * them; its gap to these is the engine's and the adapter's orchestration, and these ones' gap to
 * plain `fs` calls is the tag.
 */
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { digestHex, type DigestBatch } from '@kvtier/core';
import { workerEntry } from '@kvtier/core/authoring';

const WORKER_URL = workerEntry('./fs-limit-worker', import.meta.url);

/** One object to store, as posted to a thread of the limit. */
export interface LimitStore {
  readonly op: 'store';
  /** The temp file to create (it must not exist). */
  readonly temp: string;
  /** The object's name, the temp file renamed once complete. */
  readonly to: string;
  /** The payload, a view on shared memory (posting it shares the memory, copies nothing). */
  readonly payload: Uint8Array;
  /** The key's 4 digest words, for the envelope header. */
  readonly key: Uint32Array;
}

/** One object to load, as posted to a thread of the limit. */
export interface LimitLoad {
  readonly op: 'load';
  /** The object's file. */
  readonly path: string;
  /** Where its payload goes, a view on shared memory as an L1 slot is. */
  readonly target: Uint8Array;
  /** The key's 4 digest words, against which the envelope is checked. */
  readonly key: Uint32Array;
}

/** One job of the limit. */
export type LimitJob = LimitStore | LimitLoad;

/** A thread's answer to one message: how many objects it stored or loaded, or why it stopped. */
export type LimitAnswer = { readonly done: number } | { readonly error: string };

/** The limit's threads and the objects they store and load, under one directory. */
export class FsLimit {
  readonly #dir: string;
  readonly #keys: DigestBatch;
  readonly #payloads: readonly Uint8Array[];
  /** Per object: where a load puts its payload (memory apart from the payloads, as the engine's load slots are). */
  readonly #targets: readonly Uint8Array[];
  readonly #workers: Worker[];
  /** Per thread: rejects once it fails or ends, so that no job waits for an answer that cannot come. */
  readonly #gone: Promise<never>[];
  #temps = 0;

  private constructor(dir: string, keys: DigestBatch, payloads: readonly Uint8Array[], threads: number) {
    this.#dir = dir;
    this.#keys = keys;
    this.#payloads = payloads;
    const targets = new SharedArrayBuffer(payloads.reduce((n, p) => n + p.length, 0));
    let at = 0;
    this.#targets = payloads.map((p) => {
      const view = new Uint8Array(targets, at, p.length);
      at += p.length;
      return view;
    });
    this.#workers = Array.from({ length: threads }, () => new Worker(WORKER_URL, { execArgv: [] }));
    this.#gone = this.#workers.map((worker) => {
      const gone = new Promise<never>((_, reject) => {
        worker.once('error', (err) => reject(new Error(`a thread of the fs limit failed: ${err.message}`, { cause: err })));
        worker.once('exit', (code) => reject(new Error(`a thread of the fs limit ended (exit code ${code})`)));
      });
      // Seen by the jobs that race it; a thread that ends with none in flight is no error.
      gone.catch(() => {});
      return gone;
    });
  }

  /**
   * Starts `threads` threads that store object `i` (`payloads[i]`, on a SharedArrayBuffer, key `i`
   * of `keys`) under `dir`, which is created, and load it back into memory of their own.
   */
  static async open(dir: string, keys: DigestBatch, payloads: readonly Uint8Array[], threads: number): Promise<FsLimit> {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`FsLimit: threads must be a positive integer, got ${threads}`);
    if (keys.length !== 4 * payloads.length) throw new RangeError(`FsLimit: ${keys.length / 4} keys for ${payloads.length} payloads`);
    const copied = payloads.findIndex((p) => !(p.buffer instanceof SharedArrayBuffer));
    // postMessage would copy any other buffer: the limit would then time a copy the engine never makes.
    if (copied !== -1) throw new RangeError(`FsLimit: payload ${copied} is not a view of a SharedArrayBuffer`);
    await mkdir(dir, { recursive: true });
    return new FsLimit(dir, keys, payloads, threads);
  }

  #path(i: number): string {
    return join(this.#dir, `${digestHex(this.#keys, i)}.kv`);
  }

  #key(i: number): Uint32Array {
    return this.#keys.slice(i * 4, i * 4 + 4);
  }

  /** Where load `i` put its payload (what a test checks). */
  loaded(i: number): Uint8Array {
    return this.#targets[i];
  }

  /** Removes every object stored (untimed between rounds). */
  async reset(): Promise<void> {
    await Promise.all(this.#payloads.map((_, i) => rm(this.#path(i), { force: true })));
  }

  /**
   * Stores objects `[from, to)`: dealt round the threads, one message to each, every answer
   * awaited. Rejects with a thread's error, or when a thread has failed or ended (after `close`).
   */
  store(from: number, to: number): Promise<void> {
    return this.#deal(from, to, (i) => {
      const path = this.#path(i);
      return { op: 'store', temp: `${path}.tmp-${this.#temps++}`, to: path, payload: this.#payloads[i], key: this.#key(i) };
    });
  }

  /**
   * Loads objects `[from, to)` (stored before) and checks each envelope, dealt as {@link store}
   * deals. Rejects as {@link store} does, and when an object is missing or fails its check.
   */
  load(from: number, to: number): Promise<void> {
    return this.#deal(from, to, (i) => ({ op: 'load', path: this.#path(i), target: this.#targets[i], key: this.#key(i) }));
  }

  /** Deals jobs `[from, to)` round the threads, one message to each, and awaits every answer. */
  async #deal(from: number, to: number, job: (i: number) => LimitJob): Promise<void> {
    const shares: LimitJob[][] = this.#workers.map(() => []);
    for (let i = from; i < to; i++) shares[(i - from) % shares.length].push(job(i));
    const answers = shares.map(async (jobs, t) => {
      if (jobs.length === 0) return;
      const worker = this.#workers[t];
      const answered = once(worker, 'message') as Promise<[LimitAnswer]>;
      worker.postMessage(jobs);
      const [answer] = await Promise.race([answered, this.#gone[t]]);
      if ('error' in answer) throw new Error(`the fs limit failed: ${answer.error}`);
    });
    await Promise.all(answers);
  }

  /** Ends the threads. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

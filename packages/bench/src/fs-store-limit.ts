/**
 * The fs store limit of `kvtier-bench l2` (issue #13): what storing sealed objects costs with no
 * engine and no adapter around it. A few worker threads, each handed views of its objects on a
 * SharedArrayBuffer (as the fs adapter's I/O threads get L1 slot views), tag and write each object
 * as the adapter's I/O thread does (fs-store-limit-worker.ts): the same envelope, the same temp
 * file and rename, one message per thread per batch. The engine's store cannot beat it; its gap to
 * this is the engine's and the adapter's orchestration, and this one's gap to `writeFile` is the tag.
 */
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { digestHex, type DigestBatch } from '@kvtier/core';
import { workerEntry } from '@kvtier/core/authoring';

const WORKER_URL = workerEntry('./fs-store-limit-worker', import.meta.url);

/** One object to store, as posted to a thread of the limit. */
export interface LimitJob {
  /** The temp file to create (it must not exist). */
  readonly temp: string;
  /** The object's name, the temp file renamed once complete. */
  readonly to: string;
  /** The payload, a view on shared memory (posting it shares the memory, copies nothing). */
  readonly payload: Uint8Array;
  /** The key's 4 digest words, for the envelope header. */
  readonly key: Uint32Array;
}

/** A thread's answer to one message: how many objects it stored, or why it stopped. */
export type LimitAnswer = { readonly stored: number } | { readonly error: string };

/** The limit's threads and the objects they store, under one directory. */
export class FsStoreLimit {
  readonly #dir: string;
  readonly #keys: DigestBatch;
  readonly #payloads: readonly Uint8Array[];
  readonly #workers: Worker[];
  /** Per thread: rejects once it fails or ends, so that no store waits for an answer that cannot come. */
  readonly #gone: Promise<never>[];
  #temps = 0;

  private constructor(dir: string, keys: DigestBatch, payloads: readonly Uint8Array[], threads: number) {
    this.#dir = dir;
    this.#keys = keys;
    this.#payloads = payloads;
    this.#workers = Array.from({ length: threads }, () => new Worker(WORKER_URL, { execArgv: [] }));
    this.#gone = this.#workers.map((worker) => {
      const gone = new Promise<never>((_, reject) => {
        worker.once('error', (err) => reject(new Error(`a thread of the fs store limit failed: ${err.message}`, { cause: err })));
        worker.once('exit', (code) => reject(new Error(`a thread of the fs store limit ended (exit code ${code})`)));
      });
      // Seen by the stores that race it; a thread that ends with none in flight is no error.
      gone.catch(() => {});
      return gone;
    });
  }

  /**
   * Starts `threads` threads that store object `i` (`payloads[i]`, on a SharedArrayBuffer, key `i`
   * of `keys`) under `dir`, which is created.
   */
  static async open(dir: string, keys: DigestBatch, payloads: readonly Uint8Array[], threads: number): Promise<FsStoreLimit> {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`FsStoreLimit: threads must be a positive integer, got ${threads}`);
    if (keys.length !== 4 * payloads.length) throw new RangeError(`FsStoreLimit: ${keys.length / 4} keys for ${payloads.length} payloads`);
    const copied = payloads.findIndex((p) => !(p.buffer instanceof SharedArrayBuffer));
    // postMessage would copy any other buffer: the limit would then time a copy the engine never makes.
    if (copied !== -1) throw new RangeError(`FsStoreLimit: payload ${copied} is not a view of a SharedArrayBuffer`);
    await mkdir(dir, { recursive: true });
    return new FsStoreLimit(dir, keys, payloads, threads);
  }

  #path(i: number): string {
    return join(this.#dir, `${digestHex(this.#keys, i)}.kv`);
  }

  /** Removes every object stored (untimed between rounds). */
  async reset(): Promise<void> {
    await Promise.all(this.#payloads.map((_, i) => rm(this.#path(i), { force: true })));
  }

  /**
   * Stores objects `[from, to)`: dealt round the threads, one message to each, every answer
   * awaited. Rejects with a thread's error, or when a thread has failed or ended (after `close`).
   */
  async store(from: number, to: number): Promise<void> {
    const shares: LimitJob[][] = this.#workers.map(() => []);
    for (let i = from; i < to; i++) {
      const path = this.#path(i);
      shares[(i - from) % shares.length].push({ temp: `${path}.tmp-${this.#temps++}`, to: path, payload: this.#payloads[i], key: this.#keys.slice(i * 4, i * 4 + 4) });
    }
    const answers = shares.map(async (jobs, t) => {
      if (jobs.length === 0) return;
      const worker = this.#workers[t];
      const answered = once(worker, 'message') as Promise<[LimitAnswer]>;
      worker.postMessage(jobs);
      const [answer] = await Promise.race([answered, this.#gone[t]]);
      if ('error' in answer) throw new Error(`the fs store limit failed: ${answer.error}`);
    });
    await Promise.all(answers);
  }

  /** Ends the threads. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

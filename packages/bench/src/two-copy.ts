/**
 * The two-copy limit of a GPU transfer where the device's memory is host memory (lavapipe): a
 * chunk move copies every byte twice (cache buffer <-> staging on the queue thread, staging <-> L1
 * view on the main thread), pipelined over a ring of staging buffers. This moves the same bytes the
 * same way with no WebGPU at all: a worker thread copies source -> staging piece by piece while the
 * calling thread copies staging -> destination, the two handing pieces over through Atomics. A
 * move can at best match it; one memcpy is the limit only while both copies have a free core each.
 */
import { Worker } from 'node:worker_threads';

/** Options of {@link TwoCopyLimit.start}. */
export interface TwoCopyOptions {
  /** Bytes the worker copies into staging, piece by piece (all of them). */
  readonly source: SharedArrayBuffer;
  /** Bytes the calling thread copies out of staging; as long as `source`. */
  readonly destination: Uint8Array;
  /** Most bytes per piece (one staging buffer), ≥ 1. */
  readonly pieceBytes: number;
  /** Staging buffers in the ring (pieces in flight), ≥ 1. */
  readonly stagingBuffers: number;
}

/**
 * A hand-over state only changes when the other thread has copied a whole piece, so a wait this
 * long means the other thread is gone (a worker that threw): fail instead of hanging.
 */
const HANDOVER_TIMEOUT_MS = 30_000;
/** `control[0]`: the run generation the worker waits on (-1 stops it); `control[1 + k]`: 1 while slot k holds a piece. */
const GENERATION = 0;
const STOP = -1;

/**
 * The worker's side, as plain JavaScript evaluated in the worker (no loader, no TypeScript): for
 * each run, copy every piece of `source` into the next staging slot once that slot is empty.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { control, source, staging, pieceBytes, slots } = workerData;
const c = new Int32Array(control);
const src = new Uint8Array(source);
const stg = new Uint8Array(staging);
let seen = 0;
for (;;) {
  Atomics.wait(c, ${GENERATION}, seen);
  seen = Atomics.load(c, ${GENERATION});
  if (seen === ${STOP}) break;
  for (let i = 0, offset = 0; offset < src.length; i++, offset += pieceBytes) {
    const k = i % slots;
    while (Atomics.load(c, 1 + k) !== 0) Atomics.wait(c, 1 + k, 1);
    stg.set(src.subarray(offset, Math.min(offset + pieceBytes, src.length)), k * pieceBytes);
    Atomics.store(c, 1 + k, 1);
    Atomics.notify(c, 1 + k);
  }
}
`;

/** Two threads moving bytes through a staging ring; {@link run} moves them once. */
export class TwoCopyLimit {
  readonly #worker: Worker;
  readonly #control: Int32Array<SharedArrayBuffer>;
  readonly #staging: Uint8Array<SharedArrayBuffer>;
  readonly #destination: Uint8Array;
  readonly #pieceBytes: number;
  readonly #slots: number;

  /** Use {@link TwoCopyLimit.start}, which validates the options and waits for the worker. */
  private constructor(worker: Worker, control: Int32Array<SharedArrayBuffer>, staging: Uint8Array<SharedArrayBuffer>, opts: TwoCopyOptions) {
    this.#worker = worker;
    this.#control = control;
    this.#staging = staging;
    this.#destination = opts.destination;
    this.#pieceBytes = opts.pieceBytes;
    this.#slots = opts.stagingBuffers;
  }

  /** Starts the worker; resolves once it runs. Throws `RangeError` naming a bad option. */
  static async start(opts: TwoCopyOptions): Promise<TwoCopyLimit> {
    const { source, destination, pieceBytes, stagingBuffers } = opts;
    if (!Number.isSafeInteger(pieceBytes) || pieceBytes < 1) throw new RangeError(`TwoCopyLimit: pieceBytes must be a positive integer, got ${pieceBytes}`);
    if (!Number.isSafeInteger(stagingBuffers) || stagingBuffers < 1) throw new RangeError(`TwoCopyLimit: stagingBuffers must be a positive integer, got ${stagingBuffers}`);
    if (destination.byteLength !== source.byteLength) throw new RangeError(`TwoCopyLimit: destination has ${destination.byteLength} bytes, source ${source.byteLength}`);
    const control = new Int32Array(new SharedArrayBuffer(4 * (1 + stagingBuffers)));
    const staging = new Uint8Array(new SharedArrayBuffer(pieceBytes * stagingBuffers));
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control: control.buffer, source, staging: staging.buffer, pieceBytes, slots: stagingBuffers },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new TwoCopyLimit(worker, control, staging, opts);
  }

  /**
   * Moves every byte once: source -> staging on the worker, staging -> destination here. Blocks
   * the calling thread until done; throws if the worker stops handing pieces over.
   */
  run(): void {
    const c = this.#control;
    const total = this.#destination.byteLength;
    Atomics.add(c, GENERATION, 1);
    Atomics.notify(c, GENERATION);
    for (let i = 0, offset = 0; offset < total; i++, offset += this.#pieceBytes) {
      const k = i % this.#slots;
      while (Atomics.load(c, 1 + k) !== 1) {
        if (Atomics.wait(c, 1 + k, 0, HANDOVER_TIMEOUT_MS) === 'timed-out') throw new Error(`TwoCopyLimit: no piece from the worker in ${HANDOVER_TIMEOUT_MS} ms`);
      }
      const n = Math.min(this.#pieceBytes, total - offset);
      this.#destination.set(this.#staging.subarray(k * this.#pieceBytes, k * this.#pieceBytes + n), offset);
      Atomics.store(c, 1 + k, 0);
      Atomics.notify(c, 1 + k);
    }
  }

  /** Stops the worker (also one that already failed) and waits for it to exit. */
  async close(): Promise<void> {
    Atomics.store(this.#control, GENERATION, STOP);
    Atomics.notify(this.#control, GENERATION);
    await this.#worker.terminate();
  }
}

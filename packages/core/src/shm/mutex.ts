/**
 * A futex mutex (L1's index mutex): one word shared by every thread, Drepper's "mutex 2" with the
 * holder's owner id in the word so a dead holder can be identified and the lock broken.
 *
 * Word: 0 = free; `(ownerId << 1) | 1` or `ownerId << 1` = held, with or without possible waiters.
 * Workers sleep in `Atomics.wait` on the word; the main thread must never block (docs/architecture.md §2),
 * so it spins with a growing bound instead. Critical sections are a few hundred nanoseconds per
 * key, with no I/O and no copies, so spinning is brief. Anyone who takes the lock on the
 * contended path sets the waiters bit, so the unlock that follows always notifies a sleeper.
 */
import { isMainThread } from 'node:worker_threads';
import { ErrorCode, KvtierError } from '../errors.ts';

/** Longest a thread waits for the mutex (or a reader gate, reader-gate.ts) before concluding its holder died inside an L1 call. */
export const STALL_MS = 10_000;
/** Sleep slice of a blocked worker between re-checks of the stall deadline. */
const WAIT_SLICE_MS = 100;
const MAX_SPIN = 1 << 12;

/** A lock on one Int32 word of a SharedArrayBuffer, taken as one owner id. */
export class SharedMutex {
  readonly #words: Int32Array;
  readonly #index: number;
  readonly #mine: number;
  readonly #canBlock = !isMainThread;

  /**
   * @param words - the shared words
   * @param index - the mutex word
   * @param ownerId - this thread's owner id (positive)
   */
  constructor(words: Int32Array, index: number, ownerId: number) {
    this.#words = words;
    this.#index = index;
    this.#mine = ownerId << 1;
  }

  /** Takes the mutex; throws `KVT_ERR_TIMEOUT` naming the holder if it is held for over 10 s. */
  lock(): void {
    if (Atomics.compareExchange(this.#words, this.#index, 0, this.#mine) !== 0) this.#lockContended();
  }

  #lockContended(): void {
    const w = this.#words;
    const i = this.#index;
    const taken = this.#mine | 1;
    const deadline = Date.now() + STALL_MS;
    let spin = 16;
    for (;;) {
      let c = Atomics.load(w, i);
      if (c !== 0) {
        if (this.#canBlock) {
          if ((c & 1) === 0) c = Atomics.compareExchange(w, i, c, c | 1) === c ? c | 1 : c;
          if (c & 1) Atomics.wait(w, i, c, WAIT_SLICE_MS);
        } else {
          for (let k = 0; k < spin && Atomics.load(w, i) !== 0; k++);
          if (spin < MAX_SPIN) spin <<= 1;
        }
      }
      if (Atomics.compareExchange(w, i, 0, taken) === 0) return;
      if (Date.now() > deadline) {
        throw new KvtierError(ErrorCode.TIMEOUT, `L1 mutex held by owner ${Atomics.load(w, i) >> 1} for over ${STALL_MS} ms (did a thread die inside an L1 call? reclaimThread releases it)`);
      }
    }
  }

  /** Releases the mutex (held by this thread) and wakes one sleeper if there may be any. */
  unlock(): void {
    if (Atomics.exchange(this.#words, this.#index, 0) & 1) Atomics.notify(this.#words, this.#index, 1);
  }

  /** Releases the mutex if dead owner `ownerId` holds it; true when it did. Wakes every sleeper. */
  static breakIfHeldBy(words: Int32Array, index: number, ownerId: number): boolean {
    const c = Atomics.load(words, index);
    if (c === 0 || c >> 1 !== ownerId || Atomics.compareExchange(words, index, c, 0) !== c) return false;
    Atomics.notify(words, index);
    return true;
  }
}

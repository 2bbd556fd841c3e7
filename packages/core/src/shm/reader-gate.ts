/**
 * A "big reader" gate beside a writer mutex (L1's index mutex): each thread has a reader word of
 * its own, on its own cache line, so readers never write a line another reader writes; a writer
 * (the mutex holder) waits until every reader word is 0.
 *
 * Why it is exclusive (Dekker's pattern over sequentially consistent Atomics): a reader stores 1
 * in its word, then loads the mutex word; a writer takes the mutex (a compare-exchange), then
 * loads every reader word. Of the two, whichever goes second sees the other: the reader sees the
 * mutex held and backs out (storing 0), or the writer sees the reader and waits for its 0. A
 * reader that sees the mutex free owns a section no writer overlaps; readers overlap each other.
 *
 * A reader's section is one batch call with no I/O and no user code, so a writer spins (the main
 * thread must never block, and readers do not notify). A reader that died inside its section
 * leaves its word at 1: the thread that reclaims it clears the word ({@link ReaderGate.clear}),
 * and a writer gives up with `KVT_ERR_TIMEOUT` after 10 s, as the mutex does.
 */
import { ErrorCode, KvtierError } from '../errors.ts';
import { STALL_MS } from './mutex.ts';

/** Int32 words between two readers' words: 64 bytes, one cache line. */
export const READER_STRIDE = 16;
/** Spins between two reads of the clock while waiting. */
const SPINS_PER_CHECK = 1 << 10;

/** The reader words of `readers` threads, each {@link READER_STRIDE} words apart, and the mutex word they defer to. */
export class ReaderGate {
  readonly #words: Int32Array;
  readonly #mutex: number;
  readonly #first: number;
  readonly #readers: number;

  /**
   * @param words - the shared words holding the mutex word and the reader words
   * @param mutexIndex - the writer mutex's word (0 when free)
   * @param firstIndex - reader 0's word; reader t's is `firstIndex + t * READER_STRIDE`
   * @param readers - reader words
   */
  constructor(words: Int32Array, mutexIndex: number, firstIndex: number, readers: number) {
    this.#words = words;
    this.#mutex = mutexIndex;
    this.#first = firstIndex;
    this.#readers = readers;
  }

  /** Enters reader `t`'s section; false (and not entered) when a writer holds the mutex. */
  tryRead(t: number): boolean {
    const w = this.#words;
    const at = this.#first + t * READER_STRIDE;
    Atomics.store(w, at, 1);
    if (Atomics.load(w, this.#mutex) === 0) return true;
    Atomics.store(w, at, 0);
    return false;
  }

  /** Leaves reader `t`'s section (its plain writes become visible to the next writer). */
  leaveRead(t: number): void {
    Atomics.store(this.#words, this.#first + t * READER_STRIDE, 0);
  }

  /**
   * Waits, holding the mutex, until no reader is inside its section; throws `KVT_ERR_TIMEOUT`
   * naming the reader (as owner id `t + 1`) after 10 s. The caller unlocks on a throw.
   */
  awaitReaders(): void {
    const w = this.#words;
    for (let t = 0; t < this.#readers; t++) {
      const at = this.#first + t * READER_STRIDE;
      if (Atomics.load(w, at) === 0) continue;
      const deadline = Date.now() + STALL_MS;
      for (let spin = 1; Atomics.load(w, at) !== 0; spin++) {
        if (spin % SPINS_PER_CHECK === 0 && Date.now() > deadline) {
          throw new KvtierError(ErrorCode.TIMEOUT, `L1 reader owner ${t + 1} stayed inside a read batch for over ${STALL_MS} ms (did its thread die? reclaimThread releases it)`);
        }
      }
    }
  }

  /** Clears reader `t`'s word: for a thread that died inside its section (it reads nothing any more). */
  clear(t: number): void {
    Atomics.store(this.#words, this.#first + t * READER_STRIDE, 0);
  }
}

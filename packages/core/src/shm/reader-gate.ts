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
 * A reader's section is one batch call with no I/O and no user code, so a writer spins a little;
 * then a worker sleeps on the reader's word, having set the reader's WAITING word, and the reader
 * notifies on leaving when it finds WAITING set (Dekker's pattern again: the writer sets WAITING,
 * then rereads the reader word; the reader clears its word, then reads WAITING; no wake-up is
 * lost). Sleeping matters on a machine with more threads than cores: a reader descheduled inside
 * its section would otherwise cost a spinning writer its whole time slice. The main thread must
 * never block: it spins. A reader that died inside its section leaves its word at 1: the thread
 * that reclaims it clears the word ({@link ReaderGate.clear}), and a writer gives up with
 * `KVT_ERR_TIMEOUT` after 10 s, as the mutex does.
 */
import { isMainThread } from 'node:worker_threads';
import { ErrorCode, KvtierError } from '../errors.ts';
import { STALL_MS } from './mutex.ts';

/** Int32 words between two readers' words: 64 bytes, one cache line. */
export const READER_STRIDE = 16;
/** Spins between two reads of the clock while waiting; a worker sleeps once it has spun {@link READER_PATIENCE} times. */
const SPINS_PER_CHECK = 1 << 10;
/** Sleep slice of a waiting worker between re-checks of the stall deadline. */
const WAIT_SLICE_MS = 100;
/**
 * Loads of the mutex word a reader spends waiting out a writer before it gives up on the read
 * section (tens of microseconds: a fold and one batch under the mutex take about that).
 */
const READER_PATIENCE = 1 << 14;
/** Where, from a reader's word, is its WAITING word (set while a writer sleeps on the reader's word). */
export const WAITING_OFFSET = 2;

/** The reader words of `readers` threads, each {@link READER_STRIDE} words apart, and the mutex word they defer to. */
export class ReaderGate {
  readonly #words: Int32Array;
  readonly #mutex: number;
  readonly #first: number;
  readonly #readers: number;
  readonly #canBlock = !isMainThread;

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

  /**
   * Enters reader `t`'s section like {@link tryRead}, but waits out a writer's hold first (spinning
   * on the mutex word, up to {@link READER_PATIENCE} loads); false when the mutex stays held.
   *
   * Why wait instead of taking the mutex path at once: two reader threads whose read batches fall
   * back to the mutex whenever they find it held form a convoy. Each one's hold makes the other's
   * next batch fail the gate and queue on the mutex, so after the first fold (once per clock
   * tick) both run every batch under the mutex, with a sleep and a wake-up at each hand-over:
   * measured, two threads read 0.15× as many keys per second as one.
   */
  read(t: number): boolean {
    const w = this.#words;
    let spins = 0;
    for (;;) {
      if (this.tryRead(t)) return true;
      while (Atomics.load(w, this.#mutex) !== 0) if (++spins >= READER_PATIENCE) return false;
    }
  }

  /** Leaves reader `t`'s section (its plain writes become visible to the next writer), waking a writer that sleeps on it. */
  leaveRead(t: number): void {
    const w = this.#words;
    const at = this.#first + t * READER_STRIDE;
    Atomics.store(w, at, 0);
    if (Atomics.load(w, at + WAITING_OFFSET) !== 0) Atomics.notify(w, at);
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
        if (spin % SPINS_PER_CHECK !== 0) continue;
        if (Date.now() > deadline) {
          throw new KvtierError(ErrorCode.TIMEOUT, `L1 reader owner ${t + 1} stayed inside a read batch for over ${STALL_MS} ms (did its thread die? reclaimThread releases it)`);
        }
        if (this.#canBlock && spin >= READER_PATIENCE) this.#sleepOn(at);
      }
    }
  }

  /** Sleeps (a worker) until the reader word at `at` is 0 or a slice passes. */
  #sleepOn(at: number): void {
    const w = this.#words;
    Atomics.store(w, at + WAITING_OFFSET, 1);
    if (Atomics.load(w, at) !== 0) Atomics.wait(w, at, 1, WAIT_SLICE_MS);
    Atomics.store(w, at + WAITING_OFFSET, 0);
  }

  /** Clears reader `t`'s word: for a thread that died inside its section (it reads nothing any more). */
  clear(t: number): void {
    this.leaveRead(t);
  }
}

/**
 * The wake channels of L1: a wake word that wakers bump and waiters sleep on, and a waiter count
 * beside it so that wakers skip the costly notify while nobody waits. Three channels exist:
 * dirty (the store worker), emergency (the eviction worker) and stored (`flush`).
 */
import { isMainThread } from 'node:worker_threads';
import { invalidArgument } from '../errors.ts';

/** Throws INVALID_ARGUMENT unless `timeoutMs` is a non-negative number. */
export function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) invalidArgument(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
}

/** Throws INVALID_ARGUMENT on the main thread, which must never block (DESIGN.md §2). */
export function refuseMainThread(what: string): void {
  if (isMainThread) invalidArgument(`${what} blocks the thread; the main thread must use its Async form`);
}

/** One wake word and its waiter count in the shared header. */
export class WakeChannel {
  readonly #words: Int32Array;
  readonly #word: number;
  readonly #waiters: number;

  /**
   * @param words - the shared header words
   * @param word - index of the wake word
   * @param waiters - index of its waiter count
   */
  constructor(words: Int32Array, word: number, waiters: number) {
    this.#words = words;
    this.#word = word;
    this.#waiters = waiters;
  }

  /** How many times the channel was woken so far (wrapping). */
  seq(): number {
    return Atomics.load(this.#words, this.#word);
  }

  /**
   * Bumps the wake word, notifying only if someone waits. Waiters register before reading the
   * word and the wait compares it atomically, so a bump is never missed: either the waker sees
   * the waiter registered, or the waiter sees the bumped word.
   */
  wake(): void {
    Atomics.add(this.#words, this.#word, 1);
    if (Atomics.load(this.#words, this.#waiters) > 0) Atomics.notify(this.#words, this.#word);
  }

  /**
   * Blocks until a wake after `seq`, or `timeoutMs`. With `seq` null the word is read after
   * registering, and `ready` (when given) is checked then: a wake it would miss already happened.
   */
  wait(seq: number | null, timeoutMs: number, ready?: () => boolean): void {
    const w = this.#words;
    Atomics.add(w, this.#waiters, 1);
    try {
      const s = seq ?? Atomics.load(w, this.#word);
      if (ready === undefined || !ready()) Atomics.wait(w, this.#word, s, timeoutMs);
    } finally {
      Atomics.sub(w, this.#waiters, 1);
    }
  }

  /** As {@link wait} without blocking the thread. */
  async waitAsync(seq: number | null, timeoutMs: number, ready?: () => boolean): Promise<void> {
    const w = this.#words;
    Atomics.add(w, this.#waiters, 1);
    try {
      const s = seq ?? Atomics.load(w, this.#word);
      if (ready === undefined || !ready()) await settle(Atomics.waitAsync(w, this.#word, s, timeoutMs));
    } finally {
      Atomics.sub(w, this.#waiters, 1);
    }
  }
}

async function settle(result: ReturnType<typeof Atomics.waitAsync>): Promise<void> {
  if (!result.async) return;
  // A pending waitAsync does not keep Node alive; this ref'd timer does, until it settles.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await result.value;
  } finally {
    clearInterval(keepAlive);
  }
}

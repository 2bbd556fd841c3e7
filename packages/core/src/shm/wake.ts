/**
 * The one wake primitive of kvtier's shared memory: a word that waiters watch and wakers bump
 * ({@link waitWord}, {@link bumpWord}), and the same with a waiter count ({@link WakeChannel}).
 * Async waits never block (`Atomics.waitAsync`), so they are safe on the main thread and in
 * workers that serve messages; only {@link WakeChannel.wait} blocks, for workers that sleep.
 */

/**
 * Resolves once `words[index]` is no longer `value` (or was not to begin with), or after
 * `timeoutMs` (Infinity: no timeout). Uses `Atomics.waitAsync`, so the event loop keeps running.
 * `keepAlive` holds a ref'd timer while waiting: a pending waitAsync alone does not keep Node alive.
 */
export async function waitWord(words: Int32Array, index: number, value: number, timeoutMs: number, keepAlive = false): Promise<void> {
  const r = Atomics.waitAsync(words, index, value, timeoutMs);
  if (!r.async) return;
  const timer = keepAlive ? setInterval(() => {}, 1 << 30) : undefined;
  try {
    await r.value;
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
}

/** Bumps `words[index]` and wakes every waiter on it. */
export function bumpWord(words: Int32Array, index: number): void {
  Atomics.add(words, index, 1);
  Atomics.notify(words, index);
}

/**
 * A wake word with a waiter count beside it, so wakers skip the costly notify while nobody waits
 * (L1's dirty, emergency and stored channels).
 */
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

  /** Wakes every waiter without counting a wake: each rechecks what it waits for (a stop flag, say). */
  interrupt(): void {
    Atomics.notify(this.#words, this.#word);
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
      if (ready === undefined || !ready()) await waitWord(w, this.#word, s, timeoutMs, true);
    } finally {
      Atomics.sub(w, this.#waiters, 1);
    }
  }
}

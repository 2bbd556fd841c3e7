/**
 * The one wake primitive of kvtier's shared memory: a word that waiters watch and wakers bump.
 * Waits never block (`Atomics.waitAsync`), so they are safe on the main thread and in workers that
 * serve messages.
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

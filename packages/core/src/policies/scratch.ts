/**
 * The policies' per-batch scratch arrays are reused, not reallocated. Emptying one with
 * `array.length = 0` is a call into the V8 runtime (about 70 ns, measured with Node 20), paid per
 * array and batch: up to 40 times per request in `adaptive` and its miniatures. Popping the few
 * entries a batch leaves is inlined (a few ns each).
 */

/** Empties a scratch array. */
export function clear(array: unknown[]): void {
  while (array.length > 0) array.pop();
}

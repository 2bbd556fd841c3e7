/** What the id-indexed typed arrays of the list policies share (shared-keys.ts, key-queues.ts, prefix-forest.ts). */

/** "No id": the end of a queue, or a key that is not tracked. */
export const NONE = -1;

/** `larger` with `old` copied to its start: a per-id array grown by doubling. */
export function grown<T extends Int32Array | Uint32Array | Uint8Array | Float64Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
}

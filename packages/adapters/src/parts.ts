/** Scatter/gather lists: an object is the concatenation of its parts. */

/** Total bytes of `parts`. */
export function totalLength(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Copies `bytes` into `parts` in order, as far as they reach; returns bytes copied. */
export function copyInto(bytes: Uint8Array, parts: readonly Uint8Array[]): number {
  let offset = 0;
  for (const part of parts) {
    if (offset >= bytes.length) break;
    const n = Math.min(part.length, bytes.length - offset);
    part.set(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return offset;
}

/** The parts that remain after skipping the first `skip` bytes (views, no copies). */
export function skipBytes(parts: readonly Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    out.push(skip > 0 ? part.subarray(skip) : part);
    skip = 0;
  }
  return out;
}

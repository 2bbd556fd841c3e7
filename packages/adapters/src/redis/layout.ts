/**
 * How an object (envelope header + payload) is laid out in the server: one hash per object with
 * two fields, `b` (body) and `t` (tail), written by one `HSET` (atomic) and read by one `HMGET`.
 *
 * Why two fields: the server's allocator (jemalloc) rounds every allocation up to a size class,
 * four per power of two. kvtier's payloads are usually a power of two (1 or 4 MiB), so the
 * object is 64 bytes over one, and as one string value it would take the next class: +25%
 * (measured: 1,310,768 bytes for a 1 MiB value). The body is cut 64 bytes under the largest size
 * class that fits (room for the value's own header), the few bytes left go to the tail, and the
 * object costs what it carries plus ~0.01%.
 */
import { skipBytes } from '../parts.ts';

/** Name of the body field. */
export const BODY_FIELD = 'b';
/** Name of the tail field. */
export const TAIL_FIELD = 't';
/** Bytes kept free under a size class for the allocation's own header (sds header + NUL). */
const CLASS_SLACK = 64;

/** The largest allocator size class ≤ `n` (four classes per power of two, 2^k × {1, 1.25, 1.5, 1.75}). */
export function sizeClassAtMost(n: number): number {
  if (n < 16) return n;
  const power = 2 ** Math.floor(Math.log2(n));
  const step = power / 4;
  return power + Math.floor((n - power) / step) * step;
}

/** Bytes of an object of `length` bytes that go in the body field; the rest goes in the tail. */
export function bodyLength(length: number): number {
  if (length <= CLASS_SLACK * 2) return length;
  return sizeClassAtMost(length + CLASS_SLACK) - CLASS_SLACK;
}

/** The bytes `[from, to)` of the concatenation of `parts`, as views. */
export function partsRange(parts: readonly Uint8Array[], from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = to - from;
  for (const part of skipBytes(parts, from)) {
    if (left <= 0) break;
    out.push(part.length > left ? part.subarray(0, left) : part);
    left -= Math.min(left, part.length);
  }
  return out;
}

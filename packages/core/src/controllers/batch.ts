/** Small helpers for slicing digest batches and their per-key arrays by key index. */
import type { DigestBatch } from '../l1/api.ts';

/** Keys in a digest batch. */
export function keyCount(keys: DigestBatch): number {
  return keys.length >>> 2;
}

/** The keys at `indices` (in that order) as a new batch. */
export function pickKeys(keys: DigestBatch, indices: readonly number[]): DigestBatch {
  const out = new Uint32Array(indices.length * 4);
  for (let j = 0; j < indices.length; j++) out.set(keys.subarray(indices[j] * 4, indices[j] * 4 + 4), j * 4);
  return out;
}

/** Keys [from, to) as a view on the same words. */
export function rangeKeys(keys: DigestBatch, from: number, to: number): DigestBatch {
  return keys.subarray(from * 4, to * 4);
}

/** The entries of a per-key array at `indices`, in a new array of the same kind. */
export function pickValues<T extends Int32Array | Uint32Array | Uint8Array>(values: T, indices: readonly number[]): T {
  const out = new (values.constructor as new (n: number) => T)(indices.length);
  for (let j = 0; j < indices.length; j++) out[j] = values[indices[j]];
  return out;
}

/** A string naming key `i` of a batch, for maps keyed by digest. */
export function keyId(keys: DigestBatch, i: number): string {
  const at = i * 4;
  return `${keys[at].toString(16)}.${keys[at + 1].toString(16)}.${keys[at + 2].toString(16)}.${keys[at + 3].toString(16)}`;
}

/** Indices 0..n-1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * `DigestBatch`: how every layer of kvtier passes keys — the 16-byte digests of N keys packed as
 * 4 little-endian u32 words each, in one `Uint32Array` (key i = words `[4i, 4i + 4)`), so a batch
 * crosses threads and shared memory without a copy per key. Everything that counts, checks,
 * slices or names keys of a batch is here, so there is one way to do each.
 */
import { invalidArgument } from './errors.ts';

/** The digests of N keys, 4 u32 words per key (see the module comment). */
export type DigestBatch = Uint32Array;

/** Words per key in a {@link DigestBatch}. */
export const WORDS_PER_KEY = 4;

/** Keys in a batch. */
export function keyCount(keys: DigestBatch): number {
  return keys.length >>> 2;
}

/** Throws INVALID_ARGUMENT naming `field` unless `batch` is a Uint32Array of whole digests. */
export function assertDigestBatch(batch: unknown, field = 'keys'): asserts batch is DigestBatch {
  if (!(batch instanceof Uint32Array)) invalidArgument(`${field} must be a DigestBatch (Uint32Array, 4 words per key)`);
  if (batch.length % WORDS_PER_KEY !== 0) invalidArgument(`${field} has ${batch.length} words, not a multiple of 4 (4 words per key)`);
}

/** The keys at `indices` (in that order) as a new batch. */
export function pickKeys(keys: DigestBatch, indices: readonly number[]): DigestBatch {
  const out = new Uint32Array(indices.length * WORDS_PER_KEY);
  for (let j = 0; j < indices.length; j++) out.set(keys.subarray(indices[j] * WORDS_PER_KEY, (indices[j] + 1) * WORDS_PER_KEY), j * WORDS_PER_KEY);
  return out;
}

/** Keys [from, to) as a view on the same words. */
export function rangeKeys(keys: DigestBatch, from: number, to: number): DigestBatch {
  return keys.subarray(from * WORDS_PER_KEY, to * WORDS_PER_KEY);
}

/** The entries of a per-key array at `indices`, in a new array of the same kind. */
export function pickValues<T extends Int32Array | Uint32Array | Uint8Array>(values: T, indices: readonly number[]): T {
  const out = new (values.constructor as new (n: number) => T)(indices.length);
  for (let j = 0; j < indices.length; j++) out[j] = values[indices[j]];
  return out;
}

/** A cheap string naming key `i` of a batch, for maps keyed by digest inside one process. */
export function keyId(keys: DigestBatch, i: number): string {
  const at = i * WORDS_PER_KEY;
  return `${keys[at].toString(16)}.${keys[at + 1].toString(16)}.${keys[at + 2].toString(16)}.${keys[at + 3].toString(16)}`;
}

/** The batch of keys named by {@link keyId} strings, in order. */
export function keysFromIds(ids: readonly string[]): DigestBatch {
  const out = new Uint32Array(ids.length * WORDS_PER_KEY);
  ids.forEach((id, i) => id.split('.').forEach((hex, w) => { out[i * WORDS_PER_KEY + w] = parseInt(hex, 16); }));
  return out;
}

/** The 16 digest bytes of key `i` of `batch` as 32 lowercase hex characters: the name users and logs see. */
export function digestHex(batch: DigestBatch, i: number): string {
  assertDigestBatch(batch, 'batch');
  const count = keyCount(batch);
  if (!Number.isInteger(i) || i < 0 || i >= count) invalidArgument(`index ${String(i)} is outside the batch of ${count} keys`);
  let s = '';
  for (let w = 0; w < WORDS_PER_KEY; w++) {
    const v = batch[i * WORDS_PER_KEY + w];
    for (let b = 0; b < 4; b++) s += ((v >>> (b * 8)) & 0xff).toString(16).padStart(2, '0');
  }
  return s;
}

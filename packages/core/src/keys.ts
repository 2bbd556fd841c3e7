/**
 * Object keys (docs/architecture.md §4): chunk hashes over token sequences, name validation, and the 128-bit
 * digests the L1 index and L2 adapters key on.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, KvtierError, invalidArgument } from './errors.ts';
import { WORDS_PER_KEY, type DigestBatch } from './digest-batch.ts';

/** One KV chunk of one model shard: the unit every tier stores. */
export interface ObjectKey {
  /** Model name; validated by {@link validateModelName}. */
  readonly model: string;
  /** The tensor-parallel rank whose KV shard this is (a u32). */
  readonly kvRank: number;
  /** The rolling prefix hash of the chunk (32 bytes, from {@link chunkHashes}). */
  readonly chunkHash: Uint8Array;
  /** Tenant isolation salt; absent and `''` are the same (no salt). */
  readonly cacheSalt?: string;
}

/** Options of {@link chunkHashes} and {@link objectKeys}. */
export interface ChunkOptions {
  /** Tokens per chunk; a positive integer, default 256. */
  readonly chunkSize?: number;
  /** Also hash a trailing chunk shorter than `chunkSize`; default false. */
  readonly includePartial?: boolean;
}

/** Bytes in a chunk hash. */
export const CHUNK_HASH_BYTES = 32;
/** Bytes in a key digest. */
export const DIGEST_BYTES = 16;
/** Longest model name or salt, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 256;
/** Default tokens per chunk. */
export const DEFAULT_CHUNK_SIZE = 256;

/**
 * h[-1] of the rolling chunk hash: SHA-256 of the ASCII string `kvtier chunk hash v1`. Changing it
 * changes every key, so it is versioned in its own text.
 */
export const CHUNK_HASH_SEED: Uint8Array = new Uint8Array(createHash('sha256').update('kvtier chunk hash v1').digest());

const KEY_DOMAIN = Buffer.from('kvtier key digest v1\0', 'ascii');
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function keyError(field: string, problem: string): never {
  throw new KvtierError(ErrorCode.INVALID_KEY, `${field}: ${problem}`);
}

function validateName(field: string, value: unknown, allowEmpty: boolean): void {
  if (typeof value !== 'string') keyError(field, `must be a string, got ${typeof value}`);
  if (value.length === 0) {
    if (allowEmpty) return;
    keyError(field, 'must not be empty');
  }
  // UTF-8 encodes every lone surrogate as U+FFFD, so 'a\uD800', 'a\uDBFF' and 'a\uFFFD' would
  // share their bytes, and so their digests: only well-formed strings encode injectively.
  if (!value.isWellFormed()) keyError(field, `must be well-formed Unicode, got a lone surrogate in ${JSON.stringify(value)}`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_NAME_BYTES) keyError(field, `is ${bytes} bytes long, the limit is ${MAX_NAME_BYTES}`);
  if (value.includes('/')) keyError(field, `must not contain '/' (got ${JSON.stringify(value)})`);
  if (value.includes('\\')) keyError(field, `must not contain '\\' (got ${JSON.stringify(value)})`);
  if (value.includes('\0')) keyError(field, 'must not contain NUL');
  // With no separators allowed, the whole name is one path segment; adapters use it in paths.
  if (value === '.' || value === '..') keyError(field, `must not be a '${value}' path segment`);
}

/** Throws INVALID_KEY naming `model` unless `name` is a non-empty, bounded, path-safe string. */
export function validateModelName(name: unknown): asserts name is string {
  validateName('model', name, false);
}

/** Throws INVALID_KEY naming `cacheSalt` unless `salt` is a bounded, path-safe string (may be empty). */
export function validateSalt(salt: unknown): asserts salt is string {
  validateName('cacheSalt', salt, true);
}

function validateKvRank(kvRank: unknown): asserts kvRank is number {
  if (typeof kvRank !== 'number' || !Number.isInteger(kvRank) || kvRank < 0 || kvRank > 0xffffffff) {
    keyError('kvRank', `must be an integer in [0, 2^32), got ${String(kvRank)}`);
  }
}

function validateChunkHash(hash: unknown): asserts hash is Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== CHUNK_HASH_BYTES) {
    keyError('chunkHash', `must be a Uint8Array of ${CHUNK_HASH_BYTES} bytes`);
  }
}

/** Throws INVALID_KEY naming the first bad field of `key`. */
export function validateKey(key: ObjectKey): void {
  if (key === null || typeof key !== 'object') keyError('key', 'must be an object');
  validateModelName(key.model);
  validateKvRank(key.kvRank);
  validateChunkHash(key.chunkHash);
  if (key.cacheSalt !== undefined) validateSalt(key.cacheSalt);
}

function chunkSizeOf(opts: ChunkOptions): number {
  const size = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(size) || size <= 0) invalidArgument(`chunkSize must be a positive integer, got ${String(size)}`);
  return size;
}

/**
 * The little-endian u32 bytes of `tokens[start, end)`. Typed arrays of 32-bit integers are viewed
 * in place (Int32 tokens hash as their two's-complement u32); plain arrays are checked and copied.
 */
function tokenBytes(tokens: ArrayLike<number>, start: number, end: number, scratch: Uint32Array): Uint8Array {
  if (LITTLE_ENDIAN && (tokens instanceof Uint32Array || tokens instanceof Int32Array)) {
    return new Uint8Array(tokens.buffer, tokens.byteOffset + start * 4, (end - start) * 4);
  }
  for (let i = start; i < end; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < -0x80000000 || t > 0xffffffff) invalidArgument(`tokens[${i}] must be a 32-bit integer, got ${String(t)}`);
    scratch[i - start] = t >>> 0;
  }
  const bytes = new Uint8Array(scratch.buffer, 0, (end - start) * 4);
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(scratch.buffer);
    for (let i = 0; i < end - start; i++) dv.setUint32(i * 4, scratch[i], true);
  }
  return bytes;
}

/**
 * Rolling prefix hashes of `tokens`: `h[i] = SHA-256(h[i-1] ‖ chunk i as little-endian u32)`,
 * `h[-1] = ` {@link CHUNK_HASH_SEED}. Chunk i covers tokens `[i·chunkSize, (i+1)·chunkSize)`; a
 * shorter trailing chunk is hashed only with `includePartial`. Each hash names its whole prefix.
 */
export function chunkHashes(tokens: ArrayLike<number>, opts: ChunkOptions = {}): Uint8Array[] {
  if (tokens === null || typeof tokens !== 'object' || typeof tokens.length !== 'number') invalidArgument('tokens must be an array of integers');
  const chunkSize = chunkSizeOf(opts);
  const full = Math.floor(tokens.length / chunkSize);
  const count = opts.includePartial && tokens.length % chunkSize !== 0 ? full + 1 : full;
  const scratch = new Uint32Array(chunkSize);
  const out: Uint8Array[] = [];
  let prev = CHUNK_HASH_SEED;
  for (let i = 0; i < count; i++) {
    const start = i * chunkSize;
    const end = Math.min(start + chunkSize, tokens.length);
    const h = createHash('sha256').update(prev).update(tokenBytes(tokens, start, end, scratch)).digest();
    prev = new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    out.push(prev);
  }
  return out;
}

function lengthPrefixed(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * The 128-bit digest of a whole key: the first 16 bytes of SHA-256 over a versioned domain tag,
 * then model and salt each length-prefixed, kvRank as u32 and the 32-byte chunk hash. The length
 * prefixes make the encoding injective, so distinct keys differ in what is hashed.
 */
export function digestKey(key: ObjectKey): Uint8Array {
  validateKey(key);
  const rank = Buffer.allocUnsafe(4);
  rank.writeUInt32LE(key.kvRank, 0);
  const h = createHash('sha256')
    .update(KEY_DOMAIN)
    .update(lengthPrefixed(key.model))
    .update(rank)
    .update(lengthPrefixed(key.cacheSalt ?? ''))
    .update(key.chunkHash)
    .digest();
  return new Uint8Array(h.buffer, h.byteOffset, DIGEST_BYTES).slice();
}

/**
 * Packs keys (or their 16-byte digests) into a {@link DigestBatch}: 4 little-endian u32 words per
 * key, in input order.
 */
export function digestBatch(keys: readonly ObjectKey[] | readonly Uint8Array[]): DigestBatch {
  if (!Array.isArray(keys)) invalidArgument('keys must be an array of ObjectKey or 16-byte digests');
  const out = new Uint32Array(keys.length * WORDS_PER_KEY);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    let d: Uint8Array;
    if (k instanceof Uint8Array) {
      if (k.length !== DIGEST_BYTES) invalidArgument(`keys[${i}] is a Uint8Array of ${k.length} bytes; a digest has ${DIGEST_BYTES}`);
      d = k;
    } else {
      d = digestKey(k);
    }
    for (let w = 0; w < WORDS_PER_KEY; w++) {
      out[i * WORDS_PER_KEY + w] = d[w * 4] | (d[w * 4 + 1] << 8) | (d[w * 4 + 2] << 16) | (d[w * 4 + 3] << 24);
    }
  }
  return out;
}

/** The keys of every chunk of `tokens` for one model shard (see {@link chunkHashes}). */
export function objectKeys(
  model: string,
  kvRank: number,
  tokens: ArrayLike<number>,
  opts: ChunkOptions & { readonly cacheSalt?: string } = {},
): ObjectKey[] {
  validateModelName(model);
  validateKvRank(kvRank);
  if (opts.cacheSalt !== undefined) validateSalt(opts.cacheSalt);
  return chunkHashes(tokens, opts).map((chunkHash) =>
    opts.cacheSalt === undefined ? { model, kvRank, chunkHash } : { model, kvRank, chunkHash, cacheSalt: opts.cacheSalt },
  );
}

// Keys of the sharing test: chunk keys of one model and token run under a cache salt, as two
// engine processes serving the same prompts (and the same salt, or not) compute them.
import { digestBatch, objectKeys, type DigestBatch } from '@kvtier/core';

/** Chunk size of the shared prompts. */
const CHUNK_TOKENS = 16;

/** The keys of `chunks` chunks of a prompt whose tokens start at `first`, under `salt`. */
export function saltedKeys(salt: string, first: number, chunks: number): DigestBatch {
  const tokens = Uint32Array.from({ length: chunks * CHUNK_TOKENS }, (_, i) => first + i * 7);
  return digestBatch(objectKeys('shared-model', 0, tokens, { chunkSize: CHUNK_TOKENS, cacheSalt: salt }));
}

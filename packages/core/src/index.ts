// @kvtier/core, for users: the `KvCache` facade, keys, errors and config, and the L1 view the GPU
// connector works on. Adapter and policy authors: `@kvtier/core/authoring`. Bench and tests:
// `@kvtier/core/testing`. Keep this list at 50 names at most.
export { ErrorCode, KvtierError, type ErrorCodeString } from './errors.ts';
export { KvCache, type Keys, type KvCacheStatus, type OpenOptions, type PrefetchHandle, type PrefetchOutcome } from './engine/kv-cache.ts';
export { MetricsServer, type ServeOptions } from './http/metrics-server.ts';
export { stderrLogger, type Logger } from './logger.ts';
export {
  CHUNK_HASH_SEED, CHUNK_HASH_BYTES, DIGEST_BYTES, DEFAULT_CHUNK_SIZE, MAX_NAME_BYTES,
  chunkHashes, digestKey, digestBatch, objectKeys, validateKey, validateModelName, validateSalt,
  type ObjectKey, type ChunkOptions,
} from './keys.ts';
export { assertDigestBatch, digestHex, keyCount, pickKeys, rangeKeys } from './digest-batch.ts';
export {
  L1Error, type L1, type L1ErrorCode, type L1KeyState, type L1SlotResult, type L1Usage, type DigestBatch, type SlotRef, type WriteMode,
} from './l1/api.ts';
export { L1_DEFAULTS, type L1Options } from './l1/l1-config.ts';
export { validateConfig, CONFIG_DEFAULTS, type KvCacheConfig, type EvictionConfig } from './config.ts';
export { loadConfig } from './load-config.ts';
export type { AdapterConfig, L2EvictionConfig } from './l2/adapter.ts';

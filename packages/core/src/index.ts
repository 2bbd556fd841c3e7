// The public API of @kvtier/core. Export what users and sibling packages need, nothing else.
export { ErrorCode, KvtierError, configError, invalidArgument, type ErrorCodeString } from './errors.ts';
export { withDeadline } from './deadline.ts';
export {
  L1Error, L1_ERROR_NAMES, NO_SLOT, L1EventKind,
  type L1, type L1ErrorCode, type L1KeyState, type L1SlotResult, type L1Usage, type DigestBatch, type SlotRef, type WriteMode, type L1EventKindCode,
} from './l1/api.ts';
export {
  L1Manager, type L1Handle, type L1DirtyBatch, type L1ReclaimResult, type L1ExpiryResult, type L1Status,
} from './l1/l1-manager.ts';
export { L1_DEFAULTS, type L1Options, type ResolvedL1Config } from './l1/l1-config.ts';
export {
  CHUNK_HASH_SEED, CHUNK_HASH_BYTES, DIGEST_BYTES, DEFAULT_CHUNK_SIZE, MAX_NAME_BYTES,
  chunkHashes, digestKey, digestBatch, objectKeys, validateKey, validateModelName, validateSalt,
  type ObjectKey, type ChunkOptions,
} from './keys.ts';
export { digestHex, assertDigestBatch, keyCount, pickKeys, rangeKeys, WORDS_PER_KEY } from './digest-batch.ts';
export { readLockPrefix, type LockedL1Prefix } from './l1/prefix-lock.ts';
export { Bitmap } from './shared/bitmap.ts';
export {
  victimCount, ratioForCount, createEvictionPolicy, evictionPolicyNames, registerEvictionPolicy,
  LruPolicy, ArcPolicy, S3FifoPolicy, NoopPolicy, replayPolicy, replayBelady, type ReplayResult, type ChunkTrace,
  createStorePolicy, registerStorePolicy, storePolicyNames, createPrefetchPolicy, registerPrefetchPolicy, prefetchPolicyNames,
  type EvictionPolicy, type EvictionPolicyFactory, type EvictionPolicyOptions, type StorePolicy, type StorePolicyFactory,
  type AdapterLookup, type PrefetchLookups, type PrefetchPolicy, type PrefetchPolicyFactory,
  registerPolicyModule, registeredPolicyModules, type PolicyModule,
} from './policies/index.ts';
export {
  registerAdapterType, registerAdapterTypes, registeredAdapterTypes, adapterModuleUrl, adapterModule, importAdapterModule,
} from './l2/registry.ts';
export { validateAdapterConfig } from './l2/config.ts';
export { checkInteger, checkNumber, checkString } from './validate.ts';
export { HEADER_BYTES, ENVELOPE_VERSION, type EnvelopeFault } from './l2/envelope.ts';
export { L2EventKind, type L2EventKindCode, type L2EventSink } from './l2/events.ts';
export { AdapterHost, type AdapterHostOptions, type SlotViews } from './l2/host.ts';
export { ADAPTER_HOST_METHODS, type AdapterHostApi, type AdapterHostMethod, type BitmapData, type L2Usage } from './l2/host-api.ts';
export { codedHostApi, callOn, type ErrorCoding, type HostCall } from './l2/coded-errors.ts';
export { ServedAdapterHost, type AdapterHostSpec } from './l2/serve.ts';
export { AdapterHostThread } from './l2/host-thread.ts';
export type { AdapterConfig, AdapterContext, AdapterModule, L2Adapter, L2EvictionConfig, L2Status } from './l2/adapter.ts';
export { KvCache, type Keys, type KvCacheStatus, type PrefetchHandle, type PrefetchOutcome } from './engine/kv-cache.ts';
export { validateConfig, CONFIG_DEFAULTS, type KvCacheConfig, type EvictionConfig, type StoreConfig } from './config.ts';
export { Metrics, Counter, AdapterCounter, AdapterOp, FailureReason, WorkerKind, Histogram } from './metrics.ts';

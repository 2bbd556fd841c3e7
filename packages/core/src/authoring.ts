// @kvtier/core/authoring, for adapter and policy authors: the L2 adapter contract and its host, the
// adapter and policy registries, policy interfaces and the built-in policies, the config schema of
// an adapter block and its field schemas, the integrity envelope's constants and L2 events. Users: `@kvtier/core`.
export { configError, invalidArgument } from './errors.ts';
export { withDeadline } from './deadline.ts';
export { siblingModule, workerEntry } from './module-url.ts';
export { resolveLogger } from './logger.ts';
export { Bitmap } from './shm/bitmap.ts';
// The shared-memory house style, for adapters that share memory with their own threads (fs).
export { WordLayout, RegionLayout } from './shm/region.ts';
export { waitWord, bumpWord } from './shm/wake.ts';
export { readLockPrefix, type LockedL1Prefix } from './l1/prefix-lock.ts';
export type { AdapterConfig, AdapterContext, AdapterModule, L2Adapter, L2CheckedLoads, L2EvictionConfig, L2Status } from './l2/adapter.ts';
export {
  registerAdapterType, registerAdapterTypes, registeredAdapterTypes, adapterModuleUrl, adapterModule, importAdapterModule,
} from './l2/registry.ts';
export { validateAdapterConfig, adapterBlock } from './l2/config.ts';
export { configSchema } from './config.ts';
export {
  checkInteger, checkNumber, checkString, parseBlock, block, integerIn, integerFrom, positiveInteger, numberIn, oneOf, fraction, nonEmptyString, boolean, describe,
  type FieldSchema, type BlockMessages,
} from './validate.ts';
// The schema library of every config block, for adapter authors' own fields (valibot).
export * as v from 'valibot';
export { HEADER_BYTES, ENVELOPE_VERSION, writeHeader, checkEnvelope, type EnvelopeFault } from './l2/envelope.ts';
export { L2EventKind, type L2EventKindCode, type L2EventSink } from './l2/events.ts';
export { AdapterHost, type AdapterHostOptions, type SlotViews } from './l2/host.ts';
export { ADAPTER_HOST_METHODS, type AdapterHostApi, type AdapterHostMethod, type BitmapData, type L2Usage } from './l2/host-api.ts';
export { codedHostApi, callOn, type ErrorCoding, type HostCall } from './l2/coded-errors.ts';
export { ServedAdapterHost, type AdapterHostSpec } from './l2/serve.ts';
export { AdapterHostThread } from './l2/host-thread.ts';
export {
  victimCount, ratioForCount, createEvictionPolicy, evictionPolicyNames, registerEvictionPolicy,
  LruPolicy, ArcPolicy, S3FifoPolicy, NoopPolicy, AdaptivePolicy,
  createStorePolicy, registerStorePolicy, storePolicyNames, createPrefetchPolicy, registerPrefetchPolicy, prefetchPolicyNames,
  type EvictionPolicy, type EvictionPolicyFactory, type EvictionPolicyOptions, type PrefixInfo, type PolicyState, type CurvePoint, sizingAdvice, type StorePolicy, type StorePolicyFactory,
  type AdapterLookup, type PrefetchLookups, type PrefetchPolicy, type PrefetchPolicyFactory,
  registerPolicyModule, registeredPolicyModules, type PolicyModule,
} from './policies/index.ts';

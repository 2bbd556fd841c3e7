// The policies' public API: the three registries, the contracts, and the built-in classes.
export {
  victimCount, ratioForCount,
  type EvictionPolicy, type EvictionPolicyFactory, type EvictionPolicyOptions, type PrefixInfo, type PolicyState, type CurvePoint,
} from './eviction.ts';
export { createEvictionPolicy, evictionPolicyNames, registerEvictionPolicy } from './eviction-policies.ts';
export { registerPolicyModule, registeredPolicyModules, type PolicyModule } from './modules.ts';
export { LruPolicy } from './lru.ts';
export { ArcPolicy } from './arc.ts';
export { S3FifoPolicy } from './s3fifo.ts';
export { NoopPolicy } from './noop.ts';
export { AdaptivePolicy } from './adaptive.ts';
export { sizingAdvice } from './sizing.ts';
export { replayPolicy, replayBelady, type ReplayResult, type ChunkTrace } from './replay.ts';
export {
  createStorePolicy, registerStorePolicy, storePolicyNames, type StorePolicy, type StorePolicyFactory,
} from './store.ts';
export {
  createPrefetchPolicy, registerPrefetchPolicy, prefetchPolicyNames,
  type AdapterLookup, type PrefetchLookups, type PrefetchPolicy, type PrefetchPolicyFactory,
} from './prefetch.ts';

// The public API of @kvtier/gpu.
export { openGpu, Gpu, SOFTWARE_GPU_PACKAGES, type GpuBackend, type GpuSource, type OpenGpuOptions, type GpuAdapterDescription } from './device.ts';
export { KvGeometry, type KvDtype, type KvLayout, type KvShape } from './layout.ts';
export { PagedKvCache, type PagedKvCacheOptions } from './paged-kv-cache.ts';
export { GATHER_METHODS, type GatherMethod } from './gather.ts';
export { ChunkMover, type ChunkMoverOptions, type ChunkTransfer } from './chunk-mover.ts';
export { chooseGatherMethod, measureGatherMethods, type GatherTiming } from './method-choice.ts';
export { GpuKvConnector, type ChunkKeys, type GpuKvConnectorOptions, type RetrieveResult } from './connector.ts';
export { PREFETCH_TIMEOUT_MS, type KvCacheLike } from './host-tier.ts';

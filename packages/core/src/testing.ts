// @kvtier/core/testing, for the bench and the tests: L1 internals, the metric cells and their ids,
// policy replay, and the hooks into a `KvCache` that are not user API (`terminateWorker(cache, name)`,
// `engineCounters(cache)`, ...). Nothing here is stable API.
export { withDeadline } from './deadline.ts';
export { recordingLogger } from './logger.ts';
export {
  lockedObjects, engineCounters, engineL1, terminateWorker, workerHealth, adapterHosts, newPinOwner, wakeControllers,
} from './engine/kv-cache.ts';
export { L1_ERROR_NAMES, NO_SLOT, L1EventKind, type L1EventKindCode, type L1Handle } from './l1/api.ts';
export {
  L1Manager, type L1DirtyBatch, type L1ReclaimResult, type L1ExpiryResult, type L1Status,
} from './l1/l1-manager.ts';
export type { ResolvedL1Config } from './l1/l1-config.ts';
export { Metrics, Counter, AdapterCounter, AdapterOp, FailureReason, WorkerKind, Histogram } from './metrics.ts';
export { replayPolicy, replayBelady, type ReplayResult, type ChunkTrace } from './policies/index.ts';
export { soak, type SoakRound, type SoakOptions } from './soak.ts';
export {
  TRACE_GENERATORS, chatTrace, ragTrace, agentTrace, scanTrace, type TraceOptions,
} from './traces/generators.ts';
export { replaySampled, type SampledEstimate } from './policies/sampled-replay.ts';
export { ForwardingPolicy } from './policies/forwarding.ts';

/**
 * The raw L2 adapter contract (docs/architecture.md §8): what an adapter module implements. Adapters see
 * whole stored objects as byte ranges and know nothing of envelopes, pins or L1; the
 * {@link AdapterHost} adds those. Objects are passed as scatter/gather lists of views so that an
 * adapter can write `[header, payload]` with one `writev` and read straight into an L1 slot view:
 * KV bytes are never copied into intermediate buffers by the host.
 *
 * Core never imports `@kvtier/adapters`; adapter types are found through the registry in
 * `registry.ts` and loaded in the adapter worker by module URL.
 */
import type { DigestBatch } from '../l1/api.ts';
import type { EnvelopeFault } from './envelope.ts';
import type { L2Usage } from './host-api.ts';
import type { GenericSchema } from 'valibot';

/**
 * The eviction block of an adapter config, as validated by `validateAdapterConfig` (config.ts in
 * this folder); in a raw config each field may be left out (`default`, 0.8, 0.2). Adapters
 * without one are never evicted by the engine.
 */
export interface L2EvictionConfig {
  /** Eviction policy name (`lru`, `arc`, `s3fifo`, `noop`, …), looked up in the policy registry. */
  readonly policy: string;
  /** Usage fraction at or above which eviction runs, in (0, 1]. */
  readonly watermark: number;
  /** Fraction of the adapter's tracked keys deleted per eviction round, in (0, 1]. */
  readonly ratio: number;
}

/**
 * One adapter's JSON config, e.g. `{"type": "fs", "baseDir": "/var/kv", "capacityBytes": 1e10,
 * "eviction": {"policy": "lru", "watermark": 0.8, "ratio": 0.2}}`. Fields other than `type`,
 * `capacityBytes` and `eviction` belong to the adapter type and are checked by its module's
 * {@link AdapterModule.validateConfig}.
 */
export interface AdapterConfig {
  /** A type registered with `registerAdapterType` (built-ins: `mock`, `fs`, `fault`). */
  readonly type: string;
  /** Bytes this adapter may hold (envelopes included); a positive integer. Absent: unbounded or adapter-defined. */
  readonly capacityBytes?: number;
  /** Engine-driven eviction of this adapter; absent: never evicted by the engine. */
  readonly eviction?: L2EvictionConfig;
  readonly [field: string]: unknown;
}

/** A status tree node; `healthy` at every node. */
export interface L2Status {
  readonly healthy: boolean;
  readonly [field: string]: unknown;
}

/**
 * An L2 adapter: one instance lives in its own worker thread and is called only by its
 * {@link AdapterHost}, never concurrently for the same key (the host serialises nothing else:
 * different keys may be in flight at once).
 *
 * Keys are 128-bit digests ({@link DigestBatch}); an adapter that needs names uses `digestHex`,
 * which yields only `[0-9a-f]`, so names derived from it are safe in paths and key spaces.
 *
 * Objects are opaque byte strings. `parts` lists are scatter/gather lists: the object is the
 * concatenation of its parts, in order. Views may lie on a SharedArrayBuffer (L1 slots): an
 * adapter must not keep a reference to them after the returned promise settles.
 *
 * Errors: a per-key failure is reported in the per-key result; a thrown error or rejected
 * promise fails the whole call. The host turns either into metrics and `KVT_ERR_ADAPTER` errors
 * naming the adapter, so adapters may throw plain errors.
 */
export interface L2Adapter {
  /**
   * Stores `objects[i]` (the concatenation of its parts) under key i, replacing any previous
   * object: a concurrent `load` sees the old object, none (a miss), or the new one — never a mix;
   * a later `load` sees the new one. Resolves to one byte per key: 1 stored, 0 not stored (e.g.
   * over capacity).
   */
  store(keys: DigestBatch, objects: readonly (readonly Uint8Array[])[]): Promise<Uint8Array>;
  /**
   * Optional capability: sealing where the bytes are written. An adapter that has it stores
   * bare payloads and seals each one itself, so the tag is computed on the thread that writes the
   * object, while the bytes are hot, and on as many threads as the adapter writes with — rather
   * than one after another on the host's thread before the adapter is called. The host then calls
   * this instead of {@link store}, with the whole batch at once (the adapter spreads it).
   *
   * Contract: the object stored under key i is exactly `[header, payloads[i]]`, where `header` is
   * `HEADER_BYTES` bytes written by `writeHeader(header, keys, i, payloads[i])` (both from
   * `@kvtier/core/authoring`, the same code the host uses); the rest is as for {@link store}. Every
   * loaded object is checked as always (by the host, or by {@link loadChecked} with the host's
   * check), so a wrong header is a miss, never data.
   * Payloads are views of L1 slots on a SharedArrayBuffer: other threads of the process may read
   * them in place (posting the view shares its memory), until the returned promise settles.
   */
  storeSealed?(keys: DigestBatch, payloads: readonly Uint8Array[]): Promise<Uint8Array>;
  /**
   * The stored length in bytes of each key's object, -1 where absent. Cheap: served from the
   * adapter's own index where it has one.
   */
  lookup(keys: DigestBatch): Promise<Float64Array>;
  /**
   * Reads each key's object into `targets[i]`, filling the parts in order. Resolves per key to
   * -1 when absent, otherwise to the object's length when it fits in the parts, or to any value
   * greater than the parts' total when the object is longer (the host treats both mismatches as
   * a bad object). Bytes past what was read are left as they were.
   */
  load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array>;
  /**
   * Optional capability, the counterpart of {@link storeSealed}: checking where the bytes are
   * read. An adapter that has it reads each key's object — its envelope header into memory of its
   * own, its payload into `payloads[i]` (an L1 slot view of exactly the expected payload length) —
   * and checks it on the thread that read it with `checkEnvelope(header, payloads[i], keys, i,
   * storedLength)` from `@kvtier/core/authoring`, the host's own check. The host then calls this
   * instead of {@link load}, with the whole batch at once, and takes each answer's fault as its own
   * check's: a fault is a miss, counted, and the object deleted. The adapter is trusted to run that
   * check on every object it reports; adapters that cannot should not have this capability.
   * Payloads lie on a SharedArrayBuffer, as for {@link storeSealed}.
   */
  loadChecked?(keys: DigestBatch, payloads: readonly Uint8Array[]): Promise<L2CheckedLoads>;
  /** Deletes keys. Resolves to one byte per key: 1 deleted, 0 absent. */
  delete(keys: DigestBatch): Promise<Uint8Array>;
  /** Bytes used (all stored objects) and capacity; -1 where unknown. */
  usage(): Promise<L2Usage>;
  /** The adapter's own status subtree (`healthy` and whatever it wants to report). */
  status(): Promise<L2Status>;
  /** Releases files, connections and timers. Calls after `close` reject. */
  close(): Promise<void>;
}

/** What {@link L2Adapter.loadChecked} answers. */
export interface L2CheckedLoads {
  /** Per key: -1 absent, else the stored object's length as far as it was read (as `load` answers). */
  readonly lengths: Float64Array;
  /** Per key found: the envelope check's fault, null for a good object; ignored where absent. */
  readonly faults: readonly (EnvelopeFault | null)[];
}

/** What `createAdapter` receives besides the config. */
export interface AdapterContext {
  /** The adapter's index in the engine's adapter list. */
  readonly index: number;
  /** The config path of this adapter (e.g. `adapters[1]`), for error messages. */
  readonly field: string;
  /**
   * Hosts of this adapter that ran before this one: 0 (or absent) for the first, one more after
   * each restart of a dead host (an adapter that draws random numbers can vary them per lifetime).
   */
  readonly generation?: number;
  /**
   * 16 hex digits naming this adapter of this engine across its host restarts (random per
   * `KvCache.open` and adapter); absent outside an engine. With `generation` it tells a file an
   * earlier, dead host of this adapter left (the fs adapter's temp files) from another writer's.
   */
  readonly lineage?: string;
}

/**
 * What an adapter module (the file at a registered module URL) exports. The adapter worker does
 * `const mod: AdapterModule = await import(moduleUrl)` and then `await mod.createAdapter(config, ctx)`.
 */
export interface AdapterModule {
  /**
   * Throws a `KVT_ERR_CONFIG` error naming `${field}.<name>` for the first bad type-specific
   * field. Called after the common fields passed `validateAdapterConfig`; synchronous so that
   * config validation can run up front on the main thread. Describe the block as a schema
   * (`adapterBlock` of `@kvtier/core/authoring`), export it as {@link configSchema}, and check it
   * here with `parseBlock(configSchema, config, field)`, adding what a schema cannot say.
   */
  validateConfig(config: AdapterConfig, field: string): void;
  /**
   * The schema of this type's block (`adapterBlock(type, fields)`): what `validateConfig` checks,
   * and what the JSON Schema of a config file says about this type.
   */
  readonly configSchema?: GenericSchema;
  /** Creates a ready adapter (an fs adapter has finished its recovery scan when this resolves). */
  createAdapter(config: AdapterConfig, ctx: AdapterContext): Promise<L2Adapter>;
}

/**
 * The control-plane surface of an L2 adapter host, as the store, prefetch and eviction controllers
 * see it across threads (comlink). Every argument and result is plain data: key digests, slot
 * references and sizes, never KV bytes — the host reads and writes L1 slots in place.
 *
 * Owner: engineer D (l2/). The engine (controllers, workers) codes against this file.
 */
import type { MessagePort } from 'node:worker_threads';
import type { DigestBatch } from '../l1/api.ts';
import type { L1Handle } from '../l1/l1-manager.ts';
import type { AdapterConfig } from './adapter.ts';

/** A bitmap as plain data: `size` bits in little-endian u32 `words` (wrap with `new Bitmap`). */
export interface BitmapData {
  readonly size: number;
  readonly words: Uint32Array;
}

/** Bytes used and capacity of one adapter; -1 where unknown (an unknown usage never evicts). */
export interface L2Usage {
  readonly usedBytes: number;
  readonly capacityBytes: number;
}

/** What an adapter host answers to controllers. Every call may reject with a KvtierError-like `{code, message}`. */
export interface AdapterHostApi {
  /**
   * Stores the objects in the given L1 slots (the caller holds a read lock on each for the whole
   * call). Resolves to one byte per key: 1 stored, 0 failed.
   */
  store(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array): Promise<Uint8Array>;
  /**
   * Which keys exist, and each found object's payload size (0 for the others, so the prefetch can
   * reserve exact L1 sizes); those found are pinned against this adapter's eviction until `unlock`.
   */
  lookupAndLock(keys: DigestBatch): Promise<{ found: BitmapData; sizes: Uint32Array }>;
  /** Releases pins taken by `lookupAndLock` (unknown or unpinned keys are ignored). */
  unlock(keys: DigestBatch): Promise<void>;
  /**
   * Loads objects into L1 slots the caller holds write locks on (`sizes`: the sizes lookupAndLock
   * reported). A key whose envelope, length or checksum does not match is a miss: the object is
   * deleted from this adapter and counted, and its slot bytes must not be trusted.
   * Resolves to a bitmap of keys loaded.
   */
  load(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array): Promise<BitmapData>;
  /** Deletes keys; pinned keys are skipped. Resolves to one byte per key: 1 deleted, 0 not. */
  delete(keys: DigestBatch): Promise<Uint8Array>;
  /** Bytes used and capacity. */
  usage(): Promise<L2Usage>;
  /** Number of keys currently pinned (tests assert 0 at the end). */
  pinCount(): Promise<number>;
  /** A status tree with `healthy` at every node. */
  status(): Promise<{ healthy: boolean; [k: string]: unknown }>;
  /** Prometheus text lines for this adapter (labelled with its index/name). */
  metrics(): Promise<string>;
  /** Closes the adapter; releases every pin. */
  close(): Promise<void>;
}

/** The methods of {@link AdapterHostApi}, for code that wraps or forwards every one of them. */
export const ADAPTER_HOST_METHODS = [
  'store', 'lookupAndLock', 'unlock', 'load', 'delete', 'usage', 'pinCount', 'status', 'metrics', 'close',
] as const satisfies readonly (keyof AdapterHostApi)[];

/**
 * What the engine passes to `serveAdapterHost` (serve.ts), which runs in the adapter's worker as
 * one long-running task: it attaches L1, imports the adapter module, creates the adapter and
 * exposes an {@link AdapterHostApi} on `port` with comlink. Plain data plus a transferable port.
 *
 * On the main thread: `const { port1, port2 } = new MessageChannel()`, post
 * `{ port: port2, l1Handle, adapterIndex: i, config: cfg.adapters[i],
 *    moduleUrl: adapterModuleUrl(cfg.adapters[i].type), adapterTypes: registeredAdapterTypes() }`
 * with `port2` in the transfer list, and keep `Comlink.wrap<AdapterHostApi>(port1)` in a field.
 * Errors arrive as plain Errors whose message starts with the code (`KVT_ERR_ADAPTER: …`):
 * rebuild them with `KvtierError.from`.
 */
export interface ServeAdapterHostOptions {
  /** The comlink endpoint the host is exposed on (transferred to the worker). */
  readonly port: MessagePort;
  /** `L1Manager.handle` of the engine's L1; the worker attaches to it to view slots. */
  readonly l1Handle: L1Handle;
  /** The adapter's index in the config's adapter list. */
  readonly adapterIndex: number;
  /** The adapter's config, already validated on the main thread. */
  readonly config: AdapterConfig;
  /** `adapterModuleUrl(config.type)` from the main thread. */
  readonly moduleUrl: string;
  /** `registeredAdapterTypes()` from the main thread, for adapters that wrap others (`fault`). */
  readonly adapterTypes?: Readonly<Record<string, string>>;
  /** The buffer of this adapter's `L2EventRing` (the host is its producer); no events when absent. */
  readonly events?: SharedArrayBuffer;
}

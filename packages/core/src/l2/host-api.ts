/**
 * The control-plane surface of an L2 adapter host, as the store, prefetch and eviction controllers
 * see it across threads (comlink). Every argument and result is plain data: key digests, slot
 * references and sizes, never KV bytes — the host reads and writes L1 slots in place.
 *
 * The raw adapter contract (adapter.ts) builds on the types here; this file imports nothing of
 * l2/ (how a thread hosts an adapter is `serve.ts`).
 */
import type { DigestBatch } from '../l1/api.ts';

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

/**
 * What an adapter host answers to controllers. Every call may reject with a KvtierError; across a
 * port its code travels in the message (coded-errors.ts).
 */
export interface AdapterHostApi {
  /**
   * Stores the objects in the given L1 slots (the caller holds a read lock on each for the whole
   * call). Resolves to one byte per key: 1 stored, 0 failed.
   */
  store(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array): Promise<Uint8Array>;
  /**
   * Which keys exist, and each found object's payload size (0 for the others, so the prefetch can
   * reserve exact L1 sizes); those found are pinned for `owner` against this adapter's eviction
   * until `owner` releases them (`unlock`, `loadAndUnlock`, `release`). `owner` is a pin owner
   * token, a positive safe integer naming one request: a key stays pinned while any owner holds
   * it, and an owner holds a key once however often it looked it up. When `owner` was released
   * while this ran, it pins nothing.
   */
  lookupAndLock(keys: DigestBatch, owner: number): Promise<{ found: BitmapData; sizes: Uint32Array }>;
  /** Releases `owner`'s pins on `keys`; keys it does not hold (never, or no longer) are ignored. */
  unlock(keys: DigestBatch, owner: number): Promise<void>;
  /**
   * Releases every pin `owner` holds here, and ends it here: a `lookupAndLock` of it still
   * running pins nothing (a request that gave up a late lookup, or whose worker died).
   */
  release(owner: number): Promise<void>;
  /**
   * Loads objects into L1 slots the caller holds write locks on (`sizes`: the sizes lookupAndLock
   * reported). A key whose envelope, length or checksum does not match is a miss: the object is
   * deleted from this adapter and counted, and its slot bytes must not be trusted.
   * Resolves to a bitmap of keys loaded.
   */
  load(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array): Promise<BitmapData>;
  /**
   * `load`, then `unlock(pinned, owner)` on the host once the load ended, loaded or failed (a malformed
   * `pinned` or `owner` rejects before anything is loaded): one round trip where the two calls take two. The
   * pins are released before the answer is sent, so a caller that saw the answer, or a call sent
   * after it, finds them released; a load that never ends keeps them until its host ends.
   */
  loadAndUnlock(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array, pinned: DigestBatch, owner: number): Promise<BitmapData>;
  /** Deletes keys; pinned keys are skipped. Resolves to one byte per key: 1 deleted, 0 not. */
  delete(keys: DigestBatch): Promise<Uint8Array>;
  /** Bytes used and capacity. */
  usage(): Promise<L2Usage>;
  /** Number of keys currently pinned (tests assert 0 at the end). */
  pinCount(): Promise<number>;
  /** A status tree with `healthy` at every node. */
  status(): Promise<{ healthy: boolean; [k: string]: unknown }>;
  /** This host's Prometheus exposition (families declared; samples labelled with its index and type). */
  metrics(): Promise<string>;
  /** Closes the adapter; releases every pin. */
  close(): Promise<void>;
}

/** The methods of {@link AdapterHostApi}; `codedHostApi` (coded-errors.ts) forwards every one. */
export const ADAPTER_HOST_METHODS = [
  'store', 'lookupAndLock', 'unlock', 'release', 'load', 'loadAndUnlock', 'delete', 'usage', 'pinCount', 'status', 'metrics', 'close',
] as const satisfies readonly (keyof AdapterHostApi)[];

/** One of {@link ADAPTER_HOST_METHODS}. */
export type AdapterHostMethod = (typeof ADAPTER_HOST_METHODS)[number];

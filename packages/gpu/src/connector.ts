/**
 * GpuKvConnector: joins a {@link PagedKvCache} and the host tier (docs/architecture.md §9): a plain L1, or the
 * `KvCache` facade, whose prefetch also brings chunks up from L2. A sequence's block table
 * covers its chunks in order: chunk i is blocks `[i·chunkBlocks, (i+1)·chunkBlocks)` of the table
 * (the last may be shorter), and its L1 object is those blocks' canonical bytes.
 */
import { assertDigestBatch, digestBatch, L1Error, keyCount, pickKeys, rangeKeys, type DigestBatch, type L1, type ObjectKey } from '@kvtier/core';
import { invalidArgument, parseBlock, positiveInteger, v } from '@kvtier/core/authoring';
import { hostTier, PREFETCH_TIMEOUT_MS, type HostTier, type KvCacheLike } from './host-tier.ts';
import { ChunkMover, type ChunkTransfer } from './chunk-mover.ts';
import type { GatherMethod } from './gather.ts';
import { chooseGatherMethod } from './method-choice.ts';
import type { PagedKvCache } from './paged-kv-cache.ts';

/** Options of {@link GpuKvConnector.create}. */
export interface GpuKvConnectorOptions {
  /** Tokens per chunk: a positive multiple of the cache's `blockTokens`. */
  readonly chunkTokens: number;
  /** Gather/scatter method, or `auto` (default): measured once per backend, adapter and layout. */
  readonly method?: GatherMethod | 'auto';
  /** Staging buffers per direction, ≥ 2; default as for `ChunkMover` (8 MiB in flight, 3 to 16). */
  readonly stagingBuffers?: number;
  /** Most bytes moved per staging buffer; default as for `ChunkMover` (3 MiB of whole blocks). */
  readonly pieceBytes?: number;
  /** With the KvCache facade: how long a retrieve waits for its prefetch (ms); default 30 000. */
  readonly prefetchTimeoutMs?: number;
}

/** What {@link GpuKvConnector.retrieve} loaded: a prefix of `chunks` chunks, and which tier each came from. */
export interface RetrieveResult {
  /** Leading chunks now in the block table (`fromL1 + fromL2`). */
  readonly chunks: number;
  /** Of those, chunks that were in L1 when the retrieve asked. */
  readonly fromL1: number;
  /** Of those, chunks the prefetch brought up from L2 first (always 0 over a plain L1). */
  readonly fromL2: number;
}

/** Keys at the connector: a digest batch, or object keys (digested here), chunk i = key i. */
export type ChunkKeys = DigestBatch | readonly ObjectKey[];

function digests(keys: ChunkKeys, what: string): DigestBatch {
  if (Array.isArray(keys)) return digestBatch(keys as readonly ObjectKey[]);
  assertDigestBatch(keys, `${what}: keys`);
  return keys;
}

/** Moves chunks of KV blocks between the device and the host tier, pipelined. Main thread only. */
export class GpuKvConnector {
  /** The device-side cache. */
  readonly cache: PagedKvCache;
  /** Tokens per chunk. */
  readonly chunkTokens: number;
  /** The options it was made with, for a new connector on a reopened device. */
  readonly options: Readonly<GpuKvConnectorOptions>;
  readonly #host: HostTier;
  readonly #mover: ChunkMover;

  /** Use {@link GpuKvConnector.create}. */
  constructor(cache: PagedKvCache, host: HostTier, options: GpuKvConnectorOptions, mover: ChunkMover) {
    this.cache = cache;
    this.chunkTokens = options.chunkTokens;
    this.options = Object.freeze({ ...options });
    this.#host = host;
    this.#mover = mover;
  }

  /**
   * Validates the options (`CONFIG` naming the field), picks the gather method (measuring it on a
   * scratch cache when `auto`), and creates the staging rings.
   */
  static async create(cache: PagedKvCache, host: L1 | KvCacheLike, opts: GpuKvConnectorOptions): Promise<GpuKvConnector> {
    const { blockTokens } = cache.geometry;
    const multiple = (issue: v.BaseIssue<unknown>) => `must be a positive multiple of blockTokens (${blockTokens}), got ${String(issue.input)}`;
    const chunkTokens = parseBlock(v.pipe(positiveInteger, v.multipleOf(blockTokens, multiple)), opts.chunkTokens, 'chunkTokens');
    const prefetchTimeoutMs = parseBlock(positiveInteger, opts.prefetchTimeoutMs ?? PREFETCH_TIMEOUT_MS, 'prefetchTimeoutMs');
    const chunkBlocks = chunkTokens / blockTokens;
    const method = opts.method === undefined || opts.method === 'auto' ? await chooseGatherMethod(cache, chunkBlocks) : opts.method;
    const mover = new ChunkMover(cache, { chunkBlocks, method, stagingBuffers: opts.stagingBuffers, pieceBytes: opts.pieceBytes });
    return new GpuKvConnector(cache, hostTier(host, prefetchTimeoutMs), opts, mover);
  }

  /** The gather/scatter method in use. */
  get method(): GatherMethod {
    return this.#mover.method;
  }

  /**
   * Copies the chunks named by `keys` (chunk i = key i) out of the blocks of `blockTable` into new
   * L1 objects. Keys L1 already holds (or cannot take) are skipped. Resolves to the number of
   * chunks written. On failure the reservations are deleted (no write lock is left) and the error
   * is thrown: `DEVICE_LOST`, `GPU`, or `INVALID_ARGUMENT` (a bad block table or key batch, or a
   * chunk larger than an L1 slot).
   */
  async store(chunkKeys: ChunkKeys, blockTable: ArrayLike<number>): Promise<number> {
    const what = 'GpuKvConnector.store';
    const keys = digests(chunkKeys, what);
    const blocks = this.#chunkBlocks(keys, blockTable, what);
    this.cache.gpu.assertUsable(what);
    const sizes = blocks.map((b) => b.length * this.cache.geometry.blockBytes);
    const reserved = this.#host.reserveWrite(keys, sizes);
    const chosen: number[] = [];
    reserved.codes.forEach((code, i) => { if (code === L1Error.SUCCESS) chosen.push(i); });
    if (chosen.length === 0 && !reserved.codes.includes(L1Error.OBJECT_TOO_LARGE)) return 0;
    const chosenKeys = pickKeys(keys, chosen);
    const tooLarge = reserved.codes.indexOf(L1Error.OBJECT_TOO_LARGE);
    if (tooLarge !== -1) {
      this.#host.abortWrite(chosenKeys);
      invalidArgument(`${what}: chunk ${tooLarge} takes ${sizes[tooLarge]} bytes, more than an L1 slot holds; L1 slots must hold a whole chunk`);
    }
    try {
      await this.#mover.store(chosen.map((i): ChunkTransfer => ({ blocks: blocks[i], view: this.#host.view(reserved.slots[i], sizes[i]) })));
    } catch (err) {
      this.#host.abortWrite(chosenKeys);
      throw err;
    }
    this.#host.finishWrite(chosenKeys);
    return chosen.length;
  }

  /**
   * Loads the longest prefix of `keys` the host tier holds (with the facade: after prefetching
   * from L2), as far as each object has the size its chunk needs, into the blocks of
   * `blockTable`; resolves once the device holds them, to that prefix's length in chunks and how
   * many of them came from L1 and from L2. Read locks are released whatever happens.
   */
  async retrieve(chunkKeys: ChunkKeys, blockTable: ArrayLike<number>): Promise<RetrieveResult> {
    const what = 'GpuKvConnector.retrieve';
    const keys = digests(chunkKeys, what);
    const blocks = this.#chunkBlocks(keys, blockTable, what);
    this.cache.gpu.assertUsable(what);
    const { blockBytes } = this.cache.geometry;
    const { views, fromL1 } = await this.#host.lockPrefix(keys);
    try {
      let prefix = 0;
      while (prefix < views.length && views[prefix].byteLength === blocks[prefix].length * blockBytes) prefix++;
      if (prefix > 0) await this.#mover.retrieve(views.slice(0, prefix).map((view, i): ChunkTransfer => ({ blocks: blocks[i], view })));
      const l1 = Math.min(fromL1, prefix);
      return { chunks: prefix, fromL1: l1, fromL2: prefix - l1 };
    } finally {
      if (views.length > 0) this.#host.unlock(rangeKeys(keys, 0, views.length));
    }
  }

  /** Frees the staging rings. The cache and L1 belong to the caller. */
  destroy(): void {
    this.#mover.destroy();
  }

  /** Validates `keys` against `blockTable` and cuts the table into each key's block list. */
  #chunkBlocks(keys: DigestBatch, blockTable: ArrayLike<number>, what: string): Int32Array[] {
    const n = keyCount(keys);
    this.cache.validateBlocks(blockTable, what);
    const per = this.#mover.chunkBlocks;
    const chunksInTable = Math.ceil(blockTable.length / per);
    if (n > chunksInTable) {
      invalidArgument(`${what}: ${n} keys need at least ${(n - 1) * per + 1} blocks, the block table has ${blockTable.length}`);
    }
    const table = Int32Array.from(blockTable);
    return Array.from({ length: n }, (_, i) => table.subarray(i * per, Math.min((i + 1) * per, table.length)));
  }
}

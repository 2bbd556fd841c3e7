/**
 * The host side of the GPU connector: a plain {@link L1}, or the `KvCache` facade of @kvtier/core
 * (whose prefetch also brings chunks up from L2 and whose writes are replicated to L2). Both are
 * reduced to the few operations the connector needs.
 */
import { rangeKeys, type DigestBatch, type L1, type L1SlotResult, type WriteMode } from '@kvtier/core';
import { readLockPrefix } from '@kvtier/core/authoring';

/**
 * The parts of `KvCache` (packages/core/src/cache) the connector uses, structurally, so a facade
 * that grows keeps fitting.
 */
export interface KvCacheLike {
  readonly l1: L1;
  reserveWrite(keys: DigestBatch, sizes: number | ArrayLike<number>, opts?: { mode?: WriteMode }): L1SlotResult;
  view(slot: number, size: number): Uint8Array;
  finishWrite(keys: DigestBatch): Uint8Array;
  submitPrefetch(keys: DigestBatch): { readonly requestId: number; readonly l1PrefixHits: number; readonly totalKeys: number };
  waitPrefetchResult(
    handle: { readonly requestId: number; readonly l1PrefixHits: number; readonly totalKeys: number },
    opts?: { timeoutMs?: number },
  ): Promise<{ readonly count: number; readonly l1PrefixHits: number }>;
  readPrefetched(keys: DigestBatch): Uint8Array[] | null;
  finishReadPrefetched(keys: DigestBatch): Uint8Array;
}

/** A prefix {@link HostTier.lockPrefix} read-locked: its objects' views, the first `fromL1` of them already in L1. */
export interface LockedPrefix {
  readonly views: Uint8Array[];
  /** Leading objects that were in L1 when asked for; the rest were brought up from L2. */
  readonly fromL1: number;
}

/** What the connector does with its host side. */
export interface HostTier {
  /** Reserves new objects (keys present already answer non-SUCCESS). */
  reserveWrite(keys: DigestBatch, sizes: readonly number[]): L1SlotResult;
  /** A view of a slot reserved by {@link reserveWrite}. */
  view(slot: number, size: number): Uint8Array;
  /** Publishes written objects. */
  finishWrite(keys: DigestBatch): void;
  /** Drops reserved objects whose write failed, releasing their write locks. */
  abortWrite(keys: DigestBatch): void;
  /**
   * Read-locks the longest prefix of `keys` the tier holds (loading from L2 first where it has
   * one) and returns its objects' views, in key order; release them with {@link unlock}.
   */
  lockPrefix(keys: DigestBatch): Promise<LockedPrefix>;
  /** Releases the read locks {@link lockPrefix} took on `keys` (a prefix of its batch). */
  unlock(keys: DigestBatch): void;
}

/** Default deadline of a KvCache prefetch started by a retrieve. */
export const PREFETCH_TIMEOUT_MS = 30_000;
/** How long a prefetch that outlived its retrieve is waited for, to release what it locked. */
const LATE_RELEASE_MS = 10 * 60_000;

class L1Tier implements HostTier {
  readonly #l1: L1;

  constructor(l1: L1) {
    this.#l1 = l1;
  }

  reserveWrite(keys: DigestBatch, sizes: readonly number[]): L1SlotResult {
    return this.#l1.reserveWrite(keys, sizes, { mode: 'new' });
  }

  view(slot: number, size: number): Uint8Array {
    return this.#l1.view(slot, size);
  }

  finishWrite(keys: DigestBatch): void {
    this.#l1.finishWrite(keys);
  }

  abortWrite(keys: DigestBatch): void {
    this.#l1.delete(keys, { force: true });
  }

  async lockPrefix(keys: DigestBatch): Promise<LockedPrefix> {
    const { prefix, read } = readLockPrefix(this.#l1, keys);
    return { views: Array.from({ length: prefix }, (_, i) => this.#l1.view(read.slots[i], read.sizes[i])), fromL1: prefix };
  }

  unlock(keys: DigestBatch): void {
    this.#l1.finishRead(keys);
  }
}

class KvCacheTier implements HostTier {
  readonly #cache: KvCacheLike;
  readonly #prefetchTimeoutMs: number;

  constructor(cache: KvCacheLike, prefetchTimeoutMs: number) {
    this.#cache = cache;
    this.#prefetchTimeoutMs = prefetchTimeoutMs;
  }

  reserveWrite(keys: DigestBatch, sizes: readonly number[]): L1SlotResult {
    return this.#cache.reserveWrite(keys, sizes, { mode: 'new' });
  }

  view(slot: number, size: number): Uint8Array {
    return this.#cache.view(slot, size);
  }

  finishWrite(keys: DigestBatch): void {
    this.#cache.finishWrite(keys);
  }

  abortWrite(keys: DigestBatch): void {
    this.#cache.l1.delete(keys, { force: true });
  }

  async lockPrefix(keys: DigestBatch): Promise<LockedPrefix> {
    const handle = this.#cache.submitPrefetch(keys);
    let outcome: { readonly count: number; readonly l1PrefixHits: number };
    try {
      outcome = await this.#cache.waitPrefetchResult(handle, { timeoutMs: this.#prefetchTimeoutMs });
    } catch (err) {
      this.#releaseWhenDone(handle, keys);
      throw err;
    }
    const { count, l1PrefixHits } = outcome;
    if (count === 0) return { views: [], fromL1: 0 };
    // null: some key was not locked after all; the facade released the others.
    const views = this.#cache.readPrefetched(rangeKeys(keys, 0, count)) ?? [];
    return { views, fromL1: Math.min(l1PrefixHits, views.length) };
  }

  /**
   * A prefetch that outlived its retrieve still read-locks the prefix it finds; nobody will load
   * it now, so release those locks once it publishes its count.
   */
  #releaseWhenDone(handle: Parameters<KvCacheLike['waitPrefetchResult']>[0], keys: DigestBatch): void {
    this.#cache.waitPrefetchResult(handle, { timeoutMs: LATE_RELEASE_MS }).then(
      ({ count }) => { if (count > 0) this.#cache.finishReadPrefetched(rangeKeys(keys, 0, count)); },
      () => {}, // the facade closed or the request is gone: its locks went with it
    );
  }

  unlock(keys: DigestBatch): void {
    this.#cache.finishReadPrefetched(keys);
  }
}

/**
 * The {@link HostTier} of `side`: the facade when it has a prefetch (waited for at most
 * `prefetchTimeoutMs`), else a plain L1.
 */
export function hostTier(side: L1 | KvCacheLike, prefetchTimeoutMs: number): HostTier {
  return 'submitPrefetch' in side ? new KvCacheTier(side, prefetchTimeoutMs) : new L1Tier(side);
}

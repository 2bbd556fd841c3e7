/**
 * `KvCache` (docs/architecture.md §10): the engine thread's facade over L1, the controllers and the adapter
 * hosts. Writes go straight into L1 (the store worker replicates them to L2); prefetches lock the
 * L1 prefix at once and hand the rest to the prefetch worker, whose result arrives in the shared
 * prefetch table. Nothing here blocks the event loop.
 */
import { validateConfig, type KvCacheConfig } from '../config.ts';
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';
import { digestBatch, type ObjectKey } from '../keys.ts';
import { assertDigestBatch } from '../digest-batch.ts';
import { L1Error, type DigestBatch, type L1, type L1SlotResult, type WriteMode } from '../l1/api.ts';
import type { AdapterHostApi } from '../l2/host-api.ts';
import { Counter, Metrics } from '../metrics.ts';
import type { EvictionStatus } from '../controllers/eviction.ts';
import { withDeadline } from '../deadline.ts';
import { keyCount, pickKeys, rangeKeys } from '../digest-batch.ts';
import { extraCountOf } from '../l1/extra-count.ts';
import { L1Manager } from '../l1/l1-manager.ts';
import { readLockPrefix } from '../l1/prefix-lock.ts';
import { EngineWorkers } from './engine-workers.ts';
import { CONTROL_WORDS } from './layout.ts';
import { PrefetchTable } from './prefetch-table.ts';
import { MetricsServer, type ServeOptions } from '../http/metrics-server.ts';
import { resolveLogger, type Logger } from '../logger.ts';

/** Keys at the facade: a digest batch, or object keys (digested here). */
export type Keys = DigestBatch | readonly ObjectKey[];

/**
 * What `submitPrefetch` returns; pass it to `queryPrefetch` or `waitPrefetch` of the same cache.
 * The object itself is the capability: each cache remembers the (frozen) handles it minted and
 * refuses any other object — another cache's handle, a copy, a hand-made `{ requestId, ... }` —
 * with `KVT_ERR_INVALID_ARGUMENT`. Its fields are for reading only.
 */
export interface PrefetchHandle {
  /** The request's id in this cache's table (diagnostics; not what identifies the request). */
  readonly requestId: number;
  /** Keys of the contiguous prefix already in L1 (read-locked at submit). */
  readonly l1PrefixHits: number;
  readonly totalKeys: number;
}

/** A finished prefetch: how many keys the caller now holds read-locked, and whether it failed. */
export interface PrefetchOutcome {
  /** `l1PrefixHits + l2PrefixHits`: the keys of the prefix now read-locked for the caller (release them with finishReadPrefetched). */
  readonly count: number;
  /** Keys of the prefix found in L1 at submit. */
  readonly l1PrefixHits: number;
  /** Keys past them made readable from L2. */
  readonly l2PrefixHits: number;
  /**
   * Why the prefix may be shorter than the caches could give: the first adapter error of the
   * request (`KVT_ERR_ADAPTER`, `KVT_ERR_TIMEOUT`, ...) or `KVT_ERR_WORKER` when the prefetch
   * worker died with it. Undefined for a clean result, however short (misses are not errors).
   */
  readonly error: KvtierError | undefined;
}

/** Options of {@link KvCache.open} that are not configuration (not data: they cannot come from a file). */
export interface OpenOptions {
  /** Where restarts, host terminations and other warnings go; default `stderrLogger()` (warnings and errors to stderr). */
  readonly logger?: Logger;
}

/** A status tree; `healthy` at every node. */
export interface KvCacheStatus {
  readonly healthy: boolean;
  readonly l1: {
    readonly healthy: boolean; readonly usedBytes: number; readonly capacityBytes: number; readonly objects: number;
    readonly fraction: number; readonly dirty: number; readonly droppedEvents: number;
    /** Slots whose object is gone but whose holder (past its lease, or after a forced delete) may still use its view. */
    readonly orphanedSlots: number;
    /** Leases found expired so far: write locks (objects discarded) and objects whose read locks expired. */
    readonly expiredWrites: number; readonly expiredReads: number;
  };
  readonly workers: Readonly<Record<string, { readonly healthy: boolean }>>;
  readonly adapters: readonly { readonly healthy: boolean; readonly [k: string]: unknown }[];
  /**
   * Each tier's eviction policy: its name, tracked keys, own state (for `adaptive`: the strategy it
   * follows now), estimated hit-ratio curve and sizing advice. Absent while the eviction worker
   * restarts or does not answer.
   */
  readonly eviction?: EvictionStatus;
}

/** Deadline of a status or metrics query to one adapter host. */
const QUERY_TIMEOUT_MS = 5_000;
/** The longest flush() sleeps between checks when no store claim ends (a reclaimed store worker's objects turn dirty again without one). */
const FLUSH_RECHECK_MS = 50;

function asDigests(keys: Keys, field = 'keys'): DigestBatch {
  if (keys instanceof Uint32Array) {
    assertDigestBatch(keys, field);
    return keys;
  }
  if (!Array.isArray(keys)) invalidArgument(`${field} must be a DigestBatch or an array of ObjectKey`);
  return digestBatch(keys as readonly ObjectKey[]);
}

/** The tiered KV cache: L1 in shared memory, L2 adapters in worker threads. */
export class KvCache {
  readonly #config: KvCacheConfig;
  readonly #l1: L1Manager;
  readonly #metrics: Metrics;
  readonly #table: PrefetchTable;
  readonly #workers: EngineWorkers;
  /** The pin owner token of each request handed to the prefetch worker, by id, until consumed. */
  readonly #inFlight = new Map<number, number>();
  /** The last pin owner token given to a request: each request gets the next, never reused (l2/pins.ts). */
  #lastPinOwner = 0;
  /**
   * The handles this cache minted, to their request. Only an object found here is a handle of this
   * cache; its id is read from here, never from the (caller-visible) object. `consumed` is set when
   * its result is taken, so a consumed handle stays known (it answers null, not an error) but can
   * never reach a later request that reuses its id or record.
   */
  readonly #handles = new WeakMap<PrefetchHandle, { readonly requestId: number; readonly totalKeys: number; consumed: boolean }>();
  /** Servers started by {@link serve}; close() closes them first. */
  readonly #servers = new Set<MetricsServer>();
  #closing: Promise<void> | undefined;

  private constructor(config: KvCacheConfig, l1: L1Manager, metrics: Metrics, table: PrefetchTable, workers: EngineWorkers) {
    this.#config = config;
    this.#l1 = l1;
    this.#metrics = metrics;
    this.#table = table;
    this.#workers = workers;
    hooks.set(this, {
      lockedObjects: () => this.#lockedObjects(),
      l1,
      metrics: metrics,
      terminateWorker: async (name) => {
        this.#assertOpen();
        await workers.terminate(name);
      },
      workerHealth: () => workers.health,
      adapterHosts: () => workers.adapters,
      newPinOwner: () => ++this.#lastPinOwner,
      wakeControllers: () => {
        this.#assertOpen();
        l1.interruptWaits();
      },
    });
  }

  /**
   * Validates `config`, creates L1 and starts the worker pool: adapter hosts, then the store,
   * prefetch and eviction controllers. Import `@kvtier/adapters` first to register adapter types.
   * @throws KvtierError `KVT_ERR_CONFIG` naming a bad field; `KVT_ERR_INVALID_ARGUMENT` for a bad `options.logger`;
   * `KVT_ERR_ADAPTER` naming the adapter's index, type and cause when one cannot start;
   * `KVT_ERR_WORKER` when a controller cannot start.
   */
  static async open(config: unknown, options?: OpenOptions): Promise<KvCache> {
    const valid = validateConfig(config);
    const logger = resolveLogger(options?.logger, 'KvCache.open options.logger');
    const l1 = L1Manager.create(valid.l1);
    const metrics = new Metrics();
    const table = new PrefetchTable();
    let cache: KvCache | undefined;
    let workers: EngineWorkers;
    try {
      workers = await EngineWorkers.start({
        config: valid,
        l1,
        control: new SharedArrayBuffer(CONTROL_WORDS * 4),
        metrics,
        logger,
        prefetchTable: table.buffer,
        onPrefetchLost: (queued) => (cache === undefined ? Promise.resolve() : cache.#failInFlightPrefetches(queued)),
      });
    } catch (err) {
      l1.detach();
      throw err;
    }
    cache = new KvCache(valid, l1, metrics, table, workers);
    return cache;
  }

  /** The validated configuration. */
  get config(): KvCacheConfig {
    return this.#config;
  }

  /** L1 itself, for the GPU connector and for callers that manage slots directly. */
  get l1(): L1 {
    this.#assertOpen();
    return this.#l1;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new KvtierError(ErrorCode.CLOSED, 'the KvCache is closed');
  }

  /** Reserves L1 slots to write (per key, in order; a full L1 gives the longest prefix that fits). */
  reserveWrite(keys: Keys, sizes: number | ArrayLike<number>, opts?: { mode?: WriteMode }): L1SlotResult {
    this.#assertOpen();
    return this.#l1.reserveWrite(asDigests(keys), sizes, { mode: opts?.mode ?? 'all' });
  }

  /** A zero-copy view of a slot this thread holds a lock on. */
  view(slot: number, size: number): Uint8Array {
    this.#assertOpen();
    return this.#l1.view(slot, size);
  }

  /** Finishes writes: the objects become readable and are queued for L2 store. */
  finishWrite(keys: Keys): Uint8Array {
    this.#assertOpen();
    const codes = this.#l1.finishWrite(asDigests(keys));
    this.#metrics.count(Counter.L1_WRITES, codes.filter((c) => c === L1Error.SUCCESS).length);
    return codes;
  }

  /**
   * Starts a prefetch: read-locks the contiguous prefix already in L1 (1 + extraCount locks per
   * key; L1 hits past the first gap are released at once) and sends the rest to the prefetch
   * worker (while a dead one restarts, to its successor once it is ready). Never blocks.
   * @throws KvtierError `KVT_ERR_WORKER` when the prefetch worker died and could not restart
   * (nothing stays locked); `KVT_ERR_CAPACITY` when every request record is in use.
   */
  submitPrefetch(keys: Keys, opts?: { extraCount?: number }): PrefetchHandle {
    this.#assertOpen();
    const batch = asDigests(keys);
    const extraCount = extraCountOf(opts);
    const n = keyCount(batch);
    const submittedAt = performance.timeOrigin + performance.now();
    const l1PrefixHits = readLockPrefix(this.#l1, batch, extraCount).prefix;
    this.#metrics.count(Counter.PREFETCH_REQUESTS);
    this.#metrics.count(Counter.PREFETCH_REQUESTED_KEYS, n);
    this.#metrics.count(Counter.PREFETCH_L1_HIT_KEYS, l1PrefixHits);
    let requestId: number;
    try {
      requestId = this.#table.allocate(n, l1PrefixHits);
    } catch (err) {
      if (l1PrefixHits > 0) this.#l1.finishRead(rangeKeys(batch, 0, l1PrefixHits), { extraCount });
      throw err;
    }
    if (l1PrefixHits === n || this.#config.adapters.length === 0) {
      this.#table.publish(requestId, 0);
    } else {
      const pinOwner = ++this.#lastPinOwner;
      this.#inFlight.set(requestId, pinOwner);
      try {
        this.#workers.submitPrefetch({ requestId, keys: rangeKeys(batch, l1PrefixHits, n).slice(), extraCount, submittedAt, pinOwner });
      } catch (err) {
        this.#inFlight.delete(requestId);
        this.#table.discard(requestId);
        if (l1PrefixHits > 0) this.#l1.finishRead(rangeKeys(batch, 0, l1PrefixHits), { extraCount });
        throw err;
      }
    }
    const handle: PrefetchHandle = Object.freeze({ requestId, l1PrefixHits, totalKeys: n });
    this.#handles.set(handle, { requestId, totalKeys: n, consumed: false });
    return handle;
  }

  /**
   * The request behind `handle`, checked before anything is touched: it must be an object this
   * cache's submitPrefetch returned (identity, not shape), else `KVT_ERR_INVALID_ARGUMENT`.
   */
  #requestOf(handle: unknown, method: string): { readonly requestId: number; readonly totalKeys: number; consumed: boolean } {
    const request = typeof handle === 'object' && handle !== null ? this.#handles.get(handle as PrefetchHandle) : undefined;
    if (request === undefined) {
      const got = handle === null ? 'null' : typeof handle === 'object' ? 'an object it did not return' : `${typeof handle} ${String(handle)}`;
      invalidArgument(`${method}: handle must be a PrefetchHandle returned by this cache's submitPrefetch, got ${got}`);
    }
    return request;
  }

  /**
   * The prefetch's prefix count once it finished, exactly once; null while running or after.
   * A failed prefetch counts too (what it holds locked); see queryPrefetchResult for its error.
   * @throws KvtierError `KVT_ERR_INVALID_ARGUMENT` for a handle this cache's submitPrefetch did not
   * return (another cache's, a copy, a hand-made object, null...), touching nothing.
   */
  queryPrefetch(handle: PrefetchHandle): number | null {
    this.#assertOpen();
    return this.#take(this.#requestOf(handle, 'queryPrefetch'))?.count ?? null;
  }

  /** Like queryPrefetch (consuming the result exactly once), with the L1/L2 split and the request's error. */
  queryPrefetchResult(handle: PrefetchHandle): PrefetchOutcome | null {
    this.#assertOpen();
    return this.#take(this.#requestOf(handle, 'queryPrefetchResult'));
  }

  /** Takes the result of a request of this cache (a checked handle's), once. */
  #take(request: { readonly requestId: number; readonly totalKeys: number; consumed: boolean }): PrefetchOutcome | null {
    if (request.consumed) return null;
    const { requestId } = request;
    const result = this.#table.take(requestId);
    if (result === null) return null;
    request.consumed = true;
    this.#inFlight.delete(requestId);
    const error = result.error === undefined ? undefined
      : new KvtierError(result.error, `prefetch ${requestId} failed (${result.error}) after ${result.l1PrefixHits + result.l2PrefixHits} of ${request.totalKeys} keys`);
    return { count: result.l1PrefixHits + result.l2PrefixHits, l1PrefixHits: result.l1PrefixHits, l2PrefixHits: result.l2PrefixHits, error };
  }

  /**
   * Waits for a prefetch without blocking the event loop and returns its prefix count (consuming
   * it, like queryPrefetch); a failed prefetch resolves too, with what it holds locked (see
   * waitPrefetchResult for its error). Rejects with `KVT_ERR_TIMEOUT` after `timeoutMs` (default
   * 30 s), or with `KVT_ERR_INVALID_ARGUMENT` for a handle this cache did not return, a bad
   * `timeoutMs`, or a result already consumed.
   */
  async waitPrefetch(handle: PrefetchHandle, opts?: { timeoutMs?: number }): Promise<number> {
    return (await this.#wait(handle, opts, 'waitPrefetch')).count;
  }

  /** Like waitPrefetch, resolving the whole outcome: the count, its L1/L2 split and the request's error. */
  async waitPrefetchResult(handle: PrefetchHandle, opts?: { timeoutMs?: number }): Promise<PrefetchOutcome> {
    return this.#wait(handle, opts, 'waitPrefetchResult');
  }

  async #wait(handle: unknown, opts: { timeoutMs?: number } | undefined, method: string): Promise<PrefetchOutcome> {
    this.#assertOpen();
    const request = this.#requestOf(handle, method);
    const timeoutMs = opts?.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) invalidArgument(`${method}: timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
    const { requestId } = request;
    if (!request.consumed && !(await this.#table.wait(requestId, timeoutMs))) {
      throw new KvtierError(ErrorCode.TIMEOUT, `prefetch ${requestId} did not finish within ${timeoutMs} ms`);
    }
    this.#assertOpen();
    const outcome = this.#take(request);
    if (outcome === null) invalidArgument(`${method}: prefetch ${requestId}'s result was already consumed`);
    return outcome;
  }

  /**
   * Zero-copy views of prefetched objects (they must be read-locked, as a prefetch leaves them),
   * in key order. Null when any key is not: then the locks of those that were are released
   * (1 + extraCount each), as the caller cannot use a partial result.
   */
  readPrefetched(keys: Keys, opts?: { extraCount?: number }): Uint8Array[] | null {
    this.#assertOpen();
    const batch = asDigests(keys);
    const extraCount = extraCountOf(opts);
    const r = this.#l1.unsafeRead(batch);
    const ok: number[] = [];
    r.codes.forEach((c, i) => { if (c === L1Error.SUCCESS) ok.push(i); });
    if (ok.length !== r.codes.length) {
      if (ok.length > 0) this.#l1.finishRead(pickKeys(batch, ok), { extraCount });
      return null;
    }
    this.#metrics.count(Counter.L1_READS, ok.length);
    return ok.map((i) => this.#l1.view(r.slots[i], r.sizes[i]));
  }

  /** Releases prefetch read locks (1 + extraCount per key); temporary objects leave L1 at their last. */
  finishReadPrefetched(keys: Keys, opts?: { extraCount?: number }): Uint8Array {
    this.#assertOpen();
    return this.#l1.finishRead(asDigests(keys), { extraCount: extraCountOf(opts) });
  }

  /** Marks keys as used (eviction order). */
  touch(keys: Keys): void {
    this.#assertOpen();
    this.#l1.touch(asDigests(keys));
  }

  /** Removes every unlocked object from L1 (every object with `force`); returns how many left. */
  clear(opts?: { force?: boolean }): number {
    this.#assertOpen();
    return this.#l1.clear(opts);
  }

  /**
   * Resolves once every object written (finishWrite) before the call has been stored to every
   * adapter its store policy targets, or its store failed after every retry (counted in
   * `kvtier_store_dropped_keys_total`); objects deleted meanwhile no longer count. Never blocks
   * the event loop. Rejects with `KVT_ERR_TIMEOUT`, naming how many objects are left, after
   * `timeoutMs` (default 30 s).
   */
  async flush(opts?: { timeoutMs?: number }): Promise<void> {
    this.#assertOpen();
    const timeoutMs = opts?.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) invalidArgument(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
    const until = performance.now() + timeoutMs;
    let seq = this.#l1.storedSeq();
    let left = this.#l1.unstoredKeys();
    while (keyCount(left) > 0) {
      const remaining = until - performance.now();
      if (remaining <= 0) {
        throw new KvtierError(ErrorCode.TIMEOUT, `flush: ${keyCount(left)} objects were not stored within ${timeoutMs} ms`);
      }
      // Woken as soon as the store worker ends a claim; the cap re-checks anyway, for objects made
      // dirty again by a reclaimed store worker (no claim ends for those).
      await this.#l1.waitStoredAsync(seq, Math.min(remaining, FLUSH_RECHECK_MS));
      this.#assertOpen();
      seq = this.#l1.storedSeq();
      left = this.#l1.unstoredKeys(left);
    }
  }

  /** The status tree: L1, every worker and every adapter, `healthy` at every node. */
  async status(): Promise<KvCacheStatus> {
    this.#assertOpen();
    const l1Status = this.#l1.status();
    const u = l1Status.usage;
    const workers = Object.fromEntries([...this.#workers.health].map(([name, healthy]) => [name, { healthy }]));
    const adapters = await Promise.all(this.#workers.adapters.map((a, i) =>
      withDeadline(a.status(), QUERY_TIMEOUT_MS, `adapter ${i} status`).catch((err) => ({ healthy: false, index: i, error: KvtierError.from(err).message }))));
    const l1 = {
      healthy: l1Status.healthy, usedBytes: u.usedBytes, capacityBytes: u.capacityBytes, objects: u.objects, fraction: u.fraction,
      dirty: l1Status.dirty, droppedEvents: l1Status.events.dropped, orphanedSlots: u.orphanedSlots,
      expiredWrites: l1Status.counters.expiredWrites, expiredReads: l1Status.counters.expiredReads,
    };
    const healthy = l1.healthy && Object.values(workers).every((w) => w.healthy) && adapters.every((a) => a.healthy);
    const eviction = await this.#workers.evictionStatus(QUERY_TIMEOUT_MS);
    return { healthy, l1, workers, adapters, ...(eviction === undefined ? {} : { eviction }) };
  }

  /** Prometheus text of every engine metric, followed by each adapter host's own lines. */
  async metrics(): Promise<string> {
    this.#assertOpen();
    const l1Status = this.#l1.status();
    const u = l1Status.usage;
    const l2 = await Promise.all(this.#workers.adapters.map((a, i) =>
      withDeadline(a.usage(), QUERY_TIMEOUT_MS, `adapter ${i} usage`).catch(() => ({ usedBytes: -1, capacityBytes: -1 }))));
    const extra = await Promise.all(this.#workers.adapters.map((a, i) => withDeadline(a.metrics(), QUERY_TIMEOUT_MS, `adapter ${i} metrics`).catch(() => '')));
    const eviction = await this.#workers.evictionStatus(QUERY_TIMEOUT_MS);
    return this.#metrics.render(this.#workers.adapters.length, {
      l1UsedBytes: u.usedBytes, l1CapacityBytes: u.capacityBytes, l1Objects: u.objects, l2,
      workersHealthy: Object.fromEntries(this.#workers.health),
      l1EmergencyEvictions: l1Status.counters.emergencyEvictions,
      droppedEvents: { l1: l1Status.events.dropped, l2: this.#workers.droppedL2Events() },
      ...(eviction === undefined ? {} : { eviction }),
    }, extra.filter((t) => t.length > 0).map((t) => t.trimEnd()));
  }

  /**
   * Serves this cache's operations endpoint over HTTP: `GET /metrics` ({@link metrics}, Prometheus
   * text) and `GET /status` ({@link status} as JSON). Closing the cache closes the server.
   * @throws KvtierError `KVT_ERR_INVALID_ARGUMENT` naming a bad option; `KVT_ERR_CONFIG` when the
   * address cannot be bound; `KVT_ERR_CLOSED` after close().
   */
  async serve(opts?: ServeOptions): Promise<MetricsServer> {
    this.#assertOpen();
    const server = await MetricsServer.listen(this, opts);
    if (this.#closing !== undefined) {
      await server.close();
      throw new KvtierError(ErrorCode.CLOSED, 'the KvCache is closed');
    }
    this.#servers.add(server);
    return server;
  }

  /** Objects in L1 that hold a lock: read-locked, write-locked, or reserved and never finished (one moment's count). */
  #lockedObjects(): number {
    this.#assertOpen();
    return this.#l1.lockedObjects();
  }

  /**
   * After the prefetch worker died: the requests it had fail with `KVT_ERR_WORKER` (keeping their
   * L1 hits, which the caller releases as for any result) and their pins go. Those `queued` for
   * its successor are left alone.
   */
  async #failInFlightPrefetches(queued: (requestId: number) => boolean): Promise<void> {
    for (const [id, pinOwner] of this.#inFlight) {
      if (!this.#table.isPending(id) || queued(id)) continue;
      // Only what the request still holds: pins its loads released, or it never took, are not touched.
      await Promise.all(this.#workers.adapters.map((a) => withDeadline(a.release(pinOwner), QUERY_TIMEOUT_MS, 'release').catch(() => {})));
      this.#table.publish(id, 0, ErrorCode.WORKER);
      this.#metrics.count(Counter.PREFETCH_FAILURES);
    }
  }

  /**
   * Stops everything in order — prefetch, store, eviction, adapters — then frees L1. Every lock a
   * controller holds is released and every worker ends. Idempotent; later calls throw CLOSED.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await Promise.all([...this.#servers].map((s) => s.close()));
        await this.#workers.stop();
      } finally {
        this.#inFlight.clear();
        this.#l1.detach();
      }
    })();
    return this.#closing;
  }
}

/**
 * What tests and the bench reach inside a `KvCache` through (exported from `@kvtier/core/testing`,
 * not from the package root): kept off the class so its public members are the user API only.
 */
interface CacheHooks {
  readonly lockedObjects: () => number;
  readonly l1: L1Manager;
  readonly metrics: Metrics;
  readonly terminateWorker: (name: string) => Promise<void>;
  readonly workerHealth: () => ReadonlyMap<string, boolean>;
  readonly adapterHosts: () => readonly AdapterHostApi[];
  readonly newPinOwner: () => number;
  readonly wakeControllers: () => void;
}

const hooks = new WeakMap<KvCache, CacheHooks>();

function hooksOf(cache: KvCache): CacheHooks {
  const h = hooks.get(cache);
  if (h === undefined) invalidArgument('not a KvCache opened with KvCache.open');
  return h;
}

/**
 * Objects in L1 that hold a lock: read-locked, write-locked, or reserved and never finished.
 * Zero when nothing is in flight (diagnostics; walks every live object). Throws `KVT_ERR_CLOSED` after close.
 */
export function lockedObjects(cache: KvCache): number {
  return hooksOf(cache).lockedObjects();
}

/**
 * The cache's own L1 instance with what `cache.l1` leaves out: `status()` (registered owner ids,
 * reclaim counts) and the `handle` to attach another owner. Valid after close too (its status then
 * shows what outlived the engine's threads).
 */
export function engineL1(cache: KvCache): L1Manager {
  return hooksOf(cache).l1;
}

/** The shared metric cells of the cache (tests read counters directly: `engineCounters(cache).get(Counter.X)`). */
export function engineCounters(cache: KvCache): Metrics {
  return hooksOf(cache).metrics;
}

/**
 * Wakes the controllers sleeping between cycles (the store and eviction workers) so that each runs
 * a cycle now: a test that set a long `evictionIntervalMs` chooses when the eviction worker looks,
 * instead of racing its timer. A wake finds only a controller that is sleeping: call it until the
 * awaited effect shows. Throws `KVT_ERR_CLOSED` after close.
 */
export function wakeControllers(cache: KvCache): void {
  hooksOf(cache).wakeControllers();
}

/** Terminates a worker's thread (`store`, `prefetch`, `eviction`, `adapter[i]`) as a crash would (tests of crash handling). */
export function terminateWorker(cache: KvCache, name: string): Promise<void> {
  return hooksOf(cache).terminateWorker(name);
}

/** Health of each worker by name (`store`, `prefetch`, `eviction`, `adapter[i]`); `status()` gives the same as a tree. */
export function workerHealth(cache: KvCache): ReadonlyMap<string, boolean> {
  return hooksOf(cache).workerHealth();
}

/**
 * The main thread's comlink proxy to each adapter host, in config order (pin counts, direct L2
 * deletes in tests and the bench). Storing or deleting through them bypasses the controllers.
 */
export function adapterHosts(cache: KvCache): readonly AdapterHostApi[] {
  return hooksOf(cache).adapterHosts();
}

/**
 * A pin owner token for pinning through {@link adapterHosts} directly (`lookupAndLock(keys, owner)`):
 * one no prefetch request of this cache has or will get, so such pins and the requests' never mix.
 */
export function newPinOwner(cache: KvCache): number {
  return hooksOf(cache).newPinOwner();
}

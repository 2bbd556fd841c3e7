/**
 * The prefetch controller (docs/architecture.md §6, LMCache's protocol): for the keys past a request's L1
 * prefix, lookup-and-lock on every adapter, plan with the prefetch policy, trim to the contiguous
 * prefix, unlock what is not planned, reserve temporary L1 slots of the exact sizes, load and
 * unpin in one host call (`loadAndUnlock`), `finishWriteAndReserveRead`, publish the count: two
 * round trips per adapter, lookup and load, none after the load. At most `maxInFlight` requests
 * run at once; the rest wait FIFO. Independent of Piscina: a plain class over a
 * {@link PrefetchContext}.
 *
 * Concurrent requests for the same key: the first to reserve the temporary slot loads it; the
 * other gets KEY_NOT_WRITABLE, waits until the owner has finished that key (the owner never
 * waits on anyone before finishing its own keys, so there is no cycle), then read-locks it.
 */
import { Bitmap } from '../shm/bitmap.ts';
import { ErrorCode, KvtierError } from '../errors.ts';
import { L1Error, type DigestBatch, type L1SlotResult } from '../l1/api.ts';
import type { AdapterHostApi, BitmapData } from '../l2/host-api.ts';
import { AdapterCounter, AdapterOp, Counter, Histogram, type Metrics } from '../metrics.ts';
import type { PrefetchPolicy } from '../policies/prefetch.ts';
import { callAdapter, callWithSlots, type AdapterHostLiveness } from './adapter-call.ts';
import { keyCount, keyId, pickKeys, pickValues, rangeKeys } from '../digest-batch.ts';

/** The L1 operations the prefetch controller uses. */
export interface PrefetchL1 {
  reserveWrite(keys: DigestBatch, sizes: ArrayLike<number>, opts: { mode: 'new'; temporary: true }): L1SlotResult;
  finishWriteAndReserveRead(keys: DigestBatch, opts: { extraCount: number }): L1SlotResult;
  reserveRead(keys: DigestBatch, opts: { extraCount: number }): L1SlotResult;
  finishRead(keys: DigestBatch, opts: { extraCount: number }): Uint8Array;
  delete(keys: DigestBatch, opts: { force: boolean }): Uint8Array;
}

/** One request as the worker receives it: the keys past the L1 prefix the main thread locked. */
export interface PrefetchRequest {
  /** Identifies the request to {@link PrefetchContext.publish}. */
  readonly requestId: number;
  /** Keys to make readable from L2, in prefix order. */
  readonly keys: DigestBatch;
  /** Extra read locks per key (each loaded key gets 1 + extraCount). */
  readonly extraCount: number;
  /** `performance.timeOrigin + performance.now()` at submit, for the latency histogram. */
  readonly submittedAt: number;
  /**
   * The request's pin owner token on the adapter hosts (unique over the engine's life): every
   * pin it takes is its own, so releasing it can never take another request's (l2/pins.ts).
   */
  readonly pinOwner: number;
}

/** Everything the prefetch controller needs. */
export interface PrefetchContext {
  readonly l1: PrefetchL1;
  readonly adapters: readonly AdapterHostApi[];
  /** Which host each adapter proxy reaches, whether it still lives, and the calls that may touch slots (see callWithSlots). */
  readonly hosts: AdapterHostLiveness;
  readonly policy: PrefetchPolicy;
  readonly metrics: Metrics;
  readonly adapterCallTimeoutMs: number;
  readonly maxInFlight: number;
  /**
   * Publishes a request's result: the prefix length made readable and, when an adapter call of
   * the request failed (the prefix may then be shorter than L2 could give), the first such error.
   * The first `l2PrefixHits` keys of the request are read-locked by this thread (1 + extraCount
   * each) on the requester's behalf: publishing hands them over to it, error or not.
   */
  publish(request: PrefetchRequest, l2PrefixHits: number, error?: KvtierError): void;
}

/**
 * Pins a request still has to release, per adapter: the indices of the keys it pinned there, or
 * undefined for none (its lookup failed, or a call took them over).
 */
type Pins = (number[] | undefined)[];

/** A load that passed its deadline: its slots stay write-locked until it can no longer write them. */
interface Quarantine {
  readonly keys: DigestBatch;
}

function toBitmap(data: BitmapData): Bitmap {
  return new Bitmap(data.size, data.words.buffer, data.words.byteOffset);
}

/** Runs prefetch requests; one instance per prefetch worker. */
export class PrefetchController {
  readonly #ctx: PrefetchContext;
  readonly #queue: PrefetchRequest[] = [];
  readonly #running = new Set<Promise<void>>();
  /** Keys some running request holds write-locked, resolved once it finished or dropped them. */
  readonly #writing = new Map<string, Promise<void>>();
  readonly #quarantined = new Set<Quarantine>();
  #stopping = false;

  constructor(ctx: PrefetchContext) {
    this.#ctx = ctx;
  }

  /** Requests running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Queues a request; it starts at once if fewer than `maxInFlight` run. */
  submit(request: PrefetchRequest): void {
    if (this.#stopping) {
      this.#ctx.publish(request, 0, new KvtierError(ErrorCode.CLOSED, 'the prefetch controller is stopping'));
      return;
    }
    this.#queue.push(request);
    this.#startQueued();
  }

  /**
   * Stops: queued requests fail with CLOSED, running ones finish (each adapter call is bounded by
   * its deadline), then quarantined slots are dropped.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const request of this.#queue.splice(0)) {
      this.#ctx.publish(request, 0, new KvtierError(ErrorCode.CLOSED, 'the prefetch controller stopped'));
    }
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    for (const q of this.#quarantined) this.#ctx.l1.delete(q.keys, { force: true });
    this.#quarantined.clear();
  }

  #startQueued(): void {
    while (this.#running.size < this.#ctx.maxInFlight && this.#queue.length > 0) {
      const request = this.#queue.shift()!;
      const task: Promise<void> = this.#run(request).finally(() => {
        this.#running.delete(task);
        this.#startQueued();
      });
      this.#running.add(task);
    }
  }

  async #run(request: PrefetchRequest): Promise<void> {
    let hits = 0;
    const errors: KvtierError[] = [];
    try {
      hits = await this.#prefetch(request, errors);
    } catch (err) {
      errors.unshift(KvtierError.from(err));
    }
    const error = errors[0];
    if (error !== undefined) this.#ctx.metrics.count(Counter.PREFETCH_FAILURES);
    this.#ctx.metrics.count(Counter.PREFETCH_L2_HIT_KEYS, hits);
    this.#ctx.metrics.observe(Histogram.PREFETCH_SECONDS, (performance.timeOrigin + performance.now() - request.submittedAt) / 1000);
    this.#ctx.publish(request, hits, error);
  }

  /** Lookup-and-lock on every adapter; a failed lookup counts as "holds nothing" and its error goes to `errors`. */
  async #lookup(keys: DigestBatch, owner: number, errors: KvtierError[]): Promise<({ found: Bitmap; sizes: Uint32Array } | undefined)[]> {
    const ctx = this.#ctx;
    return Promise.all(ctx.adapters.map(async (adapter, a) => {
      try {
        const r = await callAdapter(ctx, a, AdapterOp.LOOKUP, () => adapter.lookupAndLock(keys, owner));
        const found = toBitmap(r.found);
        ctx.metrics.countAdapter(a, AdapterCounter.LOOKUP_KEYS, keyCount(keys));
        ctx.metrics.countAdapter(a, AdapterCounter.LOOKUP_HITS, found.popcount());
        return { found, sizes: r.sizes };
      } catch (err) {
        errors.push(KvtierError.from(err));
        // A lookup past its deadline may have pinned already (its answer is lost) or may pin later
        // (its answer is late): releasing the owner here drops the first and refuses the second.
        // The request holds nothing else on this adapter, and no other request's pin is touched.
        if (KvtierError.from(err).code === ErrorCode.TIMEOUT) adapter.release(owner).catch(() => {});
        return undefined;
      }
    }));
  }

  /** Releases `owner`'s pins: the keys at `indices` on adapter `a`. */
  async #unlock(a: number, keys: DigestBatch, indices: readonly number[], owner: number): Promise<void> {
    if (indices.length === 0) return;
    try {
      await callAdapter(this.#ctx, a, AdapterOp.UNLOCK, () => this.#ctx.adapters[a].unlock(pickKeys(keys, indices), owner));
    } catch {
      // Counted by callAdapter; a pin an adapter failed to drop is its own (it releases all on close).
    }
  }

  /** Makes the longest prefix it can readable; adapter errors that shortened it go to `errors`. */
  async #prefetch(request: PrefetchRequest, errors: KvtierError[]): Promise<number> {
    const ctx = this.#ctx;
    const { keys, pinOwner } = request;
    const n = keyCount(keys);
    if (n === 0 || ctx.adapters.length === 0) return 0;

    // 1. Lookup and pin; plan; trim to the contiguous prefix every key of which some adapter loads.
    const lookups = await this.#lookup(keys, pinOwner, errors);
    const plan = ctx.policy.plan(lookups.map((l) => l?.found), n);
    const source = new Int32Array(n).fill(-1);
    for (const [a, indices] of plan) for (const i of indices) source[i] = a;
    let prefix = source.indexOf(-1);
    if (prefix < 0) prefix = n;
    // Pins on what will not be loaded from that adapter go at once, their round trip beside the
    // loads (awaited before the request is published: it then holds no pin).
    const unplanned = Promise.all(lookups.map((l, a) => l === undefined ? undefined
      : this.#unlock(a, keys, l.found.indices().filter((i) => i >= prefix || source[i] !== a), pinOwner)));
    // The pins left: per adapter, the keys of [0, prefix) it is the source of. The loads take them
    // over (see #reserveAndLoad); what none took over is released here.
    const pins: Pins = lookups.map((l, a) => {
      if (l === undefined) return undefined;
      const out: number[] = [];
      for (let i = 0; i < prefix; i++) if (source[i] === a) out.push(i);
      return out;
    });
    try {
      return await this.#reserveAndLoad(request, prefix, source, lookups, errors, pins);
    } finally {
      await Promise.all([unplanned, ...pins.map((indices, a) => indices === undefined ? undefined : this.#unlock(a, keys, indices, pinOwner))]);
    }
  }

  /**
   * Reserves temporary slots for keys [0, prefix), loads the ones this request owns, joins the
   * ones another request is loading, and read-locks the longest readable prefix. Everything past
   * it is released before returning. Each adapter's `pins` go with its load (`loadAndUnlock`: no
   * round trip after the loads), or in an `unlock` beside the loads when it has none; an adapter
   * whose pins a call took over has its entry cleared.
   */
  async #reserveAndLoad(
    request: PrefetchRequest, prefix: number, source: Int32Array,
    lookups: readonly ({ found: Bitmap; sizes: Uint32Array } | undefined)[], errors: KvtierError[], pins: Pins,
  ): Promise<number> {
    const ctx = this.#ctx;
    const { keys, extraCount, pinOwner } = request;
    if (prefix === 0) return 0;
    const head = rangeKeys(keys, 0, prefix);
    const sizes = new Uint32Array(prefix);
    for (let i = 0; i < prefix; i++) sizes[i] = lookups[source[i]]!.sizes[i];
    const reserved = ctx.l1.reserveWrite(head, sizes, { mode: 'new', temporary: true });

    // Per key: 'own' (we write it), 'held' (read-locked already), 'join' (another request writes it).
    const own: number[] = [];
    const held: number[] = [];
    const join: number[] = [];
    let cut = prefix;
    const done = new Map<number, () => void>();
    for (let i = 0; i < prefix; i++) {
      if (reserved.codes[i] === L1Error.SUCCESS) {
        own.push(i);
        const id = keyId(keys, i);
        this.#writing.set(id, new Promise<void>((resolve) => done.set(i, () => { this.#writing.delete(id); resolve(); })));
        continue;
      }
      if (i < cut && reserved.codes[i] === L1Error.KEY_NOT_WRITABLE) {
        if (this.#writing.has(keyId(keys, i))) { join.push(i); continue; }
        const r = ctx.l1.reserveRead(rangeKeys(keys, i, i + 1), { extraCount });
        if (r.codes[0] === L1Error.SUCCESS) { held.push(i); continue; }
      }
      cut = Math.min(cut, i);
    }
    const finish = (indices: readonly number[]) => { for (const i of indices) done.get(i)?.(); };

    // Drop our reservations past the cut; load the rest, grouped by source adapter.
    const drop = own.filter((i) => i >= cut);
    const load = own.filter((i) => i < cut);
    if (drop.length > 0) ctx.l1.delete(pickKeys(keys, drop), { force: true });
    finish(drop);
    const loaded = new Set<number>();
    const quarantined = new Set<number>();
    await Promise.all(pins.map(async (pinned, a) => {
      if (pinned === undefined) return;
      pins[a] = undefined;
      const indices = load.filter((i) => source[i] === a);
      if (indices.length === 0) return this.#unlock(a, keys, pinned, pinOwner);
      const batch = pickKeys(keys, indices);
      const slots = pickValues(reserved.slots, indices);
      const bytes = pickValues(sizes, indices);
      // The host releases these pins when the load ends, answered or not: never here, as the load
      // may still read the objects after its deadline.
      const unpin = pickKeys(keys, pinned);
      const call = callWithSlots(ctx, a, AdapterOp.LOAD, () => ctx.adapters[a].loadAndUnlock(batch, slots, bytes, unpin, pinOwner), () => this.#stopping);
      const started = performance.now();
      try {
        const r = await call.answer;
        ctx.metrics.observe(Histogram.L2_LOAD_SECONDS, (performance.now() - started) / 1000);
        const bits = toBitmap(r);
        indices.forEach((i, j) => {
          if (!bits.test(j)) return;
          loaded.add(i);
          ctx.metrics.countAdapter(a, AdapterCounter.LOAD_KEYS);
          ctx.metrics.countAdapter(a, AdapterCounter.LOAD_BYTES, bytes[j]);
        });
        ctx.metrics.observe(Histogram.L2_LOAD_BYTES, indices.filter((i) => loaded.has(i)).reduce((s, i) => s + sizes[i], 0));
      } catch (err) {
        errors.push(KvtierError.from(err));
        if (KvtierError.from(err).code !== ErrorCode.TIMEOUT) return;
        for (const i of indices) quarantined.add(i);
        this.#quarantine(batch, call.done);
      }
    }));

    // Our keys: readable ones become read-locked (1 + extraCount), the others are dropped.
    const good = load.filter((i) => loaded.has(i));
    const bad = load.filter((i) => !loaded.has(i) && !quarantined.has(i));
    if (good.length > 0) {
      const r = ctx.l1.finishWriteAndReserveRead(pickKeys(keys, good), { extraCount });
      good.forEach((i, j) => { if (r.codes[j] === L1Error.SUCCESS) held.push(i); });
    }
    if (bad.length > 0) ctx.l1.delete(pickKeys(keys, bad), { force: true });
    finish(load);

    // Joined keys: wait for their owner, then read-lock what it made readable.
    for (const i of join) {
      if (i >= cut) break;
      await this.#writing.get(keyId(keys, i));
      const r = ctx.l1.reserveRead(rangeKeys(keys, i, i + 1), { extraCount });
      if (r.codes[0] === L1Error.SUCCESS) held.push(i);
    }

    // Keep the contiguous prefix of held keys; release the rest.
    const isHeld = new Uint8Array(cut);
    for (const i of held) isHeld[i] = 1;
    let hits = isHeld.indexOf(0);
    if (hits < 0) hits = cut;
    const release = held.filter((i) => i >= hits);
    if (release.length > 0) ctx.l1.finishRead(pickKeys(keys, release), { extraCount });
    return hits;
  }

  /**
   * A load past its deadline may still write into its slots: they stay write-locked (unreadable,
   * not reusable) until it can no longer write them — it answered, or its host was terminated
   * (see untilAbandonedCallEnds) — or the controller stops; then they are dropped.
   */
  #quarantine(batch: DigestBatch, done: Promise<void>): void {
    const q: Quarantine = { keys: batch };
    this.#quarantined.add(q);
    void done.then(() => {
      if (this.#quarantined.delete(q)) this.#ctx.l1.delete(batch, { force: true });
    });
  }
}

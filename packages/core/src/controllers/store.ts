/**
 * The store controller (docs/architecture.md §6): L1 -> L2 write-through. It claims dirty objects (read
 * locked by L1 for it), asks the store policy for target adapters, sends one store task per
 * adapter, and releases the read locks once every target finished. Independent of Piscina: a
 * plain function of a {@link StoreContext}, run in the store worker or in-process by tests.
 */
import type { L1DirtyBatch } from '../l1/store-claims.ts';
import type { DigestBatch } from '../l1/api.ts';
import type { AdapterHostApi } from '../l2/host-api.ts';
import { AdapterCounter, AdapterOp, Counter, FailureReason, Histogram, type Metrics } from '../metrics.ts';
import type { StorePolicy } from '../policies/store.ts';
import { callWithSlots, sleep, type AdapterHostLiveness } from './adapter-call.ts';
import { keyCount, pickKeys, pickValues } from '../digest-batch.ts';

/** The L1 operations the store controller uses. */
export interface StoreL1 {
  /** Claims up to `max` dirty, non-temporary objects, read-locking each and marking it as being stored. */
  takeDirty(max: number): L1DirtyBatch;
  /** Ends the claims of `keys` and releases their read locks. */
  finishStore(keys: DigestBatch): Uint8Array;
  delete(keys: DigestBatch, opts?: { force?: boolean }): Uint8Array;
}

/** Everything the store controller needs. */
export interface StoreContext {
  readonly l1: StoreL1;
  readonly adapters: readonly AdapterHostApi[];
  /** Which host each adapter proxy reaches, whether it still lives, and the calls that may touch slots (see callWithSlots). */
  readonly hosts: AdapterHostLiveness;
  readonly policy: StorePolicy;
  readonly metrics: Metrics;
  readonly adapterCallTimeoutMs: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly maxInFlightBytesPerAdapter: number;
  readonly batchKeys: number;
  /** Resolves when dirty objects may be waiting, or after `timeoutMs`. */
  waitDirty(timeoutMs: number): Promise<void>;
  /** True once the controller must stop. */
  stopped(): boolean;
}

/** How long the loop sleeps between checks of the stop flag when nothing is dirty. */
const IDLE_WAIT_MS = 50;

/** Bounds the bytes in flight to one adapter: `acquire` waits until the new batch fits. */
class InFlightBudget {
  readonly #max: number;
  #used = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  /** Waits until `bytes` fit (a batch larger than the budget waits until nothing else is in flight). */
  async acquire(bytes: number): Promise<void> {
    while (this.#used > 0 && this.#used + bytes > this.#max) await new Promise<void>((r) => this.#waiters.push(r));
    this.#used += bytes;
  }

  release(bytes: number): void {
    this.#used -= bytes;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  get used(): number {
    return this.#used;
  }
}

/**
 * Stores `indices` of `batch` to one adapter, retrying the keys that failed with doubling backoff.
 * Resolves to the indices that were stored.
 */
async function storeToAdapter(ctx: StoreContext, adapter: number, batch: L1DirtyBatch, indices: readonly number[]): Promise<Set<number>> {
  const stored = new Set<number>();
  const calls: Promise<void>[] = [];
  let pending = indices;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) {
      if (attempt > ctx.maxRetries || ctx.stopped()) break;
      ctx.metrics.count(Counter.STORE_RETRIES);
      await sleep(ctx.backoffMs * 2 ** (attempt - 1));
    }
    const keys = pickKeys(batch.keys, pending);
    const sizes = pickValues(batch.sizes, pending);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    const started = performance.now();
    const slots = pickValues(batch.slots, pending);
    const call = callWithSlots(ctx, adapter, AdapterOp.STORE, () => ctx.adapters[adapter].store(keys, slots, sizes), ctx.stopped);
    calls.push(call.done);
    try {
      const ok = await call.answer;
      ctx.metrics.observe(Histogram.L2_STORE_SECONDS, (performance.now() - started) / 1000);
      ctx.metrics.observe(Histogram.L2_STORE_BYTES, bytes);
      const failed: number[] = [];
      pending.forEach((index, j) => {
        if (ok[j] === 1) {
          stored.add(index);
          ctx.metrics.countAdapter(adapter, AdapterCounter.STORE_KEYS);
          ctx.metrics.countAdapter(adapter, AdapterCounter.STORE_BYTES, sizes[j]);
        } else {
          failed.push(index);
        }
      });
      if (failed.length > 0) ctx.metrics.countFailure(adapter, AdapterOp.STORE, FailureReason.REJECTED, failed.length);
      pending = failed;
    } catch {
      // callAdapter counted the failure (and the abandoned call, on a timeout); retry the lot.
    }
  }
  if (pending.length > 0) ctx.metrics.count(Counter.STORE_DROPPED_KEYS, pending.length);
  // An abandoned call may still be reading the slots: the read locks stay until none can.
  await Promise.all(calls);
  return stored;
}

/** Stores one claimed batch to its targets, then releases its read locks (and drops it from L1 if asked). */
async function storeBatch(ctx: StoreContext, budgets: readonly InFlightBudget[], batch: L1DirtyBatch): Promise<void> {
  const all = Array.from({ length: keyCount(batch.keys) }, (_, i) => i);
  const targets = ctx.policy.targets(all, ctx.adapters.length);
  const tasks: Promise<Set<number>>[] = [];
  const targeted = new Map<number, number>();
  for (const [adapter, indices] of targets) {
    if (indices.length === 0 || adapter < 0 || adapter >= ctx.adapters.length) continue;
    for (const i of indices) targeted.set(i, (targeted.get(i) ?? 0) + 1);
    const bytes = indices.reduce((a, i) => a + batch.sizes[i], 0);
    tasks.push(
      budgets[adapter].acquire(bytes).then(
        () => storeToAdapter(ctx, adapter, batch, indices).finally(() => budgets[adapter].release(bytes)),
      ),
    );
  }
  const results = await Promise.all(tasks);
  ctx.l1.finishStore(batch.keys);
  // Only keys every target stored may leave L1: a key that failed somewhere keeps its only copy.
  const storedEverywhere = (i: number) => targeted.has(i) && results.filter((s) => s.has(i)).length === targeted.get(i);
  const drop = ctx.policy.deleteFromL1(all).filter(storedEverywhere);
  if (drop.length > 0) ctx.l1.delete(pickKeys(batch.keys, drop));
}

/**
 * Runs the store loop until `ctx.stopped()`: claim dirty objects, store them, release them.
 * Batches run concurrently, bounded by each adapter's in-flight byte budget. On stop it waits for
 * the batches in flight (each call is bounded by its deadline) so no read lock outlives it.
 */
export async function runStoreController(ctx: StoreContext): Promise<void> {
  const budgets = ctx.adapters.map(() => new InFlightBudget(ctx.maxInFlightBytesPerAdapter));
  const inFlight = new Set<Promise<void>>();
  while (!ctx.stopped()) {
    const batch = ctx.l1.takeDirty(ctx.batchKeys);
    if (keyCount(batch.keys) === 0) {
      await ctx.waitDirty(IDLE_WAIT_MS);
      continue;
    }
    const task: Promise<void> = storeBatch(ctx, budgets, batch).finally(() => inFlight.delete(task));
    inFlight.add(task);
    // Back-pressure: claim more only once every adapter has room for another batch.
    while (!ctx.stopped() && budgets.some((b) => b.used >= ctx.maxInFlightBytesPerAdapter)) await Promise.race(inFlight);
  }
  await Promise.allSettled(inFlight);
}

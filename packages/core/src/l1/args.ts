/**
 * Argument checks of the L1Manager calls, run before the mutex is taken: a bad argument throws
 * INVALID_ARGUMENT and touches nothing.
 */
import { isMainThread } from 'node:worker_threads';
import { invalidArgument } from '../errors.ts';
import { extraCountOf } from './extra-count.ts';
import { assertDigestBatch, keyCount } from '../digest-batch.ts';
import { NO_SLOT, type DigestBatch, type L1SlotResult } from './api.ts';
import { allocationSizes } from './arena.ts';
import type { L1Handle } from './api.ts';
import { metaLayout } from './layout.ts';

/** Throws INVALID_ARGUMENT unless `timeoutMs` is a non-negative number. */
export function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) invalidArgument(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
}

/** Throws INVALID_ARGUMENT on the main thread, which must never block (docs/architecture.md §2). */
export function refuseMainThread(what: string): void {
  if (isMainThread) invalidArgument(`${what} blocks the thread; the main thread must use its Async form`);
}

/** The read locks per key a call takes or releases: 1 + `opts.extraCount` under its one rule (extra-count.ts). */
export function readLocksPerKey(opts: { extraCount?: number } | undefined): number {
  return 1 + extraCountOf(opts);
}

// Module-level, not closures: tsx names every nested function with a defineProperty per call.
function isObjectSize(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffffffff;
}

function badSize(what: string, v: unknown): never {
  invalidArgument(`${what} must be a positive integer below 2^32, got ${String(v)}`);
}

/** `reserveWrite`'s sizes, checked: one size for all `n` keys, or one each. */
export function checkSizes(sizes: number | ArrayLike<number>, n: number): number | ArrayLike<number> {
  if (typeof sizes === 'number') {
    if (!isObjectSize(sizes)) badSize('sizes', sizes);
    return sizes;
  }
  if (sizes === null || typeof sizes !== 'object' || sizes.length !== n) {
    invalidArgument(`sizes must be a number or have one entry per key (${n}), got ${sizes === null || typeof sizes !== 'object' ? String(sizes) : `${sizes.length} entries`}`);
  }
  for (let j = 0; j < n; j++) if (!isObjectSize(sizes[j])) badSize(`sizes[${j}]`, sizes[j]);
  return sizes;
}

/** Checks that `index` names a key of the batch `keys`. */
export function checkIndex(keys: DigestBatch, index: number): void {
  assertDigestBatch(keys);
  if (!Number.isInteger(index) || index < 0 || index >= keyCount(keys)) {
    invalidArgument(`index ${String(index)} is outside the batch of ${keyCount(keys)} keys`);
  }
}

/** Per-key answers of a batch that hands out slots: every slot NO_SLOT until its key succeeds. */
export function slotResult(n: number): L1SlotResult {
  return { codes: new Uint8Array(n), slots: new Int32Array(n).fill(NO_SLOT), sizes: new Uint32Array(n) };
}

function describe(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  const length = (v as { length?: unknown }).length;
  return `${v.constructor?.name ?? 'an object'}${typeof length === 'number' ? ` of ${length}` : ''}`;
}

/**
 * The answers of `what` for `n` keys: `into` (the caller's arrays, reused as they are: the read
 * path writes every key's slot and size, NO_SLOT and 0 where it fails) when given, else fresh
 * ones. Throws INVALID_ARGUMENT naming the array that is not of the right type or length.
 */
export function slotResultInto(what: string, n: number, into: L1SlotResult | undefined): L1SlotResult {
  if (into === undefined) return slotResult(n);
  if (into === null || typeof into !== 'object') invalidArgument(`${what}: opts.into must be an L1SlotResult ({codes, slots, sizes}), got ${String(into)}`);
  checkInto(what, 'into.codes', into.codes, Uint8Array, n);
  checkInto(what, 'into.slots', into.slots, Int32Array, n);
  checkInto(what, 'into.sizes', into.sizes, Uint32Array, n);
  return into;
}

/** The per-key codes of `what` for `n` keys: `into` (the caller's array, reused) when given, else a fresh one. */
export function codesInto(what: string, n: number, into: Uint8Array | undefined): Uint8Array {
  if (into === undefined) return new Uint8Array(n);
  checkInto(what, 'into', into, Uint8Array, n);
  return into;
}

function checkInto(what: string, name: string, v: unknown, type: typeof Uint8Array | typeof Int32Array | typeof Uint32Array, n: number): void {
  if (!(v instanceof type) || v.length !== n) invalidArgument(`${what}: opts.${name} must be a ${type.name} of ${n} (one per key), got ${describe(v)}`);
}

/** Checks that `handle` is an `L1Manager.handle`: buffers of the sizes its config implies. */
export function checkHandle(handle: L1Handle): void {
  if (handle === null || typeof handle !== 'object' || !(handle.meta instanceof SharedArrayBuffer) || !Array.isArray(handle.segments)) {
    invalidArgument('attach: handle must be an L1Manager.handle (config, meta and segment SharedArrayBuffers)');
  }
  const config = handle.config;
  const layout = metaLayout(config.totalSlots, config.maxThreads, config.eventRingCapacity);
  const expected = allocationSizes(config);
  if (handle.meta.byteLength !== layout.byteLength || handle.segments.length !== expected.length
    || handle.segments.some((s, i) => !(s instanceof SharedArrayBuffer) || s.byteLength !== expected[i])) {
    invalidArgument('attach: handle buffers do not match handle.config (not an L1Manager.handle?)');
  }
}

/** The lease clock of an instance: `clock` when given (it must be a function), else `Date.now`. */
export function checkClock(clock: unknown): () => number {
  if (clock === undefined) return Date.now;
  if (typeof clock !== 'function') invalidArgument(`clock must be a function returning epoch ms, got ${typeof clock}`);
  return clock as () => number;
}

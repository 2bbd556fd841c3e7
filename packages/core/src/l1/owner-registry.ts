/**
 * The thread registry of L1's meta buffer: one word per owner id, `REGISTRY_FREE` or the
 * registering thread's `threadId + 1`. Owner id = index + 1, so 0 never names an owner.
 */
import { ErrorCode, KvtierError } from '../errors.ts';
import { REGISTRY_FREE, REGISTRY_RECLAIMING } from './layout.ts';

/** Claims a free registry entry for this thread (tagged with its threadId + 1); the owner id is its index + 1. */
export function registerOwner(registry: Int32Array, thread: number): number {
  const tag = thread + 1;
  for (let t = 0; t < registry.length; t++) {
    if (Atomics.compareExchange(registry, t, REGISTRY_FREE, tag) === REGISTRY_FREE) return t + 1;
  }
  throw new KvtierError(ErrorCode.CAPACITY, `L1: all ${registry.length} thread slots are in use (config.l1.maxThreads)`);
}

/**
 * Raises the word `words[at]` (the highest owner id ever registered) to `ownerId`: a thread does
 * it as it registers, before its first read batch can open a lease window.
 */
export function noteOwnerId(words: Int32Array, at: number, ownerId: number): void {
  for (let seen = Atomics.load(words, at); seen < ownerId; ) {
    const was = Atomics.compareExchange(words, at, seen, ownerId);
    if (was === seen) return;
    seen = was;
  }
}

/**
 * Takes owner `ownerId` for reclaiming if the thread with threadId `thread` still holds it (thread
 * ids are never reused in a process, so a freed id registered again by another thread fails this);
 * true when taken. The reclaim frees it when done.
 */
export function takeForReclaim(registry: Int32Array, ownerId: number, thread: number): boolean {
  return Atomics.compareExchange(registry, ownerId - 1, thread + 1, REGISTRY_RECLAIMING) === thread + 1;
}

/** Gives owner `ownerId`, taken by {@link takeForReclaim} and not freed, back to thread `thread` (a reclaim that could not finish). */
export function releaseFromReclaim(registry: Int32Array, ownerId: number, thread: number): void {
  Atomics.compareExchange(registry, ownerId - 1, REGISTRY_RECLAIMING, thread + 1);
}

/** Owner ids registered by the thread with this `worker_threads` threadId. */
export function ownersOfThread(registry: Int32Array, thread: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < registry.length; t++) if (Atomics.load(registry, t) === thread + 1) out.push(t + 1);
  return out;
}

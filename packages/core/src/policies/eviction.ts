/**
 * The eviction policy contract. A policy only orders keys: the caller (the L1 or L2 eviction
 * controller, or a benchmark) tells it what entered, what was used and what left, and asks it for
 * victims when it decides to evict. The policy never deletes anything itself.
 */
import { configError } from '../errors.ts';

/** One eviction policy instance: the order in which tracked keys should leave. */
export interface EvictionPolicy<K> {
  /** The registry name this policy was built under (`lru`, `arc`, …). */
  readonly name: string;
  /** Number of tracked (resident) keys; ghost entries some policies keep are not counted. */
  readonly size: number;
  /** Whether `key` is tracked (resident). */
  has(key: K): boolean;
  /**
   * Keys that entered the cache. One call per batch: a request's chunks enter together, in
   * prefix order, and the tail of the batch is evicted before its head. A tracked key counts
   * as used again. `tree`, when the caller knows it, places the keys in the prefix tree;
   * policies that do not use it ignore it.
   */
  created(keys: readonly K[], tree?: PrefixInfo<K>): void;
  /** Keys that were used (read). A batch in prefix order, like {@link created}; unknown keys are ignored. */
  touched(keys: readonly K[]): void;
  /** Keys that left the cache (evicted or deleted); unknown keys are ignored. */
  removed(keys: readonly K[]): void;
  /**
   * The keys to evict next: {@link victimCount}(`ratio`, `size`) of them (fewer when not enough
   * keys are eligible), most evictable first. Keys failing `eligible` (locked, pinned) are
   * skipped and not counted. Victims stay tracked until the caller reports them in
   * {@link removed}; a victim still tracked at the next call is sent back to the newest end of
   * its queue first, so a key the caller could not delete does not block later cycles.
   */
  victims(ratio: number, eligible?: (key: K) => boolean): K[];
  /** The policy's own state (queue sizes, current choice), when it has any worth reporting. */
  state?(): PolicyState;
  /** The tier's estimated hit ratio at several sizes, ascending, when the policy keeps an estimate. */
  curve?(): CurvePoint[];
}

/** One point of a tier's estimated hit-ratio curve. */
export interface CurvePoint {
  /** Cache size in keys. */
  readonly capacity: number;
  /** Estimated hit ratio at that size (per-chunk hits of the sampled references). */
  readonly hitRatio: number;
}

/**
 * What the caller knows of the prefix tree around one {@link EvictionPolicy.created} batch, one
 * entry per key. Chunk ids are prefix-chained, so every chunk has one parent: the chunk before it
 * in its prefix.
 */
export interface PrefixInfo<K> {
  /** `parents[i]`: the parent of `keys[i]`, or undefined for a first chunk or an unknown parent. */
  readonly parents: readonly (K | undefined)[];
  /** `tails[i]`: `keys[i]` is the last chunk of its request (a partial tail is rarely reused). */
  readonly tails: readonly boolean[];
}

/** A policy's own state for `status()` and metrics: plain data. */
export type PolicyState = Readonly<Record<string, string | number>>;

/** Options every eviction policy factory accepts. */
export interface EvictionPolicyOptions {
  /**
   * How many keys the cache holds when full. ARC and S3-FIFO size their queues and ghost lists
   * from it; without it they use the largest tracked size seen so far. LRU only preallocates.
   */
  capacity?: number;
}

/** Builds an eviction policy; registered by name with `registerEvictionPolicy`. */
export type EvictionPolicyFactory = <K>(options?: EvictionPolicyOptions) => EvictionPolicy<K>;

/** Slack so that `ratio × tracked` products such as 0.3 × 10 = 3.0000000000000004 round as meant. */
const RATIO_EPSILON = 1e-9;

/**
 * How many victims `ratio` of `tracked` keys means: none when ratio ≤ 0 or NaN or nothing is
 * tracked, all when ratio ≥ 1, otherwise ⌊ratio × tracked⌋ but at least 1 (so a small ratio on a
 * small cache still makes progress).
 */
export function victimCount(ratio: number, tracked: number): number {
  if (!(ratio > 0) || tracked <= 0) return 0;
  if (ratio >= 1) return tracked;
  return Math.max(1, Math.floor(ratio * tracked + RATIO_EPSILON));
}

/**
 * The ratio that makes {@link victimCount} answer exactly `count` for `tracked` keys, for callers
 * that must free a known number of entries. The half-key offset keeps it exact despite rounding.
 */
export function ratioForCount(count: number, tracked: number): number {
  if (count <= 0 || tracked <= 0) return 0;
  if (count >= tracked) return 1;
  return (count + 0.5) / tracked;
}

/** Validates the options shared by every factory; `policy` names the policy in messages. */
export function checkEvictionOptions(policy: string, options: EvictionPolicyOptions | undefined): number | undefined {
  const capacity = options?.capacity;
  if (capacity !== undefined && !(Number.isSafeInteger(capacity) && capacity > 0)) {
    configError(`eviction.capacity`, `must be a positive integer for policy '${policy}', got ${String(capacity)}`);
  }
  return capacity;
}

/**
 * Prefetch policies: given which adapters hold which of a request's keys, which adapter loads
 * each key. The prefetch controller trims the plan to the contiguous prefix afterwards.
 */
import { Bitmap } from '../shm/bitmap.ts';
import { invalidArgument } from '../errors.ts';
import { PolicyRegistry } from './registry.ts';

/** One adapter's lookup result: bit i set when the adapter holds key i. */
export interface AdapterLookup {
  /** The adapter's index (its position in the configured adapter list). */
  readonly index: number;
  /** Which keys it holds; undefined when its lookup gave no result (failed, timed out). */
  readonly found: Bitmap | undefined;
}

/**
 * Lookup results: descriptors naming their adapter, in any order, or bare bitmaps where the
 * position in the list is the adapter index (undefined = no result from that adapter).
 */
export type PrefetchLookups = readonly (AdapterLookup | Bitmap | undefined)[];

/** Decides which adapter loads which key. */
export interface PrefetchPolicy {
  /** The registry name. */
  readonly name: string;
  /**
   * Key indices (ascending, each in [0, keyCount)) to load from each adapter index. Every key
   * appears under at most one adapter; adapters that load nothing are absent.
   */
  plan(lookups: PrefetchLookups, keyCount: number): Map<number, number[]>;
}

/** Builds a prefetch policy; registered by name with {@link registerPrefetchPolicy}. */
export type PrefetchPolicyFactory = () => PrefetchPolicy;

/** The lookups as descriptors sorted by adapter index; rejects duplicate or malformed indices. */
function byAdapterIndex(lookups: PrefetchLookups): AdapterLookup[] {
  const out = lookups.map((l, position): AdapterLookup =>
    l === undefined || !('index' in l) ? { index: position, found: l } : l);
  out.sort((a, b) => a.index - b.index);
  for (let i = 0; i < out.length; i++) {
    const { index } = out[i];
    if (!Number.isSafeInteger(index) || index < 0) invalidArgument(`prefetch lookup: adapter index must be a non-negative integer, got ${String(index)}`);
    if (i > 0 && out[i - 1].index === index) invalidArgument(`prefetch lookup: adapter index ${index} appears twice`);
  }
  return out;
}

/** `default`: each key comes from the lowest-index adapter that holds it. */
const lowestIndexFirst: PrefetchPolicy = {
  name: 'default',
  plan(lookups, keyCount) {
    if (!Number.isSafeInteger(keyCount) || keyCount < 0) invalidArgument(`prefetch plan: keyCount must be a non-negative integer, got ${String(keyCount)}`);
    const out = new Map<number, number[]>();
    const wanted = Bitmap.prefix(keyCount, keyCount);
    for (const { index, found } of byAdapterIndex(lookups)) {
      if (found === undefined) continue;
      // `and` has the smaller size, so bits of `found` at or past keyCount never count.
      const taken = wanted.and(found).indices();
      if (taken.length === 0) continue;
      out.set(index, taken);
      for (const i of taken) wanted.clear(i);
    }
    return out;
  },
};

const registry = new PolicyRegistry<PrefetchPolicyFactory>('prefetch');
registry.register('default', () => lowestIndexFirst);

/** Registers a prefetch policy under `name` (once per name). */
export function registerPrefetchPolicy(name: string, factory: PrefetchPolicyFactory): void {
  registry.register(name, factory);
}

/** The prefetch policy named `name`; a CONFIG error naming it and the known names when unknown. */
export function createPrefetchPolicy(name: string): PrefetchPolicy {
  return registry.get(name)();
}

/** Registered prefetch policy names, sorted. */
export function prefetchPolicyNames(): string[] {
  return registry.names();
}

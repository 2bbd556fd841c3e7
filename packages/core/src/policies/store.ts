/**
 * Store policies: which L2 adapters receive a newly written L1 object, and whether L1 keeps it
 * afterwards. The store controller asks once per claimed batch.
 */
import { invalidArgument } from '../errors.ts';
import { PolicyRegistry } from './registry.ts';

/** Decides where a batch of written keys goes. */
export interface StorePolicy {
  /** The registry name. */
  readonly name: string;
  /**
   * The keys each adapter (by index, 0 ≤ index < `adapterCount`) should store. Adapters absent
   * from the map store nothing. Each list is a fresh array the caller may keep or mutate.
   */
  targets<K>(keys: readonly K[], adapterCount: number): Map<number, K[]>;
  /** The keys to delete from L1 once every target has stored them (a fresh array). */
  deleteFromL1<K>(keys: readonly K[]): K[];
}

/** Builds a store policy; registered by name with {@link registerStorePolicy}. */
export type StorePolicyFactory = () => StorePolicy;

function everyAdapter<K>(keys: readonly K[], adapterCount: number): Map<number, K[]> {
  if (!Number.isSafeInteger(adapterCount) || adapterCount < 0) invalidArgument(`adapterCount must be a non-negative integer, got ${String(adapterCount)}`);
  const out = new Map<number, K[]>();
  for (let i = 0; i < adapterCount; i++) out.set(i, keys.slice());
  return out;
}

/** `default`: write-through to every adapter; L1 keeps its copy. */
const writeThrough: StorePolicy = {
  name: 'default',
  targets: everyAdapter,
  deleteFromL1: () => [],
};

/** `skip_l1`: every adapter stores the keys, then L1 drops them (L1 is only a staging area). */
const skipL1: StorePolicy = {
  name: 'skip_l1',
  targets: everyAdapter,
  deleteFromL1: (keys) => keys.slice(),
};

const registry = new PolicyRegistry<StorePolicyFactory>('store');
registry.register('default', () => writeThrough);
registry.register('skip_l1', () => skipL1);

/** Registers a store policy under `name` (once per name). */
export function registerStorePolicy(name: string, factory: StorePolicyFactory): void {
  registry.register(name, factory);
}

/** The store policy named `name`; a CONFIG error naming it and the known names when unknown. */
export function createStorePolicy(name: string): StorePolicy {
  return registry.get(name)();
}

/** Registered store policy names, sorted. */
export function storePolicyNames(): string[] {
  return registry.names();
}

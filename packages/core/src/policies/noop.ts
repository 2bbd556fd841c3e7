/** A policy that never evicts: for tiers whose size is managed elsewhere, and for tests. */
import { checkEvictionOptions, type EvictionPolicy, type EvictionPolicyOptions } from './eviction.ts';

/** Tracks keys (so `size` and `has` stay truthful) and never proposes a victim. */
export class NoopPolicy<K> implements EvictionPolicy<K> {
  readonly name = 'noop';
  readonly #keys = new Set<K>();

  /** @param options - validated like every policy's, otherwise unused */
  constructor(options?: EvictionPolicyOptions) {
    checkEvictionOptions('noop', options);
  }

  get size(): number {
    return this.#keys.size;
  }

  has(key: K): boolean {
    return this.#keys.has(key);
  }

  created(keys: readonly K[]): void {
    for (const key of keys) this.#keys.add(key);
  }

  touched(): void {}

  removed(keys: readonly K[]): void {
    for (const key of keys) this.#keys.delete(key);
  }

  victims(): K[] {
    return [];
  }
}

/**
 * An eviction policy that forwards every call to another: the base of wrappers that observe a
 * policy (timing it, recording its events, checking its invariants) without changing its choices.
 */
import type { EvictionPolicy, PrefixInfo } from './eviction.ts';

/** Forwards every call to `inner`; subclasses override the calls they observe. */
export class ForwardingPolicy<K> implements EvictionPolicy<K> {
  /** The policy that decides. */
  protected readonly inner: EvictionPolicy<K>;

  /** @param inner - the policy that decides */
  constructor(inner: EvictionPolicy<K>) {
    this.inner = inner;
  }

  get name(): string {
    return this.inner.name;
  }

  get size(): number {
    return this.inner.size;
  }

  has(key: K): boolean {
    return this.inner.has(key);
  }

  created(keys: readonly K[], tree?: PrefixInfo<K>): void {
    this.inner.created(keys, tree);
  }

  touched(keys: readonly K[]): void {
    this.inner.touched(keys);
  }

  removed(keys: readonly K[]): void {
    this.inner.removed(keys);
  }

  victims(ratio: number, eligible?: (key: K) => boolean): K[] {
    return this.inner.victims(ratio, eligible);
  }
}

/**
 * What ARC and S3-FIFO share beyond the queues: both size their lists and ghosts from c, the
 * cache's capacity, which the caller may give or which is learned as the largest resident count.
 */
import { checkEvictionOptions, type EvictionPolicyOptions } from './eviction.ts';
import { QueuedPolicy } from './queued-policy.ts';
import type { SharedKeys } from './shared-keys.ts';

/** Base of the policies that keep ghosts and need c. */
export abstract class GhostPolicy<K> extends QueuedPolicy<K> {
  readonly #capacityOption: number;
  #peak = 0;

  /**
   * @param name - the policy's name, for option errors
   * @param queueCount - how many queues the subclass uses
   * @param options - `capacity`: c, the number of keys the cache holds when full
   * @param tree - whether the policy follows the prefix tree
   * @param keys - keys shared with other policies over the same resident keys; default its own
   */
  protected constructor(name: string, queueCount: number, options: EvictionPolicyOptions | undefined, tree: boolean, keys: SharedKeys<K> | undefined) {
    const capacity = checkEvictionOptions(name, options);
    // Residents plus ghosts: up to 2c ids.
    super(queueCount, capacity === undefined ? undefined : 2 * capacity, tree, keys);
    this.#capacityOption = capacity ?? 0;
  }

  /** c: the capacity option, or the largest resident count seen. */
  get capacity(): number {
    return Math.max(this.#capacityOption, this.#peak);
  }

  /** Call after keys entered: a larger resident count raises the learned c. */
  protected notePeak(): void {
    this.#peak = Math.max(this.#peak, this.size);
  }
}

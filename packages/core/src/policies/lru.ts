/**
 * Least recently used, prefix-aware: one queue, oldest at the head. `tree_lru` is the same with
 * the prefix-tree rules of {@link QueuedPolicy}: a non-leaf at the LRU end is parked until it is a
 * leaf again, and unreused request tails leave first.
 */
import { checkEvictionOptions, type EvictionPolicyOptions } from './eviction.ts';
import { NONE } from './ids.ts';
import { QueuedPolicy } from './queued-policy.ts';
import type { SharedKeys } from './shared-keys.ts';

const QUEUE = 0;

/**
 * LRU: evicts the least recently created or touched key first. Within one batch the tail goes
 * first, so a prefix outlives its suffix (LMCache evicted the head of a batch first).
 */
export class LruPolicy<K> extends QueuedPolicy<K> {
  readonly name: string;

  /**
   * @param options - `capacity` only preallocates
   * @param tree - follow the prefix tree (`tree_lru`)
   * @param keys - keys shared with other policies over the same resident keys (`adaptive`'s candidates); default its own
   */
  constructor(options?: EvictionPolicyOptions, tree = false, keys?: SharedKeys<K>) {
    const name = tree ? 'tree_lru' : 'lru';
    super(1, checkEvictionOptions(name, options), tree, keys);
    this.name = name;
  }

  protected get residents(): number {
    return this.queues.length(QUEUE);
  }

  protected enter(node: number): void {
    this.queues.add(node, QUEUE);
  }

  protected admit(node: number): void {
    this.queues.moveToTail(node, QUEUE);
  }

  protected use(node: number): void {
    this.queues.moveToTail(node, QUEUE);
  }

  protected leave(node: number): void {
    this.queues.delete(node);
  }

  protected select(count: number, eligible: (key: K) => boolean, out: K[]): void {
    for (let node = this.queues.head(QUEUE); node !== NONE && out.length < count;) {
      // Read before parking takes the node out of the list.
      const next = this.queues.next(node);
      if (eligible(this.queues.key(node))) {
        if (this.isLeaf(node)) this.propose(node, out);
        else this.park(node);
      }
      node = next;
    }
  }
}

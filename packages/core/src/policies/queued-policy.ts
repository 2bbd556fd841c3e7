/**
 * What LRU, ARC and S3-FIFO share: keys in {@link KeyQueues}, prefix-aware batch order, the
 * victim count, and the return of victims the caller did not delete.
 */
import { KeyQueues, NONE } from './key-queues.ts';
import { victimCount, type EvictionPolicy } from './eviction.ts';

const ALWAYS = (): boolean => true;

/** Base of the list-based policies; subclasses say where keys go and which leave first. */
export abstract class QueuedPolicy<K> implements EvictionPolicy<K> {
  abstract readonly name: string;
  /** Every key the policy knows: resident ones and, for ARC and S3-FIFO, ghosts. */
  protected readonly queues: KeyQueues<K>;
  /** Keys returned by the last `victims()` call. */
  #proposed: K[] = [];

  /**
   * @param queueCount - how many queues the subclass uses
   * @param initialNodes - nodes to preallocate
   */
  protected constructor(queueCount: number, initialNodes: number | undefined) {
    this.queues = new KeyQueues<K>(queueCount, initialNodes);
  }

  abstract get size(): number;

  /** Whether a live node is resident (not a ghost). */
  protected abstract isResident(node: number): boolean;
  /** A key entered: `node` is its node, or {@link NONE} when the policy did not know it. */
  protected abstract enter(key: K, node: number): void;
  /** A resident node was used. */
  protected abstract use(node: number): void;
  /** A resident node left the cache; `wasVictim` when `victims()` had proposed it. */
  protected abstract leave(node: number, wasVictim: boolean): void;
  /** Appends up to `count` eligible resident victims to `out`, most evictable first. */
  protected abstract select(count: number, eligible: (key: K) => boolean, out: K[]): void;

  has(key: K): boolean {
    const node = this.queues.find(key);
    return node !== NONE && this.isResident(node);
  }

  // Batches run tail first, so the head of a batch is the most recently handled: within a
  // request's chunks the suffix is evicted before the prefix it depends on.
  created(keys: readonly K[]): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const node = this.queues.find(keys[i]);
      if (node !== NONE && this.isResident(node)) this.#use(node);
      else this.enter(keys[i], node);
    }
  }

  touched(keys: readonly K[]): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const node = this.queues.find(keys[i]);
      if (node !== NONE && this.isResident(node)) this.#use(node);
    }
  }

  removed(keys: readonly K[]): void {
    for (const key of keys) {
      const node = this.queues.find(key);
      if (node === NONE || !this.isResident(node)) continue;
      const wasVictim = this.queues.isProposed(node);
      this.queues.setProposed(node, false);
      this.leave(node, wasVictim);
    }
  }

  victims(ratio: number, eligible: (key: K) => boolean = ALWAYS): K[] {
    // A victim still here was not deletable (locked, pinned: in use right now): give it the
    // newest place in its queue so the same keys do not head every later cycle.
    for (const key of this.#proposed) {
      const node = this.queues.find(key);
      if (node !== NONE && this.queues.isProposed(node)) {
        this.queues.setProposed(node, false);
        this.queues.moveToTail(node, this.queues.queueOf(node));
      }
    }
    const out: K[] = [];
    this.select(victimCount(ratio, this.size), eligible, out);
    for (const key of out) this.queues.setProposed(this.queues.find(key), true);
    this.#proposed = out.slice();
    return out;
  }

  #use(node: number): void {
    this.queues.setProposed(node, false);
    this.use(node);
  }
}

/**
 * ARC (Megiddo & Modha, FAST'03), decoupled from the cache it advises.
 *
 * Classic ARC owns a cache of c pages and evicts one page per miss. Here the caller owns the
 * cache and asks for `victims(ratio)` in batches, so the algorithm is split along that line:
 * - created() is ARC's request path: a key in ghost list B1 (recently evicted after one use)
 *   grows the T1 target p, one in B2 (evicted after repeated use) shrinks it; both re-enter in T2.
 *   An unknown key enters T1. A resident key counts as a hit (moves to T2), as touched() does.
 * - victims(n) replays ARC's REPLACE n times on counters, without moving anything: each step takes
 *   the next eligible key from the LRU end of T1 while the remaining |T1| exceeds p (or T2 has
 *   nothing eligible left), else from T2.
 * - removed() of a key victims() proposed is ARC's eviction: it becomes a ghost (T1 -> B1,
 *   T2 -> B2). A key removed without having been proposed (an explicit delete, a temporary object
 *   freed after its read) leaves no ghost: its return says nothing about an eviction mistake.
 * - c is the `capacity` option, or the largest resident count seen. Ghosts are trimmed as in
 *   ARC: |T1| + |B1| ≤ c and |T1| + |T2| + |B1| + |B2| ≤ 2c.
 * Batches are prefix-aware like LRU: within one batch the tail sits nearest the LRU end.
 * `tree_arc` is the same with the prefix-tree rules of {@link QueuedPolicy}: a non-leaf at the LRU
 * end of T1 or T2 is parked until it is a leaf again, and unreused request tails leave first.
 * Parked keys are not counted in |T1| when REPLACE compares it with p.
 */
import type { EvictionPolicyOptions } from './eviction.ts';
import { GhostPolicy } from './ghost-policy.ts';
import { NONE } from './ids.ts';
import type { SharedKeys } from './shared-keys.ts';

/** Resident, seen once since entering. */
const T1 = 0;
/** Resident, seen at least twice. */
const T2 = 1;
/** Ghosts evicted from T1. */
const B1 = 2;
/** Ghosts evicted from T2. */
const B2 = 3;

/** Adaptive Replacement Cache: balances recency (T1) against frequency (T2) by ghost hits. */
export class ArcPolicy<K> extends GhostPolicy<K> {
  readonly name: string;
  #p = 0;

  /**
   * @param options - `capacity`: c, the number of keys the cache holds when full
   * @param tree - follow the prefix tree (`tree_arc`)
   * @param keys - keys shared with other policies over the same resident keys (`adaptive`'s candidates); default its own
   */
  constructor(options?: EvictionPolicyOptions, tree = false, keys?: SharedKeys<K>) {
    const name = tree ? 'tree_arc' : 'arc';
    super(name, 4, options, tree, keys);
    this.name = name;
  }

  protected get residents(): number {
    return this.queues.length(T1) + this.queues.length(T2);
  }

  /** ARC's p: how many keys T1 (recency) may hold before victims come from T2 (frequency). */
  get recencyTarget(): number {
    return this.#p;
  }

  protected enter(node: number, known: boolean): void {
    const q = this.queues;
    if (!known) {
      q.add(node, T1);
    } else {
      const b1 = q.length(B1), b2 = q.length(B2);
      if (q.queueOf(node) === B1) this.#p = Math.min(this.capacity, this.#p + Math.max(1, b2 / b1));
      else this.#p = Math.max(0, this.#p - Math.max(1, b1 / b2));
      q.moveToTail(node, T2);
    }
    this.notePeak();
    this.#trimGhosts();
  }

  protected admit(node: number): void {
    this.queues.moveToTail(node, T1);
    this.notePeak();
  }

  protected use(node: number): void {
    this.queues.moveToTail(node, T2);
  }

  protected leave(node: number, wasVictim: boolean): void {
    if (!wasVictim) {
      this.queues.delete(node);
      return;
    }
    this.queues.moveToTail(node, this.queues.queueOf(node) === T1 ? B1 : B2);
    this.#trimGhosts();
  }

  protected select(count: number, eligible: (key: K) => boolean, out: K[]): void {
    const q = this.queues;
    let t1 = q.length(T1);
    let recent = this.#nextEligible(q.head(T1), eligible);
    let frequent = this.#nextEligible(q.head(T2), eligible);
    while (out.length < count && (recent !== NONE || frequent !== NONE)) {
      if (frequent === NONE || (recent !== NONE && t1 > this.#p)) {
        this.propose(recent, out);
        t1--;
        recent = this.#nextEligible(q.next(recent), eligible);
      } else {
        this.propose(frequent, out);
        frequent = this.#nextEligible(q.next(frequent), eligible);
      }
    }
  }

  /** The first eligible leaf from `node` on in its list, parking the non-leaves met (no closure: this runs per victim). */
  #nextEligible(node: number, eligible: (key: K) => boolean): number {
    const q = this.queues;
    while (node !== NONE) {
      const next = q.next(node);
      if (eligible(q.key(node))) {
        if (this.isLeaf(node)) return node;
        this.park(node);
      }
      node = next;
    }
    return NONE;
  }

  #trimGhosts(): void {
    const q = this.queues;
    const c = this.capacity;
    while (q.length(B1) > 0 && q.length(T1) + q.length(B1) > c) q.delete(q.head(B1));
    while (q.length(B2) > 0 && this.#tracked() > 2 * c) q.delete(q.head(B2));
    while (q.length(B1) > 0 && this.#tracked() > 2 * c) q.delete(q.head(B1));
  }

  /** |T1| + |T2| + |B1| + |B2|. */
  #tracked(): number {
    const q = this.queues;
    return q.length(T1) + q.length(T2) + q.length(B1) + q.length(B2);
  }
}

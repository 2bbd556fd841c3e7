/**
 * What LRU, ARC and S3-FIFO share: keys in {@link KeyQueues}, prefix-aware batch order, the
 * victim count, and the return of victims the caller did not delete.
 *
 * Tree-aware variants (`tree_lru`, `tree_arc`, `tree_s3fifo`) add two rules here, so that every
 * list-based policy can have them: only leaves of the cached prefix tree are victims, and a
 * request's last chunk enters a first-out queue of its own, evicted before anything else, until it
 * is used again (a partial tail is rarely reused; when it is, it joins the policy as a new key).
 *
 * A non-leaf a subclass meets at the head of a list is parked: it leaves its list for a parked
 * queue and returns to the head of that list (it was the most evictable when parked) once its last
 * resident child left, or earlier when a use moves it. A node is parked at most once per time it
 * gained a child, so a victim scan steps over each non-leaf once: O(1) amortized per event, where
 * moving non-leaves to the list's tail cost one step per non-leaf ahead of every leaf.
 */
import { KeyQueues, NONE } from './key-queues.ts';
import { victimCount, type EvictionPolicy, type PrefixInfo } from './eviction.ts';
import { PrefixForest } from './prefix-forest.ts';

const ALWAYS = (): boolean => true;
/** The tail and parked queues' index when the policy is not tree-aware: no queue has it. */
const NO_QUEUE = -1;

/** Base of the list-based policies; subclasses say where keys go and which leave first. */
export abstract class QueuedPolicy<K> implements EvictionPolicy<K> {
  abstract readonly name: string;
  /** Every key the policy knows: resident ones and, for ARC and S3-FIFO, ghosts. */
  protected readonly queues: KeyQueues<K>;
  /** The prefix tree (tree-aware policies only). */
  readonly #forest: PrefixForest<K> | undefined;
  /** The queue of request tails never used again (tree-aware policies only). */
  readonly #tail: number;
  /** The queue of non-leaves met at the head of a list (tree-aware policies only). */
  readonly #parked: number;
  /** Per parked node, the queue it returns to. */
  readonly #origin: number[] = [];
  /** Keys returned by the last `victims()` call. */
  #proposed: K[] = [];
  /** Nodes entered by the current `created()` call, to attach to their parents. */
  readonly #entered: number[] = [];

  /**
   * @param queueCount - how many queues the subclass uses
   * @param initialNodes - nodes to preallocate
   * @param tree - whether the policy follows the prefix tree (leaf-only victims, tail queue)
   */
  protected constructor(queueCount: number, initialNodes: number | undefined, tree = false) {
    this.queues = new KeyQueues<K>(queueCount + (tree ? 2 : 0), initialNodes);
    this.#tail = tree ? queueCount : NO_QUEUE;
    this.#parked = tree ? queueCount + 1 : NO_QUEUE;
    this.#forest = tree ? new PrefixForest(this.queues, (node) => this.#resident(node), (node) => this.#unpark(node)) : undefined;
  }

  get size(): number {
    return this.residents + (this.#tail === NO_QUEUE ? 0 : this.queues.length(this.#tail) + this.queues.length(this.#parked));
  }

  /** Resident keys in the subclass's own queues (the tail and parked queues are counted by {@link size}). */
  protected abstract get residents(): number;
  /** Whether a live node in one of the subclass's queues is resident (not a ghost). */
  protected abstract isResident(node: number): boolean;
  /** A key entered: `node` is its node, or {@link NONE} when the policy did not know it. */
  protected abstract enter(key: K, node: number): void;
  /** A node of the tail queue was used again: it joins the subclass's queues as a new key would. */
  protected abstract admit(node: number): void;
  /** A resident node was used. */
  protected abstract use(node: number): void;
  /** A resident node left the cache; `wasVictim` when `victims()` had proposed it. */
  protected abstract leave(node: number, wasVictim: boolean): void;
  /**
   * Appends up to `count` eligible resident victims to `out` with {@link propose}, most
   * evictable first, parking nodes that are not {@link isLeaf} ({@link park}).
   */
  protected abstract select(count: number, eligible: (key: K) => boolean, out: K[]): void;

  has(key: K): boolean {
    const node = this.queues.find(key);
    return node !== NONE && this.#resident(node);
  }

  // Batches run tail first, so the head of a batch is the most recently handled: within a
  // request's chunks the suffix is evicted before the prefix it depends on.
  created(keys: readonly K[], tree?: PrefixInfo<K>): void {
    const forest = this.#forest;
    for (let i = keys.length - 1; i >= 0; i--) {
      const node = this.queues.find(keys[i]);
      if (node !== NONE && this.#resident(node)) {
        this.#use(node);
        continue;
      }
      if (forest !== undefined && node === NONE && tree?.tails[i] === true) this.queues.add(keys[i], this.#tail);
      else this.enter(keys[i], node);
      if (forest !== undefined) this.#entered.push(i);
    }
    if (forest === undefined) return;
    // Parents are attached once the whole batch is in, so that a parent entering in the same
    // batch (after its child, tail first) is resident and counts the child; in prefix order (the
    // reverse of entry order), so that attaching a parent, which zeroes its count, precedes its children.
    for (let j = this.#entered.length - 1; j >= 0; j--) forest.attach(this.queues.find(keys[this.#entered[j]]), tree?.parents[this.#entered[j]]);
    this.#entered.length = 0;
  }

  touched(keys: readonly K[]): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const node = this.queues.find(keys[i]);
      if (node !== NONE && this.#resident(node)) this.#use(node);
    }
  }

  removed(keys: readonly K[]): void {
    for (const key of keys) {
      const node = this.queues.find(key);
      if (node === NONE || !this.#resident(node)) continue;
      const wasVictim = this.queues.isProposed(node);
      this.queues.setProposed(node, false);
      // The subclass sees a parked node back in the list it came from.
      if (this.queues.queueOf(node) === this.#parked) this.queues.moveToTail(node, this.#origin[node]);
      this.#forest?.detach(node);
      // A tail victim leaves no ghost: it was never reused, its return would say nothing.
      if (this.queues.queueOf(node) === this.#tail) this.queues.delete(node);
      else this.leave(node, wasVictim);
    }
  }

  /**
   * Keys that left as victims another policy chose over the same keys (`adaptive`'s followers):
   * like {@link removed}, but each leaves the ghost a victim of this policy would.
   */
  evicted(keys: readonly K[]): void {
    for (const key of keys) {
      const node = this.queues.find(key);
      if (node !== NONE && this.#resident(node)) this.queues.setProposed(node, true);
    }
    this.removed(keys);
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
    const count = victimCount(ratio, this.size);
    if (this.#forest !== undefined) {
      this.#forest.clearProposals();
      this.#selectTails(count, eligible, out);
    }
    if (out.length < count) this.select(count, eligible, out);
    for (const key of out) this.queues.setProposed(this.queues.find(key), true);
    this.#proposed = out.slice();
    return out;
  }

  /** Whether a resident node may be evicted by the tree rule: always, unless the policy is tree-aware. */
  protected isLeaf(node: number): boolean {
    return this.#forest === undefined || this.#forest.isLeaf(node);
  }

  /**
   * A non-leaf met at the head of a list leaves it for the parked queue, until its last resident
   * child left (or a use moves it): the scan goes on with the node after it.
   */
  protected park(node: number): void {
    this.#origin[node] = this.queues.queueOf(node);
    this.queues.moveToTail(node, this.#parked);
  }

  /** Appends `node`'s key to `out` as a victim; its parent may be a leaf from now on. */
  protected propose(node: number, out: K[]): void {
    out.push(this.queues.key(node));
    this.#forest?.propose(node);
  }

  /** Victims from the tail queue first; a tail that gained a child was reused and is admitted. */
  #selectTails(count: number, eligible: (key: K) => boolean, out: K[]): void {
    for (let node = this.queues.head(this.#tail); node !== NONE && out.length < count;) {
      const next = this.queues.next(node);
      if (eligible(this.queues.key(node))) {
        if (this.isLeaf(node)) this.propose(node, out);
        else this.admit(node);
      }
      node = next;
    }
  }

  #resident(node: number): boolean {
    const queue = this.queues.queueOf(node);
    return queue === this.#tail || queue === this.#parked || this.isResident(node);
  }

  /** A node lost its last resident child: a parked one is the most evictable of its list again. */
  #unpark(node: number): void {
    if (this.queues.queueOf(node) === this.#parked) this.queues.moveToHead(node, this.#origin[node]);
  }

  #use(node: number): void {
    this.queues.setProposed(node, false);
    if (this.queues.queueOf(node) === this.#tail) this.admit(node);
    this.use(node);
  }
}

/**
 * What LRU, ARC and S3-FIFO share: keys in {@link KeyQueues} over the ids of a {@link SharedKeys}
 * (their own, or one shared with other policies over the same resident keys: `adaptive`'s
 * candidates), prefix-aware batch order, the victim count, and the return of victims the caller
 * did not delete. Events go to the shared keys, which tell every policy sharing them by id: a
 * policy sharing its keys sees every created, touched and removed key, and the removal of a
 * victim another of them proposed is an eviction for it too (it leaves the ghost its own would).
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
import { invalidArgument } from '../errors.ts';
import { victimCount, type EvictionPolicy, type PrefixInfo } from './eviction.ts';
import { NONE, grown } from './ids.ts';
import { KeyQueues } from './key-queues.ts';
import { SharedKeys } from './shared-keys.ts';
import { clear } from './scratch.ts';

const ALWAYS = (): boolean => true;
/** The tail and parked queues' index when the policy is not tree-aware: no queue has it. */
const NO_QUEUE = -1;

/** Base of the list-based policies; subclasses say where keys go and which leave first. */
export abstract class QueuedPolicy<K> implements EvictionPolicy<K> {
  abstract readonly name: string;
  /** Every key the policy tracks: resident ones and, for ARC and S3-FIFO, ghosts. */
  protected readonly queues: KeyQueues<K>;
  /** The key index, residency and prefix tree, maybe shared with other policies. */
  readonly #keys: SharedKeys<K>;
  /** The queue of request tails never used again (tree-aware policies only). */
  readonly #tail: number;
  /** The queue of non-leaves met at the head of a list (tree-aware policies only). */
  readonly #parked: number;
  /** Per parked id, the queue it returns to. */
  #origin: Uint8Array;
  /** Ids returned by the last `victims()` call. */
  readonly #proposed: number[] = [];
  /**
   * Per id, 1 while this policy's last `victims()` call proposed it and it was neither used nor
   * removed since: its own mark. The shared PROPOSED flag is any member's, and an id of
   * {@link #proposed} may have been recycled for another key since (proposed by another member).
   */
  #mine: Uint8Array;

  /**
   * @param queueCount - how many queues the subclass uses
   * @param initialNodes - ids to preallocate (with keys of its own)
   * @param tree - whether the policy follows the prefix tree (leaf-only victims, tail queue)
   * @param keys - keys shared with other policies over the same resident keys; default its own
   */
  protected constructor(queueCount: number, initialNodes: number | undefined, tree: boolean, keys: SharedKeys<K> | undefined) {
    if (keys !== undefined && keys.tree !== tree) invalidArgument(`a ${tree ? 'tree-aware' : 'classic'} policy cannot share keys that ${keys.tree ? 'follow' : 'ignore'} the prefix tree`);
    this.#keys = keys ?? new SharedKeys<K>({ tree, initialIds: initialNodes });
    this.queues = new KeyQueues<K>(this.#keys, queueCount + (tree ? 2 : 0));
    this.#origin = new Uint8Array(this.#keys.length);
    this.#mine = new Uint8Array(this.#keys.length);
    this.#tail = tree ? queueCount : NO_QUEUE;
    this.#parked = tree ? queueCount + 1 : NO_QUEUE;
    this.#keys.join({
      entered: (id, tail) => this.#entered(id, tail),
      used: (id) => this.#used(id),
      left: (id, wasVictim) => this.#left(id, wasVictim),
      becameLeaf: (id) => this.#unpark(id),
    }, (length) => this.#grow(length));
  }

  get size(): number {
    return this.residents + (this.#tail === NO_QUEUE ? 0 : this.queues.length(this.#tail) + this.queues.length(this.#parked));
  }

  /** Resident keys in the subclass's own queues (the tail and parked queues are counted by {@link size}). */
  protected abstract get residents(): number;
  /** A key entered: `known` when the policy tracks its id already (a ghost of its own). */
  protected abstract enter(id: number, known: boolean): void;
  /** An id of the tail queue was used again: it joins the subclass's queues as a new key would. */
  protected abstract admit(id: number): void;
  /** A resident id was used. */
  protected abstract use(id: number): void;
  /** A resident id left the cache; `wasVictim` when `victims()` had proposed it. */
  protected abstract leave(id: number, wasVictim: boolean): void;
  /**
   * Appends up to `count` eligible resident victims to `out` with {@link propose}, most
   * evictable first, parking ids that are not {@link isLeaf} ({@link park}).
   */
  protected abstract select(count: number, eligible: (key: K) => boolean, out: K[]): void;

  has(key: K): boolean {
    return this.#keys.has(key);
  }

  created(keys: readonly K[], tree?: PrefixInfo<K>): void {
    this.#keys.created(keys, tree);
  }

  touched(keys: readonly K[]): void {
    this.#keys.touched(keys);
  }

  removed(keys: readonly K[]): void {
    this.#keys.removed(keys);
  }

  victims(ratio: number, eligible: (key: K) => boolean = ALWAYS): K[] {
    // A victim still here was not deletable (locked, pinned: in use right now): give it the
    // newest place in its queue so the same keys do not head every later cycle.
    for (const id of this.#proposed) {
      if (this.#mine[id] !== 0) {
        this.#mine[id] = 0;
        this.queues.moveToTail(id, this.queues.queueOf(id));
      }
    }
    clear(this.#proposed);
    this.#keys.endProposals();
    const out: K[] = [];
    const count = victimCount(ratio, this.size);
    const forest = this.#keys.forest;
    if (forest !== undefined) {
      forest.clearProposals();
      this.#selectTails(count, eligible, out);
    }
    if (out.length < count) this.select(count, eligible, out);
    for (const id of this.#proposed) {
      this.#keys.propose(id);
      this.#mine[id] = 1;
    }
    return out;
  }

  /** Whether a resident id may be evicted by the tree rule: always, unless the policy is tree-aware. */
  protected isLeaf(id: number): boolean {
    const forest = this.#keys.forest;
    return forest === undefined || forest.isLeaf(id);
  }

  /**
   * A non-leaf met at the head of a list leaves it for the parked queue, until its last resident
   * child left (or a use moves it): the scan goes on with the id after it.
   */
  protected park(id: number): void {
    this.#origin[id] = this.queues.queueOf(id);
    this.queues.moveToTail(id, this.#parked);
  }

  /** Appends `id`'s key to `out` as a victim; its parent may be a leaf from now on. */
  protected propose(id: number, out: K[]): void {
    out.push(this.queues.key(id));
    this.#proposed.push(id);
    this.#keys.forest?.propose(id);
  }

  /** Victims from the tail queue first; a tail that gained a child was reused and is admitted. */
  #selectTails(count: number, eligible: (key: K) => boolean, out: K[]): void {
    for (let id = this.queues.head(this.#tail); id !== NONE && out.length < count;) {
      const next = this.queues.next(id);
      if (eligible(this.queues.key(id))) {
        if (this.isLeaf(id)) this.propose(id, out);
        else this.admit(id);
      }
      id = next;
    }
  }

  /** A key that was not resident entered: a new request tail goes to the tail queue. */
  #entered(id: number, tail: boolean): void {
    const known = this.queues.tracks(id);
    if (tail && !known) this.queues.add(id, this.#tail);
    else this.enter(id, known);
  }

  #used(id: number): void {
    this.#mine[id] = 0;
    if (this.queues.queueOf(id) === this.#tail) this.admit(id);
    this.use(id);
  }

  #left(id: number, wasVictim: boolean): void {
    this.#mine[id] = 0;
    // The subclass sees a parked id back in the list it came from.
    if (this.queues.queueOf(id) === this.#parked) this.queues.moveToTail(id, this.#origin[id]);
    // A tail victim leaves no ghost: it was never reused, its return would say nothing.
    if (this.queues.queueOf(id) === this.#tail) this.queues.delete(id);
    else this.leave(id, wasVictim);
  }

  /** An id lost its last resident child: a parked one is the most evictable of its list again. */
  #unpark(id: number): void {
    if (this.queues.queueOf(id) === this.#parked) this.queues.moveToHead(id, this.#origin[id]);
  }

  #grow(length: number): void {
    this.queues.grow(length);
    this.#origin = grown(this.#origin, new Uint8Array(length));
    this.#mine = grown(this.#mine, new Uint8Array(length));
  }
}

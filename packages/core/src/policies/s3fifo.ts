/**
 * S3-FIFO (Yang et al., SOSP'23), decoupled from the cache it advises.
 *
 * Three FIFO queues: small S (about 10% of the cache) takes new keys, main M the keys that proved
 * themselves, ghost G remembers keys recently dropped from S. Each resident key has an access
 * counter capped at 3 (the paper's two bits).
 * - created(): a ghost re-enters M; an unknown key enters S; a resident key counts as an access.
 * - touched(): the counter goes up by one (capped); nothing moves, FIFO order is the point.
 * - victims(n) runs the paper's eviction n times: from S while S holds at least its share,
 *   otherwise from M. In S, a key accessed since it entered moves to M (its counter cleared, as
 *   in the paper), and a key never accessed (a one-hit wonder) is the victim. In M, a key with a
 *   non-zero counter is decremented and reinserted at M's tail, and one at zero is the victim.
 *   Those moves happen at once (they remove nothing); the victims stay put until removed().
 * - removed() of a victim proposed from S leaves a ghost in G; any other removal leaves none.
 * - c is the `capacity` option, or the largest resident count seen; S's share is 10% of c and G
 *   holds at most as many keys as M's share, as in the paper.
 * Batches are prefix-aware: within one created() batch the tail sits nearest the head of S.
 * `tree_s3fifo` is the same with the prefix-tree rules of {@link QueuedPolicy}: a non-leaf at the
 * head of S moves to M as an accessed key would, one at the head of M (its counter at zero) is
 * parked until it is a leaf again, and unreused request tails leave first.
 */
import type { EvictionPolicyOptions } from './eviction.ts';
import { GhostPolicy } from './ghost-policy.ts';
import { NONE } from './ids.ts';
import type { SharedKeys } from './shared-keys.ts';

const SMALL = 0;
const MAIN = 1;
const GHOST = 2;
/** S's share of the capacity. */
const SMALL_SHARE = 0.1;
/** The access counter's cap (two bits). */
const MAX_FREQUENCY = 3;

/** A cursor over one queue that survives the queue changing behind it during a scan. */
interface Scan {
  /** The last node the scan left in place, or NONE before the first. */
  last: number;
  /** Eligible keys of the queue the scan has not passed yet (S's share is judged on them). */
  left: number;
}

/** S3-FIFO: quick demotion of one-hit wonders through a small FIFO, frequency-aware main FIFO. */
export class S3FifoPolicy<K> extends GhostPolicy<K> {
  readonly name: string;
  /** The two scans of a `select()` call, reset at each (not allocated per call). */
  readonly #small: Scan = { last: NONE, left: 0 };
  readonly #main: Scan = { last: NONE, left: 0 };

  /**
   * @param options - `capacity`: the number of keys the cache holds when full
   * @param tree - follow the prefix tree (`tree_s3fifo`)
   * @param keys - keys shared with other policies over the same resident keys (`adaptive`'s candidates); default its own
   */
  constructor(options?: EvictionPolicyOptions, tree = false, keys?: SharedKeys<K>) {
    const name = tree ? 'tree_s3fifo' : 's3fifo';
    super(name, 3, options, tree, keys);
    this.name = name;
  }

  protected get residents(): number {
    return this.queues.length(SMALL) + this.queues.length(MAIN);
  }

  /** Number of keys in the small queue (new keys not yet proven). */
  get smallSize(): number {
    return this.queues.length(SMALL);
  }

  /** Number of ghost keys remembered. */
  get ghostSize(): number {
    return this.queues.length(GHOST);
  }

  get #smallTarget(): number {
    return Math.max(1, Math.round(SMALL_SHARE * this.capacity));
  }

  protected enter(node: number, known: boolean): void {
    if (!known) {
      this.queues.add(node, SMALL);
    } else {
      this.queues.moveToTail(node, MAIN);
      this.queues.setCounter(node, 0);
    }
    this.notePeak();
    this.#trimGhosts();
  }

  protected admit(node: number): void {
    this.queues.moveToTail(node, SMALL);
    this.queues.setCounter(node, 0);
    this.notePeak();
  }

  protected use(node: number): void {
    this.queues.setCounter(node, Math.min(MAX_FREQUENCY, this.queues.counter(node) + 1));
  }

  protected leave(node: number, wasVictim: boolean): void {
    if (wasVictim && this.queues.queueOf(node) === SMALL) {
      this.queues.moveToTail(node, GHOST);
      this.queues.setCounter(node, 0);
      this.#trimGhosts();
    } else {
      this.queues.delete(node);
    }
  }

  protected select(count: number, eligible: (key: K) => boolean, out: K[]): void {
    const small = this.#small;
    const main = this.#main;
    small.last = NONE;
    small.left = this.queues.length(SMALL);
    main.last = NONE;
    main.left = 0;
    while (out.length < count) {
      let victim: number;
      if (small.left >= this.#smallTarget) {
        victim = this.#fromSmall(small, eligible);
        if (victim === NONE) victim = this.#fromMain(main, eligible);
      } else {
        victim = this.#fromMain(main, eligible);
        if (victim === NONE) victim = this.#fromSmall(small, eligible);
      }
      if (victim === NONE) return;
      this.propose(victim, out);
    }
  }

  /** The next victim from S: a leaf never accessed; accessed keys and non-leaves met move to M. */
  #fromSmall(small: Scan, eligible: (key: K) => boolean): number {
    const q = this.queues;
    for (let node = this.#start(small, SMALL); node !== NONE; node = this.#start(small, SMALL)) {
      if (!eligible(q.key(node))) {
        small.last = node;
        continue;
      }
      small.left--;
      if (q.counter(node) === 0 && this.isLeaf(node)) {
        small.last = node;
        return node;
      }
      q.moveToTail(node, MAIN);
      q.setCounter(node, 0);
    }
    return NONE;
  }

  /** The next victim from M: a leaf at counter zero; others are decremented and reinserted, non-leaves parked. */
  #fromMain(main: Scan, eligible: (key: K) => boolean): number {
    const q = this.queues;
    for (let node = this.#start(main, MAIN); node !== NONE; node = this.#start(main, MAIN)) {
      if (!eligible(q.key(node))) {
        main.last = node;
        continue;
      }
      if (q.counter(node) > 0) {
        q.setCounter(node, q.counter(node) - 1);
        q.moveToTail(node, MAIN);
      } else if (this.isLeaf(node)) {
        main.last = node;
        return node;
      } else {
        this.park(node);
      }
    }
    return NONE;
  }

  /** The next node a scan looks at: after the last node it left in place. */
  #start(scan: Scan, queue: number): number {
    return scan.last === NONE ? this.queues.head(queue) : this.queues.next(scan.last);
  }

  #trimGhosts(): void {
    const limit = Math.max(1, this.capacity - this.#smallTarget);
    while (this.queues.length(GHOST) > limit) this.queues.delete(this.queues.head(GHOST));
  }
}

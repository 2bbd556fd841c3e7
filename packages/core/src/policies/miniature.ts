/**
 * A miniature simulation: one eviction policy over a cache of `capacity × scale × rate` keys, fed
 * only the references of sampled keys (see sampling.ts). Its hit ratio estimates what the policy
 * would hit on the whole stream with a cache of `capacity × scale` keys. A reference hits when the
 * key is in the miniature; a miss inserts it, evicting first when the miniature is full.
 *
 * Shallow keys (depth below {@link SHALLOW_DEPTH} in their request, when the caller knows depths)
 * are always tracked: a few very hot shallow chunks (a shared instruction prompt) carry much of the
 * hit ratio, and sampling them or not by luck moved the estimate by up to 0.10. An unsampled
 * shallow key stands for itself only, so it weighs `rate` where a sampled key weighs 1, both in the
 * miniature's occupancy and in its hit counts.
 *
 * The miniature follows the prefix tree induced on its tracked keys: a tracked key's parent is its
 * nearest tracked ancestor (the previous tracked key of its batch, or of the batch before when the
 * caller says this batch extends it). A tree-aware policy then never evicts a tracked key before
 * its tracked descendants, as at full size, so the miniature compares the tree-aware variants it
 * simulates, not only their tail rule.
 */
import { ratioForCount, type EvictionPolicy } from './eviction.ts';
import { miniatureRate } from './sampling.ts';
import { clear } from './scratch.ts';

/** Sampled keys a miniature keeps at least (the rate is raised for small caches). */
export const MINIATURE_MIN_KEYS = 128;
/**
 * Recent hit ratios average over about this many miniature turnovers (references that replace its
 * whole content), so they follow the workload's phases without reacting to a burst.
 */
const HORIZON_TURNOVERS = 4;
/** …and over at least this many sampled references, for a stable estimate on a tiny miniature. */
const MIN_HORIZON = 1000;

/** Keys this close to the start of their request are always tracked (see above). */
export const SHALLOW_DEPTH = 4;

/** {@link Miniature.outcome}: the key was not sampled. */
export const NOT_SAMPLED = 0;
/** {@link Miniature.outcome}: the sampled key missed. */
export const MISSED = 1;
/** {@link Miniature.outcome}: the sampled key hit. */
export const HIT = 2;

/** A policy simulated on sampled references, at a given scale of the tier it shadows. */
export class Miniature<K> {
  /** The size it estimates, as a multiple of the tier's capacity. */
  readonly scale: number;
  readonly #policy: EvictionPolicy<K>;
  readonly #baseRate: number;
  #rate = 1;
  #capacity = 1;
  #decay = 1;
  #hits = 0;
  #references = 0;
  #recentHits = 0;
  #recentReferences = 0;
  readonly #hitKeys: K[] = [];
  readonly #missKeys: K[] = [];
  /** The prefix tree of the batch's missed keys (their tails and nearest tracked ancestors). */
  readonly #missTree = { parents: [] as (K | undefined)[], tails: [] as boolean[] };
  /** The previous batch's last tracked key, or the one it continued from. */
  #lastTracked: K | undefined;
  /** Resident keys tracked only for being shallow (weight `rate` each). */
  readonly #shallow = new Set<K>();
  readonly #newShallow: K[] = [];
  /** The batch's hit keys while `#makeRoom` evicts, and the victim filter that spares them. */
  readonly #held = new Set<K>();
  readonly #notHeld = (key: K): boolean => !this.#held.has(key);
  /** Per key of the last batch: {@link NOT_SAMPLED}, {@link MISSED} or {@link HIT}. */
  #outcomes = new Uint8Array(64);

  /**
   * @param policy - a fresh policy the miniature owns (its capacity is enforced here)
   * @param scale - the size it estimates, as a multiple of the tier's capacity
   * @param rate - the base sampling rate
   */
  constructor(policy: EvictionPolicy<K>, scale: number, rate: number) {
    this.#policy = policy;
    this.scale = scale;
    this.#baseRate = rate;
  }

  /** The policy simulated. */
  get policyName(): string {
    return this.#policy.name;
  }

  /** The sampling rate in use: keys whose hash is below it are simulated. */
  get rate(): number {
    return this.#rate;
  }

  /** Hit ratio over every sampled reference so far (0 before any). */
  get hitRatio(): number {
    return this.#references === 0 ? 0 : this.#hits / this.#references;
  }

  /** Hit ratio over the recent sampled references (0 before any). */
  get recentHitRatio(): number {
    return this.#recentReferences === 0 ? 0 : this.#recentHits / this.#recentReferences;
  }

  /** The weight of the recent sampled references (the count, decayed). */
  get recentReferences(): number {
    return this.#recentReferences;
  }

  /** Sampled references seen. */
  get references(): number {
    return this.#references;
  }

  /** Sizes the miniature for a tier of `tierCapacity` keys. */
  resize(tierCapacity: number): void {
    const keys = tierCapacity * this.scale;
    this.#rate = miniatureRate(this.#baseRate, keys, MINIATURE_MIN_KEYS);
    this.#capacity = Math.max(1, Math.round(keys * this.#rate));
    this.#decay = 1 - 1 / Math.max(MIN_HORIZON, HORIZON_TURNOVERS * this.#capacity);
  }

  /**
   * One batch of references in prefix order (`hashes[i]` is `sampleHash(keys[i])`); `tails[i]`
   * marks a request's last chunk, `depths[i]` (when known) is the key's index in its request.
   * The caller may leave out keys hashed at or above {@link rate} that are not shallow (they are
   * not tracked), but not a batch: `extendsPrevious` says that the batch continues the previous
   * one's prefix (its first key's parent is that batch's last key).
   */
  reference(keys: readonly K[], hashes: readonly number[], tails?: readonly boolean[], depths?: readonly number[], extendsPrevious = false): void {
    let ancestor = extendsPrevious ? this.#lastTracked : undefined;
    // Most batches of a tier's references have no sampled key at all.
    if (keys.length === 0) {
      this.#lastTracked = ancestor;
      return;
    }
    const policy = this.#policy;
    if (keys.length > this.#outcomes.length) this.#outcomes = new Uint8Array(Math.max(keys.length, 2 * this.#outcomes.length));
    let incoming = 0;
    for (let i = 0; i < keys.length; i++) {
      const sampled = hashes[i] < this.#rate;
      if (!sampled && !(depths !== undefined && depths[i] < SHALLOW_DEPTH)) {
        this.#outcomes[i] = NOT_SAMPLED;
        continue;
      }
      const weight = sampled ? 1 : this.#rate;
      const hit = policy.has(keys[i]);
      this.#outcomes[i] = hit ? HIT : MISSED;
      this.#count(hit, weight);
      if (hit) {
        this.#hitKeys.push(keys[i]);
      } else {
        this.#missKeys.push(keys[i]);
        this.#missTree.tails.push(tails?.[i] === true);
        this.#missTree.parents.push(ancestor);
        if (!sampled) this.#newShallow.push(keys[i]);
        incoming += weight;
      }
      ancestor = keys[i];
    }
    this.#lastTracked = ancestor;
    if (this.#hitKeys.length > 0) policy.touched(this.#hitKeys);
    this.#makeRoom(incoming);
    if (this.#missKeys.length > 0) policy.created(this.#missKeys, this.#missTree);
    for (const key of this.#newShallow) this.#shallow.add(key);
    clear(this.#newShallow);
    clear(this.#hitKeys);
    clear(this.#missKeys);
    clear(this.#missTree.tails);
    clear(this.#missTree.parents);
  }

  /** What key `i` of the last {@link reference} batch did: {@link NOT_SAMPLED}, {@link MISSED} or {@link HIT}. */
  outcome(i: number): number {
    return this.#outcomes[i];
  }

  /**
   * Evicts until `incoming` more weight fits: sampled keys weigh 1, shallow-only ones `rate`. The
   * batch's hit keys stay (an engine holds a request's keys locked): they are the ancestors the
   * batch's new keys attach to.
   */
  #makeRoom(incoming: number): void {
    const policy = this.#policy;
    for (let over = this.#excess(incoming); over > 0; over = this.#excess(incoming)) {
      if (this.#held.size === 0) for (const key of this.#hitKeys) this.#held.add(key);
      const victims = policy.victims(ratioForCount(Math.ceil(over), policy.size), this.#notHeld);
      if (victims.length === 0) break;
      if (this.#shallow.size > 0) for (const key of victims) this.#shallow.delete(key);
      policy.removed(victims);
    }
    // Clearing a Set allocates a new backing table: not for one left empty (no hit key).
    if (this.#held.size > 0) this.#held.clear();
  }

  /** The weight over capacity once `incoming` more weight is in. */
  #excess(incoming: number): number {
    return this.#policy.size - this.#shallow.size * (1 - this.#rate) + incoming - this.#capacity;
  }

  #count(hit: boolean, weight: number): void {
    this.#references += weight;
    this.#recentReferences = this.#recentReferences * this.#decay + weight;
    this.#recentHits *= this.#decay;
    if (hit) {
      this.#hits += weight;
      this.#recentHits += weight;
    }
  }
}

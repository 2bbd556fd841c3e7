/**
 * A miniature simulation: one eviction policy over a cache of `capacity × scale × rate` keys, fed
 * only the references of sampled keys (see sampling.ts). Its hit ratio estimates what the policy
 * would hit on the whole stream with a cache of `capacity × scale` keys. A reference hits when the
 * key is in the miniature; a miss inserts it, evicting first when the miniature is full.
 */
import { ratioForCount, type EvictionPolicy } from './eviction.ts';
import { miniatureRate } from './sampling.ts';

/** Sampled keys a miniature keeps at least (the rate is raised for small caches). */
export const MINIATURE_MIN_KEYS = 128;
/**
 * Recent hit ratios average over about this many miniature turnovers (references that replace its
 * whole content), so they follow the workload's phases without reacting to a burst.
 */
const HORIZON_TURNOVERS = 4;
/** …and over at least this many sampled references, for a stable estimate on a tiny miniature. */
const MIN_HORIZON = 1000;

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
  readonly #missTails: boolean[] = [];
  readonly #missParents: undefined[] = [];
  /** Per key of the last batch: {@link NOT_SAMPLED}, {@link MISSED} or {@link HIT}. */
  readonly #outcomes: number[] = [];

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
   * marks a request's last chunk. Parents are not passed on: a sampled key's parent is rarely
   * sampled too.
   */
  reference(keys: readonly K[], hashes: readonly number[], tails?: readonly boolean[]): void {
    const policy = this.#policy;
    this.#outcomes.length = keys.length;
    for (let i = 0; i < keys.length; i++) {
      if (hashes[i] >= this.#rate) {
        this.#outcomes[i] = NOT_SAMPLED;
        continue;
      }
      const hit = policy.has(keys[i]);
      this.#outcomes[i] = hit ? HIT : MISSED;
      this.#count(hit);
      if (hit) {
        this.#hitKeys.push(keys[i]);
      } else {
        this.#missKeys.push(keys[i]);
        this.#missTails.push(tails?.[i] === true);
        this.#missParents.push(undefined);
      }
    }
    if (this.#hitKeys.length > 0) policy.touched(this.#hitKeys);
    const excess = policy.size + this.#missKeys.length - this.#capacity;
    if (excess > 0) policy.removed(policy.victims(ratioForCount(excess, policy.size)));
    if (this.#missKeys.length > 0) policy.created(this.#missKeys, { parents: this.#missParents, tails: this.#missTails });
    this.#hitKeys.length = 0;
    this.#missKeys.length = 0;
    this.#missTails.length = 0;
    this.#missParents.length = 0;
  }

  /** What key `i` of the last {@link reference} batch did: {@link NOT_SAMPLED}, {@link MISSED} or {@link HIT}. */
  outcome(i: number): number {
    return this.#outcomes[i];
  }

  #count(hit: boolean): void {
    this.#references++;
    this.#recentReferences = this.#recentReferences * this.#decay + 1;
    this.#recentHits *= this.#decay;
    if (hit) {
      this.#hits++;
      this.#recentHits++;
    }
  }
}

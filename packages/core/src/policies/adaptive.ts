/**
 * `adaptive`: follows whichever of its candidate strategies (`tree_arc`, `tree_lru`,
 * `tree_s3fifo`) hits best on this workload, judged online by miniature simulations (sampled
 * shadow caches, see miniature.ts), and estimates the tier's hit ratio at other sizes.
 *
 * - Every candidate runs at full size over the same resident keys, through one {@link SharedKeys}
 *   (one key index, residency and prefix forest; each candidate keeps only its own list links and
 *   flags, by the shared ids): all of them see every created, touched and removed key, only the
 *   chosen one is asked for victims, and a victim's removal is an eviction for the others too (it
 *   leaves their ghosts). A switch only changes which one is asked: each has kept its own order,
 *   frequencies and ghosts over the keys actually resident, so nothing learned is discarded
 *   (handing the resident keys to a fresh policy at a switch cost up to 0.003 hit ratio on the
 *   shipped and generated traces).
 * - Every key is hashed once, when the shared keys give it an id; the sampled keys of each
 *   reference batch (created and touched keys) feed one miniature per candidate at the tier's size
 *   and, for sizing advice, miniatures of the current strategy at {@link SIZING_SCALES} of it.
 * - Every {@link CHECK_REFERENCES} sampled references, {@link ChoiceRule} judges the candidates
 *   pairwise against the current one on the references where exactly one of them hit, over a short
 *   and a long horizon (see choice.ts): a clear lead is followed within a few checks, a small one
 *   once it has lasted long enough to be sure of, and a lead within the miniatures' noise never.
 * - It starts on `tree_s3fifo`. Which keys a cold cache keeps shapes its content for long after
 *   (on the `scan` trace at 10 000 chunks, following `tree_s3fifo` from a tenth of the trace on
 *   instead of from the start lost most of its lead over `tree_arc`), while the miniatures need a
 *   few checks to see a lead: so the start is the candidate built to keep what a filling cache has
 *   seen twice, S3-FIFO, whose probation queue demotes keys seen once quickly.
 * Cost: one key lookup per event, the three candidates' list moves, and the miniatures on sampled
 * keys only; memory is the shared keys', the three candidates' links and ghosts, and the
 * miniatures'. The tier's capacity is the `capacity` option, or the largest resident count seen.
 */
import { ArcPolicy } from './arc.ts';
import { checkEvictionOptions, type CurvePoint, type EvictionPolicy, type EvictionPolicyOptions, type PolicyState, type PrefixInfo } from './eviction.ts';
import { LruPolicy } from './lru.ts';
import { NONE } from './ids.ts';
import { HIT, MISSED, Miniature, NOT_SAMPLED } from './miniature.ts';
import type { QueuedPolicy } from './queued-policy.ts';
import { S3FifoPolicy } from './s3fifo.ts';
import { ChoiceRule } from './choice.ts';
import { sampleHash } from './sampling.ts';
import { SharedKeys } from './shared-keys.ts';
import { clear } from './scratch.ts';

/** The base sampling rate of the miniatures. */
export const ADAPTIVE_SAMPLE_RATE = 0.05;
/** Sizes, as multiples of the tier's, at which the current strategy is simulated for sizing advice. */
export const SIZING_SCALES = [0.5, 2, 4] as const;
/** The choice rule judges the candidates every this many sampled references. */
const CHECK_REFERENCES = 1000;

/** The strategies `adaptive` chooses between; it starts on the first (see above). */
const CANDIDATES: readonly { name: string; make: <K>(options?: EvictionPolicyOptions, keys?: SharedKeys<K>) => QueuedPolicy<K> }[] = [
  { name: 'tree_s3fifo', make: (options, keys) => new S3FifoPolicy(options, true, keys) },
  { name: 'tree_arc', make: (options, keys) => new ArcPolicy(options, true, keys) },
  { name: 'tree_lru', make: (options, keys) => new LruPolicy(options, true, keys) },
];

/** The names of the strategies `adaptive` chooses between. */
export const ADAPTIVE_CANDIDATES: readonly string[] = CANDIDATES.map((c) => c.name);

/** The default policy: the best of its candidates, chosen online. */
export class AdaptivePolicy<K> implements EvictionPolicy<K> {
  readonly name = 'adaptive';
  readonly #capacityOption: number | undefined;
  #peak = 0;
  #sizedFor = 0;
  /** Which candidate is followed, judged on the miniatures' paired outcomes. */
  readonly #rule = new ChoiceRule(CANDIDATES.length, 0);
  /** The candidates' shared key index, residency and prefix tree. */
  readonly #keys: SharedKeys<K>;
  /** Every candidate at full size over the same resident keys; victims come from the chosen one. */
  readonly #policies: QueuedPolicy<K>[];
  readonly #candidates: Miniature<K>[];
  #sizing: Miniature<K>[];
  /** The highest sampling rate of the miniatures: keys hashed above it concern none of them. */
  #sampleRate = 0;
  /** The last key of the previous reference batch: a batch whose first parent it is extends it. */
  #lastKey: K | undefined;
  /** The sampled keys of the current reference batch, their hashes and tail marks. */
  readonly #sampledKeys: K[] = [];
  readonly #sampledHashes: number[] = [];
  readonly #sampledTails: boolean[] = [];
  #switches = 0;
  #sinceCheck = 0;

  /** @param options - `capacity`: the number of keys the tier holds when full */
  constructor(options?: EvictionPolicyOptions) {
    this.#capacityOption = checkEvictionOptions('adaptive', options);
    // Residents plus every candidate's ghosts: about 3c ids; 2c up front, doubled when needed.
    this.#keys = new SharedKeys<K>({ tree: true, initialIds: this.#capacityOption === undefined ? undefined : 2 * this.#capacityOption, hashed: true });
    this.#policies = CANDIDATES.map((c) => c.make<K>(options, this.#keys));
    this.#candidates = CANDIDATES.map((c) => new Miniature<K>(c.make<K>(), 1, ADAPTIVE_SAMPLE_RATE));
    this.#sizing = this.#sizingMiniatures();
  }

  get size(): number {
    return this.#active.size;
  }

  /** The candidate asked for victims. */
  get #active(): QueuedPolicy<K> {
    return this.#policies[this.#rule.current];
  }

  /** The strategy followed now (`tree_arc`, `tree_lru` or `tree_s3fifo`). */
  get choice(): string {
    return CANDIDATES[this.#rule.current].name;
  }

  /** How many times the strategy changed. */
  get switches(): number {
    return this.#switches;
  }

  /** The tier's capacity in keys: the option, or the largest resident count seen. */
  get capacity(): number {
    return this.#capacityOption ?? this.#peak;
  }

  has(key: K): boolean {
    return this.#keys.has(key);
  }

  created(keys: readonly K[], tree?: PrefixInfo<K>): void {
    this.#keys.created(keys, tree);
    this.#reference(keys, tree?.tails, tree?.parents[0]);
    if (this.#active.size > this.#peak) this.#peak = this.#active.size;
  }

  touched(keys: readonly K[]): void {
    this.#keys.touched(keys);
    this.#reference(keys, undefined);
  }

  removed(keys: readonly K[]): void {
    this.#keys.removed(keys);
  }

  victims(ratio: number, eligible?: (key: K) => boolean): K[] {
    return this.#active.victims(ratio, eligible);
  }

  /**
   * The estimated hit-ratio curve of this tier: at {@link SIZING_SCALES} and 1× its capacity,
   * ascending (empty until the capacity is known).
   */
  curve(): CurvePoint[] {
    const capacity = this.capacity;
    if (capacity === 0) return [];
    const points = [this.#candidates[this.#rule.current], ...this.#sizing]
      .map((m) => ({ capacity: Math.round(capacity * m.scale), hitRatio: m.hitRatio }));
    return points.sort((a, b) => a.capacity - b.capacity);
  }

  state(): PolicyState {
    const out: Record<string, string | number> = { choice: this.choice, switches: this.#switches, capacity: this.capacity };
    for (const m of this.#candidates) out[`recentHitRatio.${m.policyName}`] = m.recentHitRatio;
    for (const p of this.curve()) out[`estimatedHitRatio.${p.capacity}`] = p.hitRatio;
    return out;
  }

  #sizingMiniatures(): Miniature<K>[] {
    const make = CANDIDATES[this.#rule.current].make;
    return SIZING_SCALES.map((scale) => {
      const m = new Miniature<K>(make<K>(), scale, ADAPTIVE_SAMPLE_RATE);
      if (this.#sizedFor > 0) m.resize(this.#sizedFor);
      return m;
    });
  }

  /** The batch just given to the shared keys, as references: its sampled keys feed the miniatures. */
  #reference(keys: readonly K[], tails: readonly boolean[] | undefined, parent?: K): void {
    const capacity = this.capacity;
    // A learned capacity resizes the miniatures as it doubles, not at every new peak.
    if (capacity > 0 && (this.#sizedFor === 0 || capacity >= 2 * this.#sizedFor || (this.#capacityOption !== undefined && capacity !== this.#sizedFor))) {
      this.#sizedFor = capacity;
      for (const m of this.#candidates) m.resize(capacity);
      for (const m of this.#sizing) m.resize(capacity);
      this.#noteRates();
    }
    if (this.#sizedFor === 0 || keys.length === 0) return;
    const extendsLast = parent !== undefined && parent === this.#lastKey;
    this.#lastKey = keys[keys.length - 1];
    const sampled = this.#sampledKeys;
    const hashes = this.#sampledHashes;
    const sampledTails = this.#sampledTails;
    for (let i = 0; i < keys.length; i++) {
      const id = this.#keys.idAt(i);
      const hash = id === NONE ? sampleHash(keys[i]) : this.#keys.hashOf(id);
      if (hash >= this.#sampleRate) continue;
      sampled.push(keys[i]);
      hashes.push(hash);
      sampledTails.push(tails?.[i] === true);
    }
    const before = this.#candidates[0].references;
    for (const m of this.#candidates) m.reference(sampled, hashes, sampledTails, undefined, extendsLast);
    for (const m of this.#sizing) m.reference(sampled, hashes, sampledTails, undefined, extendsLast);
    if (sampled.length === 0) return;
    this.#pair(sampled.length);
    clear(sampled);
    clear(hashes);
    clear(sampledTails);
    this.#sinceCheck += this.#candidates[0].references - before;
    if (this.#sinceCheck >= CHECK_REFERENCES) {
      this.#sinceCheck = 0;
      if (this.#rule.check()) this.#switched();
    }
  }

  #noteRates(): void {
    this.#sampleRate = Math.max(...this.#candidates.map((m) => m.rate), ...this.#sizing.map((m) => m.rate));
  }

  /** Tells the choice rule the last batch's sampled references where a candidate and the current strategy disagree. */
  #pair(n: number): void {
    const current = this.#candidates[this.#rule.current];
    for (let i = 0; i < n; i++) {
      const mine = current.outcome(i);
      if (mine === NOT_SAMPLED) continue;
      for (let c = 0; c < this.#candidates.length; c++) {
        const theirs = this.#candidates[c].outcome(i);
        if (theirs === HIT && mine === MISSED) this.#rule.win(c);
        else if (theirs === MISSED && mine === HIT) this.#rule.loss(c);
      }
    }
  }

  /** The rule chose another candidate: its sizing miniatures start afresh. */
  #switched(): void {
    this.#switches++;
    this.#sizing = this.#sizingMiniatures();
    this.#noteRates();
  }
}

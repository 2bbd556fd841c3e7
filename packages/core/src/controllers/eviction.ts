/**
 * The eviction controller (docs/architecture.md §6): L1 watermark eviction and ONE L2 eviction controller for
 * every adapter that has an `eviction` block. Policies only order keys; this controller feeds them
 * events, asks for victims when usage reaches the watermark, and deletes the victims. Independent
 * of Piscina: a plain class over an {@link EvictionContext}.
 */
import { L1EventFlag, L1EventKind, type DigestBatch, type L1Usage } from '../l1/api.ts';
import type { L1LiveKeys } from '../l1/inspect.ts';
import { L2EventKind, type L2EventKindCode } from '../l2/events.ts';
import type { AdapterHostApi } from '../l2/host-api.ts';
import { AdapterCounter, AdapterOp, Counter, type Metrics } from '../metrics.ts';
import type { CurvePoint, EvictionPolicy, PolicyState, PrefixInfo } from '../policies/eviction.ts';
import { sizingAdvice } from '../policies/sizing.ts';
import { callAdapter } from './adapter-call.ts';
import { keyCount, keyId, keysFromIds } from '../digest-batch.ts';

/** The L1 operations the eviction controller uses. */
export interface EvictionL1 {
  usage(): L1Usage;
  /**
   * Hands every queued L1 event ({@link L1EventKind}) to `onEvent`, each key as a 1-key batch
   * with the id of the batch operation that emitted it and its {@link L1EventFlag} bits.
   */
  drainEvents(onEvent: (kind: number, key: DigestBatch, batch: number, flags: number) => void, max?: number): number;
  /** Every object in L1 that was ever readable, and the undrained events emitted before (for reconciliation). */
  liveKeys(): L1LiveKeys;
  /** Whether key `index` of `keys` is present and unlocked. */
  isEvictable(keys: DigestBatch, index: number): boolean;
  /** Evicts unlocked keys (never force): per key, L1Error.SUCCESS when it left. */
  evict(keys: DigestBatch): Uint8Array;
  /** Applies every lease deadline: expired writes discarded, expired read locks dropped. */
  expireLeases(): unknown;
}

/** Watermark settings of one tier. */
export interface Watermark {
  readonly watermark: number;
  readonly ratio: number;
}

/** One adapter under L2 eviction. */
export interface L2EvictionTarget extends Watermark {
  /** The adapter's index (metrics). */
  readonly index: number;
  /** The adapter host; replaced when the host restarts. */
  adapter: AdapterHostApi;
  readonly policy: EvictionPolicy<string>;
  /** Drains the adapter's L2 events (stored, accessed, deleted), each with the id of the adapter call that emitted it. */
  drainEvents(visit: (kind: L2EventKindCode, digest: Uint32Array, bytes: number, batch: number) => void): void;
}

/** Everything the eviction controller needs. */
export interface EvictionContext {
  readonly l1: EvictionL1;
  readonly l1Policy: EvictionPolicy<string>;
  readonly l1Eviction: Watermark;
  /** Only adapters that have an `eviction` block; the others are never polled. */
  readonly l2: readonly L2EvictionTarget[];
  readonly metrics: Metrics;
  readonly adapterCallTimeoutMs: number;
  readonly intervalMs: number;
  readonly reconcileIntervalMs: number;
  /** Resolves after `timeoutMs`, or at once when L1 fell back to emergency eviction or stop began. */
  wait(timeoutMs: number): Promise<void>;
  stopped(): boolean;
}

/** What one tier's eviction policy reports (`KvCache.status().eviction`, the metrics). */
export interface TierPolicyStatus {
  /** The policy's registry name (`adaptive`, `arc`, …). */
  readonly policy: string;
  /** Keys the policy tracks (resident in the tier, as far as the policy knows). */
  readonly tracked: number;
  /** The policy's own state (for `adaptive`: its current choice, switches, recent hit ratios), when it has one. */
  readonly state?: PolicyState;
  /** The estimated hit-ratio curve over the tier's size, when the policy keeps one. */
  readonly curve?: readonly CurvePoint[];
  /** "this tier hits X% at its size (C chunks); N chunks would hit Y%", once the curve has a point at the tier's size. */
  readonly advice?: string;
}

/** Every tier's eviction policy report: L1's and each evicting adapter's. */
export interface EvictionStatus {
  readonly l1: TierPolicyStatus;
  /** One entry per adapter with an `eviction` block, in adapter order. */
  readonly l2: readonly (TierPolicyStatus & { readonly index: number })[];
}

/** The report of one policy; the tier's size is the point of the curve marked as its own (`state().capacity`). */
function policyStatus(policy: EvictionPolicy<string>): TierPolicyStatus {
  const state = policy.state?.();
  const curve = policy.curve?.();
  const capacity = state?.capacity;
  const advice = curve !== undefined && typeof capacity === 'number' ? sizingAdvice(curve, capacity) : undefined;
  return {
    policy: policy.name, tracked: policy.size,
    ...(state === undefined ? {} : { state }), ...(curve === undefined ? {} : { curve }), ...(advice === undefined ? {} : { advice }),
  };
}

/** A digest as a policy key. */
function idOf(digest: Uint32Array): string {
  return keyId(digest, 0);
}

/** What the controller knows of a key's place in the prefix tree (learned from L1's CREATED events). */
interface Link {
  readonly parent: string | undefined;
  readonly tail: boolean;
}

/**
 * Collects consecutive events of one kind and one batch (one L1 batch call, one adapter call) and
 * hands each run to `apply` as one list in key order: policies order the keys of one `created`
 * call so that the tail of a prefix is evicted first, which one-key calls would reverse. A run's
 * prefix tree comes with it: from L1's event flags and PARENT records, or through `linkOf` (L2).
 */
class EventRuns {
  readonly #apply: (kind: number, ids: string[], tree: PrefixInfo<string>) => void;
  readonly #linkOf: (id: string) => Link | undefined;
  #kind = 0;
  #batch = 0;
  #ids: string[] = [];
  #parents: (string | undefined)[] = [];
  #tails: boolean[] = [];
  /** The parent an L1 PARENT record announced for the next created key. */
  #announced: string | undefined;
  /**
   * The last event's key, kind and batch, kept across {@link flush}: a drain can end inside a
   * batch, and the next drain's first event may follow it (FOLLOWS).
   */
  #lastId: string | undefined;
  #lastKind = 0;
  #lastBatch = -1;

  constructor(apply: (kind: number, ids: string[], tree: PrefixInfo<string>) => void, linkOf: (id: string) => Link | undefined = () => undefined) {
    this.#apply = apply;
    this.#linkOf = linkOf;
  }

  /** One event; `flags` are L1's {@link L1EventFlag} bits (0 for L2 events). */
  add(kind: number, digest: Uint32Array, batch: number, flags = 0): void {
    if (kind === L1EventKind.PARENT) {
      this.#announced = idOf(digest);
      return;
    }
    if (this.#ids.length > 0 && (kind !== this.#kind || batch !== this.#batch)) this.flush();
    const id = idOf(digest);
    const link = this.#linkOf(id);
    const previous = kind === this.#lastKind && batch === this.#lastBatch ? this.#lastId : undefined;
    this.#lastId = id;
    this.#lastKind = kind;
    this.#lastBatch = batch;
    this.#kind = kind;
    this.#batch = batch;
    this.#ids.push(id);
    this.#parents.push(link?.parent ?? ((flags & L1EventFlag.FOLLOWS) !== 0 ? previous : this.#announced));
    this.#tails.push(link?.tail ?? (flags & L1EventFlag.LAST) !== 0);
    this.#announced = undefined;
  }

  flush(): void {
    if (this.#ids.length === 0) return;
    const ids = this.#ids, tree = { parents: this.#parents, tails: this.#tails };
    this.#ids = [];
    this.#parents = [];
    this.#tails = [];
    this.#apply(this.#kind, ids, tree);
  }
}

/** Runs L1 and L2 eviction cycles; one instance per eviction worker. */
export class EvictionController {
  readonly #ctx: EvictionContext;
  /** Keys the L1 policy tracks (policies cannot be enumerated, reconciliation needs to). */
  readonly #l1Known = new Set<string>();
  /**
   * Parent and tail mark of each key L1 created, kept while L1 or an L2 policy tracks the key: L2
   * stores arrive in dirty-slot order, not prefix order, so their tree comes from here.
   */
  readonly #links = new Map<string, Link>();
  #lastReconcile = 0;
  /** L1's event runs: one for the controller's life, so that a batch split across drains keeps its parents. */
  readonly #l1Runs = new EventRuns((kind, ids, tree) => this.#applyL1(kind, ids, tree));

  constructor(ctx: EvictionContext) {
    this.#ctx = ctx;
  }

  /** What each tier's policy reports now: its name, tracked keys, state, estimated curve and sizing advice. */
  status(): EvictionStatus {
    return {
      l1: policyStatus(this.#ctx.l1Policy),
      l2: this.#ctx.l2.map((t) => ({ index: t.index, ...policyStatus(t.policy) })),
    };
  }

  /** Runs cycles until stopped. */
  async run(): Promise<void> {
    this.reconcileL1();
    while (!this.#ctx.stopped()) {
      await this.cycle();
      if (!this.#ctx.stopped()) await this.#ctx.wait(this.#ctx.intervalMs);
    }
  }

  /** One cycle: feed events, reconcile when due, evict L1 and each L2 adapter at its watermark. */
  async cycle(): Promise<void> {
    this.#drainL1();
    if (performance.now() - this.#lastReconcile >= this.#ctx.reconcileIntervalMs) {
      this.#ctx.l1.expireLeases();
      this.reconcileL1();
    }
    this.evictL1();
    await Promise.all(this.#ctx.l2.map((t) => this.evictL2(t)));
  }

  #drainL1(max = Infinity): void {
    this.#ctx.l1.drainEvents((kind, digest, batch, flags) => this.#l1Runs.add(kind, digest, batch, flags), max);
    this.#l1Runs.flush();
  }

  /** Applies one run of L1 events to the L1 policy. */
  #applyL1(kind: number, ids: string[], tree: PrefixInfo<string>): void {
    const policy = this.#ctx.l1Policy;
    if (kind === L1EventKind.CREATED) {
      ids.forEach((id, i) => {
        this.#l1Known.add(id);
        this.#links.set(id, { parent: tree.parents[i], tail: tree.tails[i] });
      });
      policy.created(ids, tree);
    } else if (kind === L1EventKind.TOUCHED) {
      policy.touched(ids);
    } else {
      for (const id of ids) this.#l1Known.delete(id);
      this.#forgetLinks(ids);
      policy.removed(ids);
    }
  }

  /** Drops the links of keys that no tier's policy tracks any more. */
  #forgetLinks(ids: readonly string[]): void {
    for (const id of ids) {
      if (!this.#l1Known.has(id) && !this.#ctx.l2.some((t) => t.policy.has(id))) this.#links.delete(id);
    }
  }

  /**
   * Makes the L1 policy track exactly the live objects: events dropped on a full ring would
   * otherwise leave objects the policy never evicts, or keys it would try to evict in vain.
   * The events emitted before the snapshot are applied first, and only those: the diff then finds
   * just what the ring dropped. Comparing with a drain made before the snapshot instead, a key
   * created in between entered here without its parent and tail mark, and its CREATED event,
   * drained next, counted as a use: a tree-aware policy lost the request's place in the prefix tree.
   */
  reconcileL1(): void {
    this.#lastReconcile = performance.now();
    const { keys, pendingEvents } = this.#ctx.l1.liveKeys();
    this.#drainL1(pendingEvents);
    const live = new Set<string>();
    for (let i = 0; i < keyCount(keys); i++) live.add(keyId(keys, i));
    const gone = [...this.#l1Known].filter((id) => !live.has(id));
    const unknown = [...live].filter((id) => !this.#l1Known.has(id));
    for (const id of gone) this.#l1Known.delete(id);
    for (const id of unknown) this.#l1Known.add(id);
    this.#forgetLinks(gone);
    if (gone.length > 0) this.#ctx.l1Policy.removed(gone);
    if (unknown.length > 0) this.#ctx.l1Policy.created(unknown);
  }

  /** Evicts `ratio` of L1's tracked objects through the policy when usage is at the watermark. */
  evictL1(): number {
    const { l1, l1Policy, l1Eviction, metrics } = this.#ctx;
    if (l1.usage().fraction < l1Eviction.watermark) return 0;
    const victims = l1Policy.victims(l1Eviction.ratio, (id) => l1.isEvictable(keysFromIds([id]), 0));
    if (victims.length === 0) return 0;
    const codes = l1.evict(keysFromIds(victims));
    const evicted = victims.filter((_, i) => codes[i] === 0);
    for (const id of evicted) this.#l1Known.delete(id);
    l1Policy.removed(evicted);
    this.#forgetLinks(evicted);
    metrics.count(Counter.L1_EVICTIONS, evicted.length);
    return evicted.length;
  }

  /**
   * One L2 adapter's cycle: feed its events; at or above its watermark, delete victims. Pinned
   * keys are skipped by the adapter and stay tracked (the policy re-queues them, so they do not
   * stall later cycles). Unknown usage (-1) never evicts.
   */
  async evictL2(target: L2EvictionTarget): Promise<number> {
    const { policy } = target;
    const runs = new EventRuns((kind, ids, tree) => {
      if (kind === L2EventKind.STORED) {
        policy.created(ids, tree);
      } else if (kind === L2EventKind.ACCESSED) {
        policy.touched(ids);
      } else {
        policy.removed(ids);
        this.#forgetLinks(ids);
      }
    }, (id) => this.#links.get(id));
    target.drainEvents((kind, digest, _bytes, batch) => runs.add(kind, digest, batch));
    runs.flush();
    let usage;
    this.#ctx.metrics.countAdapter(target.index, AdapterCounter.USAGE_POLLS);
    try {
      usage = await callAdapter(this.#ctx, target.index, AdapterOp.USAGE, () => target.adapter.usage());
    } catch {
      return 0;
    }
    if (usage.usedBytes < 0 || usage.capacityBytes <= 0) return 0;
    if (usage.usedBytes / usage.capacityBytes < target.watermark) return 0;
    const victims = policy.victims(target.ratio);
    if (victims.length === 0) return 0;
    const keys = keysFromIds(victims);
    let deleted: Uint8Array;
    try {
      deleted = await callAdapter(this.#ctx, target.index, AdapterOp.DELETE, () => target.adapter.delete(keys));
    } catch {
      return 0;
    }
    const gone = victims.filter((_, i) => deleted[i] === 1);
    // The adapter's own DELETED events arrive too; removing twice is harmless.
    policy.removed(gone);
    this.#forgetLinks(gone);
    this.#ctx.metrics.countAdapter(target.index, AdapterCounter.EVICTED_KEYS, gone.length);
    return gone.length;
  }
}

/**
 * The engine's JSON configuration (docs/architecture.md §11): validated once, up front, into a fully
 * defaulted {@link KvCacheConfig}. Every error is a `KVT_ERR_CONFIG` {@link KvtierError} whose
 * message names the field and the allowed range, e.g.
 * `config.adapters[1].eviction.watermark: must be a number in (0, 1], got 1.5`.
 */
import * as v from 'valibot';
import { configError } from './errors.ts';
import { block, describe, fraction, integerIn, nonEmptyString, parseBlock, plainData, registryName, type FieldSchema } from './validate.ts';
import { L1_DEFAULTS, resolveL1Config, l1Block, type L1Options } from './l1/l1-config.ts';
import type { AdapterConfig } from './l2/adapter.ts';
import { validateAdapterConfig } from './l2/config.ts';
import { evictionPolicyNames } from './policies/eviction-policies.ts';
import { isWorkerPolicy, type PolicyKind } from './policies/modules.ts';
import { prefetchPolicyNames } from './policies/prefetch.ts';
import { storePolicyNames } from './policies/store.ts';
import { MAX_ADAPTERS } from './limits.ts';

/** Eviction settings of one tier: a policy name, the usage watermark and the fraction to evict. */
export interface EvictionConfig {
  /** Eviction policy name (`default` = `adaptive`; `lru`, `arc`, `s3fifo`, `tree_lru`, `tree_arc`, `tree_s3fifo`, `adaptive`, `noop`, or one registered). */
  readonly policy: string;
  /** Usage fraction in (0, 1] at or above which a cycle evicts. */
  readonly watermark: number;
  /** Fraction in (0, 1] of the tracked objects to evict per cycle. */
  readonly ratio: number;
}

/** Store controller settings (L1 -> L2). */
export interface StoreConfig {
  /** Retries of a failed store before the failure is counted and dropped; an integer in [0, 100]. */
  readonly maxRetries: number;
  /** Backoff before the first retry in ms, doubled per retry; an integer in [0, 60000]. */
  readonly backoffMs: number;
  /** Most bytes in flight to one adapter; a positive integer. */
  readonly maxInFlightBytesPerAdapter: number;
  /** Most keys the store worker claims per wake-up; an integer in [1, 65536]. */
  readonly batchKeys: number;
}

/** The validated, fully defaulted configuration of a {@link KvCache}. */
export interface KvCacheConfig {
  /** L1 settings, validated by L1 and passed to it as they are. */
  readonly l1: L1Options;
  /**
   * L2 adapters in index order (the prefetch policy prefers lower indices); each validated by its
   * registered type (import `@kvtier/adapters` first to register the built-ins).
   */
  readonly adapters: readonly AdapterConfig[];
  /** Store policy name (`default`, `skip_l1`). */
  readonly storePolicy: string;
  /** Prefetch policy name (`default`). */
  readonly prefetchPolicy: string;
  /** L1 watermark eviction. */
  readonly l1Eviction: EvictionConfig;
  /** How often the eviction worker wakes on its own, in ms. */
  readonly evictionIntervalMs: number;
  /** How often the eviction worker reconciles its L1 policy with the live objects, in ms. */
  readonly reconcileIntervalMs: number;
  /** Most prefetch requests running at once; the rest queue FIFO. */
  readonly prefetchMaxInFlight: number;
  /** Deadline of every controller -> adapter call, in ms; a call past it is abandoned. */
  readonly adapterCallTimeoutMs: number;
  /**
   * How long a worker task may take to report ready (import its modules, open its adapter), in ms;
   * a start or restart that takes longer fails and its thread is terminated.
   */
  readonly workerReadyTimeoutMs: number;
  readonly store: StoreConfig;
}

/** Defaults of every optional field. */
export const CONFIG_DEFAULTS = {
  storePolicy: 'default',
  prefetchPolicy: 'default',
  // ARC, the policies' recommended default (see policies/eviction-policies.ts for the measurements).
  evictionPolicy: 'default',
  watermark: 0.8,
  ratio: 0.2,
  evictionIntervalMs: 100,
  reconcileIntervalMs: 5_000,
  prefetchMaxInFlight: 8,
  adapterCallTimeoutMs: 30_000,
  workerReadyTimeoutMs: 60_000,
  maxRetries: 3,
  backoffMs: 50,
  maxInFlightBytesPerAdapter: 256 * 1024 * 1024,
  batchKeys: 256,
} as const;


/**
 * Throws CONFIG naming `field` unless `value` is a registered policy of `kind` that worker threads
 * can build too (a built-in, or one from a policy module: see policies/modules.ts).
 */
function registered(kind: PolicyKind, field: string, value: string, known: readonly string[]): string {
  if (!known.includes(value)) configError(field, `must be a registered policy (${known.join(', ')}), got ${describe(value)}`);
  if (!isWorkerPolicy(kind, value)) {
    configError(field, `policy ${describe(value)} is registered on this thread only, but the engine builds its policies in worker threads: `
      + 'export it from a policy module and register that with registerPolicyModule(moduleUrl)');
  }
  return value;
}

const MAX_BYTES = Number.MAX_SAFE_INTEGER;
const MAX_MS = 24 * 3600 * 1000;

/** The eviction block of a tier, defaults filled in (whether a policy is registered is checked after). */
const evictionBlock = block({
  policy: v.optional(registryName, CONFIG_DEFAULTS.evictionPolicy),
  watermark: v.optional(fraction, CONFIG_DEFAULTS.watermark),
  ratio: v.optional(fraction, CONFIG_DEFAULTS.ratio),
});

const storeBlock = block({
  maxRetries: v.optional(integerIn(0, 100), CONFIG_DEFAULTS.maxRetries),
  backoffMs: v.optional(integerIn(0, 60_000), CONFIG_DEFAULTS.backoffMs),
  maxInFlightBytesPerAdapter: v.optional(integerIn(1, MAX_BYTES), CONFIG_DEFAULTS.maxInFlightBytesPerAdapter),
  batchKeys: v.optional(integerIn(1, 65_536), CONFIG_DEFAULTS.batchKeys),
});

function adapterList(entry: FieldSchema<unknown>) {
  return v.pipe(
    v.array(entry, (issue) => `must be an array, got ${describe(issue.input)}`),
    v.maxLength(MAX_ADAPTERS, (issue) => `must have at most ${MAX_ADAPTERS} entries, got ${(issue.input as unknown[]).length}`),
  );
}

/**
 * The engine's config as a schema, with `adapters` entries given by `adapterEntry`: at run time
 * each entry is checked by its registered type after this schema ran; the published JSON Schema
 * gives the built-in adapters' blocks (see {@link configSchema}).
 */
function engineBlock(adapterEntry: FieldSchema<unknown>) {
  return block({
    // The JSON Schema a config file names for editors; no setting.
    $schema: v.optional(nonEmptyString),
    l1: l1Block,
    adapters: v.optional(adapterList(adapterEntry), []),
    storePolicy: v.optional(registryName, CONFIG_DEFAULTS.storePolicy),
    prefetchPolicy: v.optional(registryName, CONFIG_DEFAULTS.prefetchPolicy),
    l1Eviction: v.optional(evictionBlock, {}),
    evictionIntervalMs: v.optional(integerIn(1, MAX_MS), CONFIG_DEFAULTS.evictionIntervalMs),
    reconcileIntervalMs: v.optional(integerIn(1, MAX_MS), CONFIG_DEFAULTS.reconcileIntervalMs),
    prefetchMaxInFlight: v.optional(integerIn(1, 1024), CONFIG_DEFAULTS.prefetchMaxInFlight),
    adapterCallTimeoutMs: v.optional(integerIn(1, MAX_MS), CONFIG_DEFAULTS.adapterCallTimeoutMs),
    workerReadyTimeoutMs: v.optional(integerIn(1, MAX_MS), CONFIG_DEFAULTS.workerReadyTimeoutMs),
    store: v.optional(storeBlock, {}),
  });
}

const engineSchema = engineBlock(v.unknown());

/**
 * The schema of a whole config file whose `adapters` entries are one of `adapterBlocks` (each
 * adapter type's `configSchema`): what the published JSON Schema is generated from.
 */
export function configSchema(adapterBlocks: readonly FieldSchema<unknown>[]): FieldSchema<unknown> {
  const entry = adapterBlocks.length === 0 ? v.looseObject({ type: nonEmptyString }) : v.union(adapterBlocks as FieldSchema<unknown>[]);
  return engineBlock(entry);
}

function eviction(field: string, parsed: v.InferOutput<typeof evictionBlock>): EvictionConfig {
  return { ...parsed, policy: registered('eviction', `${field}.policy`, parsed.policy, evictionPolicyNames()) };
}

function adapters(value: readonly unknown[]): AdapterConfig[] {
  // The engine's schema checked the list; each entry is checked by its registered type.
  return value.map((entry, i) => {
    validateAdapterConfig(entry, `adapters[${i}]`);
    // The block's defaults are L1's: the eviction worker reads a complete block.
    const field = `adapters[${i}].eviction`;
    return entry.eviction === undefined ? entry : { ...entry, eviction: eviction(field, parseBlock(evictionBlock, entry.eviction, field)) };
  });
}

/**
 * Validates a raw (JSON) configuration and fills in every default.
 * @throws KvtierError `KVT_ERR_CONFIG` naming the first bad field and its allowed range; also for a
 * value that is not JSON data, and for an L1 larger than the machine's memory allows (see resolveL1Config).
 */
export function validateConfig(value: unknown): KvCacheConfig {
  // Validated and returned as one plain-data copy: every value read once, and anything that is not
  // JSON data (BigInt, symbol, function, cycle, throwing getter...) refused here, naming its field.
  const raw = parseBlock(engineSchema, plainData('', value), '');
  resolveL1Config(raw.l1);
  const config: KvCacheConfig = {
    l1: raw.l1,
    adapters: adapters(raw.adapters),
    storePolicy: registered('store', 'storePolicy', raw.storePolicy, storePolicyNames()),
    prefetchPolicy: registered('prefetch', 'prefetchPolicy', raw.prefetchPolicy, prefetchPolicyNames()),
    l1Eviction: eviction('l1Eviction', raw.l1Eviction),
    evictionIntervalMs: raw.evictionIntervalMs,
    reconcileIntervalMs: raw.reconcileIntervalMs,
    prefetchMaxInFlight: raw.prefetchMaxInFlight,
    adapterCallTimeoutMs: raw.adapterCallTimeoutMs,
    workerReadyTimeoutMs: raw.workerReadyTimeoutMs,
    store: raw.store,
  };
  leasesOutlastCalls(config);
  return config;
}

/**
 * Refuses leases shorter than the adapter calls that hold them: a prefetch holds its write locks
 * across a load, a store holds its read locks across a store. Such a lease would end mid-call as a
 * matter of course (safe, since an expired lease never frees a slot in use, but the call's work
 * would be thrown away every time).
 */
function leasesOutlastCalls(config: KvCacheConfig): void {
  const call = config.adapterCallTimeoutMs;
  const leases = [
    ['writeLeaseMs', config.l1.writeLeaseMs ?? L1_DEFAULTS.writeLeaseMs, 'a prefetch holds its write locks for a whole adapter load'],
    ['readLeaseMs', config.l1.readLeaseMs ?? L1_DEFAULTS.readLeaseMs, 'a store holds its read locks for a whole adapter store'],
  ] as const;
  for (const [field, lease, why] of leases) {
    if (lease < call) {
      configError(`l1.${field}`, `${lease} ms is shorter than adapterCallTimeoutMs (${call} ms): ${why}, so a lease must last at least `
        + 'one call deadline; raise l1.' + field + ' or lower adapterCallTimeoutMs');
    }
  }
}

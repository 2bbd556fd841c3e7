/**
 * The `fault` adapter: wraps another adapter and injects failures drawn from a seeded PRNG, so a
 * run with the same seed and the same sequence of calls fails the same way.
 *
 * Config: `{"type": "fault", "inner": {…another adapter config…}, "seed"?: 1, "storeErrorRate"?: 0,
 * "loadErrorRate"?: 0, "lookupErrorRate"?: 0, "corruptRate"?: 0, "lostRate"?: 0, "delayRate"?: 0,
 * "delayMs"?: 10}`. Rates are probabilities in [0, 1]:
 * - `storeErrorRate`, `loadErrorRate`, `lookupErrorRate`: the whole call throws.
 * - `corruptRate`: per key, a loaded object gets one byte flipped (after the inner load).
 * - `lostRate`: per call (store, load, lookup), the inner call runs but the returned promise never
 *   settles — the engine's call deadlines must cope.
 * - `delayRate`/`delayMs`: per call, the call starts `delayMs` late.
 */
import { ErrorCode, KvtierError, type DigestBatch, type AdapterConfig } from '@kvtier/core';
import { adapterBlock, adapterModule, configError, integerFrom, nonEmptyString, numberIn, parseBlock, v, validateAdapterConfig, type AdapterContext, type L2Adapter, type L2Status, type L2Usage } from '@kvtier/core/authoring';
import { totalLength } from './parts.ts';
import { Prng } from './prng.ts';

/** The fault knobs of a `fault` adapter (rates are probabilities in [0, 1], default 0). */
export interface FaultOptions {
  /** PRNG seed, a u32; default 1. */
  readonly seed?: number;
  readonly storeErrorRate?: number;
  readonly loadErrorRate?: number;
  readonly lookupErrorRate?: number;
  readonly corruptRate?: number;
  readonly lostRate?: number;
  readonly delayRate?: number;
  /** Delay of a delayed call in ms; default 10. */
  readonly delayMs?: number;
}

/** Config of a `fault` adapter. */
export interface FaultAdapterConfig extends AdapterConfig, FaultOptions {
  readonly type: 'fault';
  /** The adapter that does the real work. */
  readonly inner: AdapterConfig;
}

const RATE_FIELDS = ['storeErrorRate', 'loadErrorRate', 'lookupErrorRate', 'corruptRate', 'lostRate', 'delayRate'] as const;
const rate = v.optional(numberIn(0, 1));

/** The schema of a `fault` block; `inner` is checked as an adapter block of its own type. */
export const configSchema = adapterBlock('fault', {
  inner: v.looseObject({ type: nonEmptyString }),
  seed: v.optional(v.pipe(integerFrom(0), v.maxValue(0xffffffff, (issue) => `must be an integer in [0, 2^32), got ${String(issue.input)}`))),
  delayMs: v.optional(integerFrom(0)),
  ...Object.fromEntries(RATE_FIELDS.map((name) => [name, rate])) as Record<(typeof RATE_FIELDS)[number], typeof rate>,
});

/**
 * Throws CONFIG naming the first bad `fault` field under `field` (the inner config included).
 * `capacityBytes` is enforced by the inner adapter (it gets it), so a different inner one is refused.
 */
export function validateConfig(config: AdapterConfig, field: string): void {
  validateAdapterConfig(config.inner, `${field}.inner`);
  const innerCapacity = (config.inner as AdapterConfig).capacityBytes;
  if (config.capacityBytes !== undefined && innerCapacity !== undefined && innerCapacity !== config.capacityBytes) {
    configError(`${field}.capacityBytes`, `the inner adapter enforces it, but ${field}.inner.capacityBytes is ${innerCapacity}, not ${config.capacityBytes}`);
  }
  parseBlock(configSchema, config, field);
}

/** Creates the inner adapter (by its registered type, with this adapter's `capacityBytes`) and wraps it in a {@link FaultAdapter}. */
export async function createAdapter(config: AdapterConfig, ctx: AdapterContext): Promise<L2Adapter> {
  const c = config as FaultAdapterConfig;
  const field = `${ctx.field}.inner`;
  const innerConfig = c.capacityBytes === undefined ? c.inner : { ...c.inner, capacityBytes: c.capacityBytes };
  const inner = await (await adapterModule(c.inner.type, field)).createAdapter(innerConfig, { index: ctx.index, field, generation: ctx.generation });
  return new FaultAdapter(inner, c, ctx.generation ?? 0);
}

/** Counts of injected faults, by kind. */
export interface FaultCounts {
  storeErrors: number;
  loadErrors: number;
  lookupErrors: number;
  corruptions: number;
  lost: number;
  delays: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An {@link L2Adapter} that injects seeded faults around another. */
export class FaultAdapter implements L2Adapter {
  readonly #inner: L2Adapter;
  readonly #prng: Prng;
  readonly #rates: Required<Omit<FaultOptions, 'seed'>>;
  /** Faults injected so far. */
  readonly injected: FaultCounts = { storeErrors: 0, loadErrors: 0, lookupErrors: 0, corruptions: 0, lost: 0, delays: 0 };

  /**
   * @param generation - the host generation (AdapterContext): a restarted host draws its own
   *   sequence, so a fault that killed one host is not replayed by every later one. Generation 0
   *   draws exactly the seed's sequence.
   */
  constructor(inner: L2Adapter, config: FaultOptions, generation = 0) {
    this.#inner = inner;
    this.#prng = new Prng(((config.seed ?? 1) + Math.imul(generation, 0x9e3779b9)) >>> 0);
    this.#rates = {
      storeErrorRate: config.storeErrorRate ?? 0,
      loadErrorRate: config.loadErrorRate ?? 0,
      lookupErrorRate: config.lookupErrorRate ?? 0,
      corruptRate: config.corruptRate ?? 0,
      lostRate: config.lostRate ?? 0,
      delayRate: config.delayRate ?? 0,
      delayMs: config.delayMs ?? 10,
    };
  }

  /**
   * One faulty call: draws (in this order, always, so the sequence stays aligned) delay, error
   * and loss; then runs `work` unless it errs, and returns a never-settling promise when lost.
   */
  async #call<T>(op: 'store' | 'load' | 'lookup', errorRate: number, errorCount: keyof FaultCounts, work: () => Promise<T>): Promise<T> {
    const delayed = this.#prng.chance(this.#rates.delayRate);
    const fails = this.#prng.chance(errorRate);
    const lost = this.#prng.chance(this.#rates.lostRate);
    if (delayed) {
      this.injected.delays++;
      await sleep(this.#rates.delayMs);
    }
    if (fails) {
      this.injected[errorCount]++;
      throw new Error(`injected ${op} error`);
    }
    const result = await work();
    if (lost) {
      this.injected.lost++;
      return new Promise<T>(() => {});
    }
    return result;
  }

  store(keys: DigestBatch, objects: readonly (readonly Uint8Array[])[]): Promise<Uint8Array> {
    return this.#call('store', this.#rates.storeErrorRate, 'storeErrors', () => this.#inner.store(keys, objects));
  }

  lookup(keys: DigestBatch): Promise<Float64Array> {
    return this.#call('lookup', this.#rates.lookupErrorRate, 'lookupErrors', () => this.#inner.lookup(keys));
  }

  load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array> {
    return this.#call('load', this.#rates.loadErrorRate, 'loadErrors', async () => {
      const lengths = await this.#inner.load(keys, targets);
      for (let i = 0; i < lengths.length; i++) {
        if (!this.#prng.chance(this.#rates.corruptRate) || lengths[i] <= 0) continue;
        this.#corrupt(targets[i], Math.min(lengths[i], totalLength(targets[i])));
        this.injected.corruptions++;
      }
      return lengths;
    });
  }

  /** Flips the bits of one byte among the first `length` bytes of `parts`. */
  #corrupt(parts: readonly Uint8Array[], length: number): void {
    let at = this.#prng.below(length);
    for (const part of parts) {
      if (at < part.length) {
        part[at] ^= 0xff;
        return;
      }
      at -= part.length;
    }
  }

  delete(keys: DigestBatch): Promise<Uint8Array> {
    return this.#inner.delete(keys);
  }

  usage(): Promise<L2Usage> {
    return this.#inner.usage();
  }

  async status(): Promise<L2Status> {
    const inner = await this.#inner.status();
    return { healthy: inner.healthy, injected: { ...this.injected }, inner };
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

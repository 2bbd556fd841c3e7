/**
 * The `mock` adapter: objects in memory, with simulated bandwidth and a capacity. For tests and
 * benchmarks of everything above the adapter.
 *
 * Config: `{"type": "mock", "capacityBytes"?: n, "bandwidthGBps"?: x}`; without `bandwidthGBps`
 * transfers take no simulated time, with it every store and load call sleeps
 * `bytes / (bandwidthGBps · 1e9)` seconds before answering.
 */
import { ErrorCode, KvtierError, digestHex, type DigestBatch, type AdapterConfig } from '@kvtier/core';
import { adapterBlock, numberIn, parseBlock, v, type L2Adapter, type L2Status, type L2Usage } from '@kvtier/core/authoring';
import { copyInto, totalLength } from './parts.ts';

/** Config of a `mock` adapter. */
export interface MockAdapterConfig extends AdapterConfig {
  readonly type: 'mock';
  /** Simulated bandwidth in GB/s (1e9 bytes per second), both directions; absent: instant. */
  readonly bandwidthGBps?: number;
}

/** The schema of a `mock` block. */
export const configSchema = adapterBlock('mock', { bandwidthGBps: v.optional(numberIn(0, 1e6, true)) });

/** Throws CONFIG naming the first bad `mock` field under `field`. */
export function validateConfig(config: AdapterConfig, field: string): void {
  parseBlock(configSchema, config, field);
}

/** Creates a {@link MockAdapter}. */
export async function createAdapter(config: AdapterConfig): Promise<L2Adapter> {
  return new MockAdapter(config as MockAdapterConfig);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An in-memory {@link L2Adapter}. */
export class MockAdapter implements L2Adapter {
  readonly #objects = new Map<string, Uint8Array>();
  readonly #capacity: number;
  /** Bytes per millisecond; Infinity when no bandwidth is simulated. */
  readonly #bytesPerMs: number;
  #used = 0;
  #closed = false;

  constructor(config: { capacityBytes?: number; bandwidthGBps?: number } = {}) {
    this.#capacity = config.capacityBytes ?? -1;
    this.#bytesPerMs = config.bandwidthGBps === undefined ? Infinity : config.bandwidthGBps * 1e6;
  }

  #assertOpen(): void {
    if (this.#closed) throw new KvtierError(ErrorCode.CLOSED, 'mock adapter is closed');
  }

  async #transfer(bytes: number): Promise<void> {
    if (this.#bytesPerMs !== Infinity && bytes > 0) await sleep(bytes / this.#bytesPerMs);
  }

  async store(keys: DigestBatch, objects: readonly (readonly Uint8Array[])[]): Promise<Uint8Array> {
    this.#assertOpen();
    await this.#transfer(objects.reduce((n, parts) => n + totalLength(parts), 0));
    const ok = new Uint8Array(objects.length);
    for (let i = 0; i < objects.length; i++) {
      const key = digestHex(keys, i);
      const bytes = new Uint8Array(totalLength(objects[i]));
      let offset = 0;
      for (const part of objects[i]) {
        bytes.set(part, offset);
        offset += part.length;
      }
      const previous = this.#objects.get(key)?.length ?? 0;
      if (this.#capacity >= 0 && this.#used - previous + bytes.length > this.#capacity) continue;
      this.#objects.set(key, bytes);
      this.#used += bytes.length - previous;
      ok[i] = 1;
    }
    return ok;
  }

  async lookup(keys: DigestBatch): Promise<Float64Array> {
    this.#assertOpen();
    const lengths = new Float64Array(keys.length / 4);
    for (let i = 0; i < lengths.length; i++) lengths[i] = this.#objects.get(digestHex(keys, i))?.length ?? -1;
    return lengths;
  }

  async load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array> {
    this.#assertOpen();
    const found = targets.map((_, i) => this.#objects.get(digestHex(keys, i)));
    await this.#transfer(found.reduce((n, bytes) => n + (bytes?.length ?? 0), 0));
    const lengths = new Float64Array(targets.length);
    for (let i = 0; i < targets.length; i++) {
      const bytes = found[i];
      lengths[i] = bytes === undefined ? -1 : bytes.length;
      if (bytes !== undefined) copyInto(bytes, targets[i]);
    }
    return lengths;
  }

  async delete(keys: DigestBatch): Promise<Uint8Array> {
    this.#assertOpen();
    const deleted = new Uint8Array(keys.length / 4);
    for (let i = 0; i < deleted.length; i++) {
      const key = digestHex(keys, i);
      const bytes = this.#objects.get(key);
      if (bytes === undefined) continue;
      this.#objects.delete(key);
      this.#used -= bytes.length;
      deleted[i] = 1;
    }
    return deleted;
  }

  async usage(): Promise<L2Usage> {
    this.#assertOpen();
    return { usedBytes: this.#used, capacityBytes: this.#capacity };
  }

  async status(): Promise<L2Status> {
    return { healthy: !this.#closed, objects: this.#objects.size, usedBytes: this.#used, capacityBytes: this.#capacity };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#objects.clear();
    this.#used = 0;
  }
}

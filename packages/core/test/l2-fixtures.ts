/**
 * Test doubles for the L2 host tests: directly addressed L1 slots and an in-memory adapter whose
 * objects tests can reach. The adapter
 * file is also a valid adapter module (validateConfig, createAdapter), so a worker can import it.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { AdapterConfig, L2Adapter, L2Status } from '../src/l2/adapter.ts';
import type { L2Usage } from '../src/l2/host-api.ts';
import type { DigestBatch } from '../src/l1/api.ts';
import { digestHex } from '../src/digest-batch.ts';
import { configError } from '../src/errors.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { withDeadline } from '../src/deadline.ts';

/**
 * A real L1 whose slots tests address directly: with one segment, slot reference i is slot i, and
 * `view` needs no lock, so a test can stand in for the controllers that would hold the locks.
 */
export function slotArena(slotBytes: number, slots: number): L1Manager {
  return L1Manager.create({ slotBytes, slotCount: slots });
}

/** Keys 0..n-1 as a DigestBatch with distinct, recognisable words. */
export function testKeys(n: number, salt = 0): DigestBatch {
  const keys = new Uint32Array(n * 4);
  for (let i = 0; i < n; i++) keys.set([0x1000 + i, salt, 0xabcd0000 + i, 0x5eed], i * 4);
  return keys;
}

/** Fills `bytes` with a pattern derived from `seed`. */
export function fillPattern(bytes: Uint8Array, seed: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + seed * 7 + 1) & 0xff;
}

/**
 * The header version 1 of the envelope wrote for key `index` and `payload`: the same layout, an
 * AES-128-GMAC tag under version 1's key. Kept here, not in the product, to check that such an
 * object is a miss.
 */
export function sealedAsVersion1(keys: DigestBatch, index: number, payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, 0x3254564b, true);
  dv.setUint16(4, 1, true);
  dv.setUint16(6, 64, true);
  for (let w = 0; w < 4; w++) dv.setUint32(8 + w * 4, keys[index * 4 + w], true);
  dv.setUint32(24, payload.length, true);
  const gmac = createCipheriv('aes-128-gcm', createHash('sha256').update('kvtier envelope tag v1').digest().subarray(0, 16), header.slice(8, 20));
  gmac.setAAD(payload);
  gmac.final();
  header.set(gmac.getAuthTag(), 40);
  dv.setUint32(56, crc32(header.subarray(0, 56)), true);
  return header;
}

/** An in-memory adapter whose stored objects tests can reach (`objects`) and whose calls can fail on demand. */
export class MemoryAdapter implements L2Adapter {
  readonly objects = new Map<string, Uint8Array>();
  /** Operation names that throw when called. */
  readonly failing = new Set<string>();
  closed = false;

  #maybeFail(op: string): void {
    if (this.failing.has(op)) throw new Error(`disk on fire during ${op}`);
  }

  async store(keys: DigestBatch, objects: readonly (readonly Uint8Array[])[]): Promise<Uint8Array> {
    this.#maybeFail('store');
    objects.forEach((parts, i) => {
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        bytes.set(p, at);
        at += p.length;
      }
      this.objects.set(digestHex(keys, i), bytes);
    });
    return new Uint8Array(objects.length).fill(1);
  }

  async lookup(keys: DigestBatch): Promise<Float64Array> {
    this.#maybeFail('lookup');
    return Float64Array.from({ length: keys.length / 4 }, (_, i) => this.objects.get(digestHex(keys, i))?.length ?? -1);
  }

  async load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array> {
    this.#maybeFail('load');
    return Float64Array.from(targets, (parts, i) => {
      const bytes = this.objects.get(digestHex(keys, i));
      if (bytes === undefined) return -1;
      let at = 0;
      for (const p of parts) {
        const n = Math.min(p.length, bytes.length - at);
        if (n <= 0) break;
        p.set(bytes.subarray(at, at + n));
        at += n;
      }
      return bytes.length;
    });
  }

  async delete(keys: DigestBatch): Promise<Uint8Array> {
    this.#maybeFail('delete');
    return Uint8Array.from({ length: keys.length / 4 }, (_, i) => (this.objects.delete(digestHex(keys, i)) ? 1 : 0));
  }

  async usage(): Promise<L2Usage> {
    let used = 0;
    for (const b of this.objects.values()) used += b.length;
    return { usedBytes: used, capacityBytes: -1 };
  }

  async status(): Promise<L2Status> {
    return { healthy: !this.closed, objects: this.objects.size };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Adapter module surface: a `memory` adapter accepts no fields but `type` and `failing`. */
export function validateConfig(config: AdapterConfig, field: string): void {
  if (config.failing !== undefined && !Array.isArray(config.failing)) configError(`${field}.failing`, 'must be an array of operation names');
}

/** Adapter module surface. */
export async function createAdapter(config: AdapterConfig): Promise<L2Adapter> {
  const adapter = new MemoryAdapter();
  for (const op of (config.failing as string[] | undefined) ?? []) adapter.failing.add(op);
  return adapter;
}

/** `test(name, body)` with the body bounded by `ms` (uvu has no timeouts of its own). */
export function boundedTest(test: (name: string, fn: () => Promise<void>) => void, ms = 10_000) {
  return (name: string, body: () => unknown): void => test(name, () => withDeadline(Promise.resolve().then(body).then(() => {}), ms, name));
}

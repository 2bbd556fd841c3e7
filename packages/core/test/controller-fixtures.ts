// Shared by the controller-*.test.ts files: controllers run in-process over a real L1 and real
// AdapterHosts; the raw adapter under each host is this small in-memory fake with knobs for
// hanging and failing calls (unit tests only: integration tests use the real adapters).
import { createHash } from 'node:crypto';
import { digestBatch } from '../src/keys.ts';
import { digestHex } from '../src/digest-batch.ts';
import type { DigestBatch } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import type { L2Adapter, L2Status } from '../src/l2/adapter.ts';
import { AdapterHost } from '../src/l2/host.ts';
import type { L2Usage } from '../src/l2/host-api.ts';
import { Metrics } from '../src/metrics.ts';
import { HostGenerations, hostGone, takeTerminationRequests } from '../src/engine/host-generations.ts';
import { CONTROL_WORDS } from '../src/engine/layout.ts';

/** Bytes per test object. */
export const SIZE = 4096;

/** Digests of keys named by small numbers. */
export function keys(...ids: number[]): DigestBatch {
  return digestBatch(ids.map((id) => new Uint8Array(createHash('sha256').update(`controller key ${id}`).digest().subarray(0, 16))));
}

/** Numbers 0..n-1. */
export function ids(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** An in-memory raw adapter; `hang` makes calls of an operation never settle, `fail` reject. */
export class MemoryAdapter implements L2Adapter {
  readonly objects = new Map<string, Uint8Array>();
  readonly calls = { store: 0, load: 0, lookup: 0 };
  hang = new Set<'store' | 'load' | 'lookup'>();
  fail = new Set<'store' | 'load' | 'lookup'>();
  /** Largest payload bytes seen in concurrent store calls. */
  maxConcurrentStoreBytes = 0;
  #storeBytes = 0;
  /** ms each store takes. */
  storeDelayMs = 0;
  /** ms before a load writes its targets (and answers). */
  loadDelayMs = 0;
  /** ms before a lookup answers. */
  lookupDelayMs = 0;
  /** Lookups that answered. */
  lookupsAnswered = 0;

  async #gate(op: 'store' | 'load' | 'lookup'): Promise<void> {
    this.calls[op]++;
    if (this.hang.has(op)) await new Promise(() => {});
    if (this.fail.has(op)) throw new Error(`${op} failed on purpose`);
  }

  async store(keys: DigestBatch, objects: readonly (readonly Uint8Array[])[]): Promise<Uint8Array> {
    await this.#gate('store');
    const bytes = objects.reduce((s, parts) => s + parts.reduce((a, p) => a + p.length, 0), 0);
    this.#storeBytes += bytes;
    this.maxConcurrentStoreBytes = Math.max(this.maxConcurrentStoreBytes, this.#storeBytes);
    if (this.storeDelayMs > 0) await new Promise((r) => setTimeout(r, this.storeDelayMs));
    objects.forEach((parts, i) => {
      const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) { out.set(p, at); at += p.length; }
      this.objects.set(digestHex(keys, i), out);
    });
    this.#storeBytes -= bytes;
    return new Uint8Array(objects.length).fill(1);
  }

  async lookup(keys: DigestBatch): Promise<Float64Array> {
    await this.#gate('lookup');
    if (this.lookupDelayMs > 0) await new Promise((r) => setTimeout(r, this.lookupDelayMs));
    this.lookupsAnswered++;
    return Float64Array.from({ length: keys.length / 4 }, (_, i) => this.objects.get(digestHex(keys, i))?.length ?? -1);
  }

  async load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array> {
    await this.#gate('load');
    if (this.loadDelayMs > 0) await new Promise((r) => setTimeout(r, this.loadDelayMs));
    return Float64Array.from(targets, (parts, i) => {
      const obj = this.objects.get(digestHex(keys, i));
      if (obj === undefined) return -1;
      let at = 0;
      for (const p of parts) { p.set(obj.subarray(at, at + p.length)); at += p.length; }
      return obj.length;
    });
  }

  async delete(keys: DigestBatch): Promise<Uint8Array> {
    return Uint8Array.from({ length: keys.length / 4 }, (_, i) => (this.objects.delete(digestHex(keys, i)) ? 1 : 0));
  }

  async usage(): Promise<L2Usage> {
    return { usedBytes: [...this.objects.values()].reduce((s, o) => s + o.length, 0), capacityBytes: -1 };
  }

  async status(): Promise<L2Status> {
    return { healthy: true };
  }

  async close(): Promise<void> {}
}

/** A small real L1 (4 KiB slots) on this thread. */
export function smallL1(slotCount = 32): L1Manager {
  return L1Manager.create({ slotBytes: SIZE, slotCount });
}

/** `n` real hosts over fresh memory adapters, with L1 views. */
export function hosts(l1: L1Manager, n: number): { hosts: AdapterHost[]; raw: MemoryAdapter[] } {
  const raw = ids(n).map(() => new MemoryAdapter());
  return { raw, hosts: raw.map((adapter, index) => new AdapterHost({ adapter, index, type: 'memory', l1 })) };
}

/** Writes keys with a byte pattern (the first byte = the key's id) and finishes them. */
export function write(l1: L1Manager, batch: DigestBatch, tag = 1): void {
  const r = l1.reserveWrite(batch, SIZE);
  for (let i = 0; i < batch.length / 4; i++) {
    if (r.codes[i] !== 0) throw new Error(`reserveWrite ${i}: ${r.codes[i]}`);
    l1.view(r.slots[i], SIZE).fill((tag + i) & 0xff);
  }
  l1.finishWrite(batch);
}

/** Fresh metrics. */
export function metrics(): Metrics {
  return new Metrics();
}

/**
 * Host generations of `adapters` in-process hosts over a fresh control block, and the engine's
 * part of the protocol: `endRequestedHosts()` ends the hosts controllers asked to terminate (here
 * a host cannot die, so it only moves the generation) and returns their indices.
 */
export function hostLiveness(adapters: number): { hosts: HostGenerations; endRequestedHosts(): number[] } {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  return {
    hosts: new HostGenerations(control, new Array<number>(adapters).fill(0), 'store'),
    endRequestedHosts: () => {
      const ended = takeTerminationRequests(control, adapters);
      for (const a of ended) hostGone(control, a);
      return ended;
    },
  };
}

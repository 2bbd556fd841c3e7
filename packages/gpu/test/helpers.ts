/** Shared test fixtures for @kvtier/gpu tests: a device per file, deterministic KV bytes. */
import { withDeadline } from '@kvtier/core/testing';
import { openGpu, type Gpu, type OpenGpuOptions } from '../src/index.ts';

/** Time bound of opening a device (lavapipe starts in well under a second; CI is slow). */
export const OPEN_MS = 30_000;
/** Time bound of one test body. */
export const TEST_MS = 60_000;

/** Opens a device within {@link OPEN_MS}; GPU warnings and errors are collected in `log`. */
export async function openTestGpu(log: string[] = [], opts: OpenGpuOptions = {}): Promise<Gpu> {
  const keep = (m: string) => { log.push(m); };
  return withDeadline(openGpu({ logger: { debug() {}, info() {}, warn: keep, error: keep }, ...opts }), OPEN_MS, 'openGpu');
}

/** `n` bytes of a xorshift32 stream from `seed`: reproducible, and no two seeds alike. */
export function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** `0 … n-1` in a fixed shuffled order (Fisher–Yates driven by {@link pseudoRandomBytes}). */
export function shuffledBlocks(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const noise = pseudoRandomBytes(4 * n, seed);
  const view = new DataView(noise.buffer);
  for (let i = n - 1; i > 0; i--) {
    const j = view.getUint32(4 * i, true) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** A Uint8Array of `n` bytes on a SharedArrayBuffer, as L1 slots are. */
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

/** True when `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

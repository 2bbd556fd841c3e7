// Shared by the l1-*.test.ts files: small L1s, keys by number, readable result codes, and an L1
// wrapper that checks every invariant after each call.
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { KvtierError } from '../src/errors.ts';
import { digestBatch } from '../src/keys.ts';
import { L1_ERROR_NAMES, type DigestBatch } from '../src/l1/api.ts';
import type { L1Options } from '../src/l1/l1-config.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';

/** The digest batch of keys named by small numbers (distinct numbers, distinct SHA-derived digests). */
export function keys(...ids: number[]): DigestBatch {
  return digestBatch(ids.map((id) => new Uint8Array(createHash('sha256').update(`key ${id}`).digest().subarray(0, 16))));
}

/** Result codes as names, for readable assertions. */
export function names(codes: Uint8Array): string[] {
  return [...codes].map((c) => L1_ERROR_NAMES[c]);
}

/**
 * An L1 (4 KiB slots, 8 by default) whose every method call is followed by checkInvariants(),
 * so each test also proves the index stayed consistent after each mutation.
 */
export function checkedL1(options: Partial<L1Options> = {}): L1Manager {
  const l1 = L1Manager.create({ slotBytes: 4096, slotCount: 8, ...options } as L1Options);
  return new Proxy(l1, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || prop === 'checkInvariants' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        target.checkInvariants();
        return result;
      };
    },
  });
}

/** Writes and finishes `batch` (size 100 each), asserting success: the keys end up ready. */
export function ready(l1: L1Manager, batch: DigestBatch): void {
  assert.ok(names(l1.reserveWrite(batch, 100).codes).every((c) => c === 'SUCCESS'), 'reserveWrite');
  assert.ok(names(l1.finishWrite(batch)).every((c) => c === 'SUCCESS'), 'finishWrite');
}

/** Asserts `fn` throws a KvtierError with `code` and a message matching `pattern`. */
export function throwsCode(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, KvtierError);
    assert.is((e as KvtierError).code, code);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a KvtierError');
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bytes a writer puts in key `k`'s object: its index in the first 4 bytes, then `fill` (1..255). */
export function writeObject(view: Uint8Array, k: number, fill: number): void {
  new DataView(view.buffer, view.byteOffset, 4).setUint32(0, k, true);
  view.fill(fill, 4);
}

/** Whether `view` holds what {@link writeObject} wrote for key `k`. */
export function isObject(view: Uint8Array, k: number): boolean {
  if (view.length < 5 || new DataView(view.buffer, view.byteOffset, 4).getUint32(0, true) !== k) return false;
  const fill = view[4];
  if (fill === 0) return false;
  for (let i = 5; i < view.length; i++) if (view[i] !== fill) return false;
  return true;
}

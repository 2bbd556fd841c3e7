/** Shared pieces of the adapter tests: real keys, a host over an adapter and a real L1, temp dirs. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ErrorCode, digestBatch, objectKeys, type DigestBatch } from '@kvtier/core';
import { AdapterHost, Bitmap, type L2Adapter, withDeadline } from '@kvtier/core/authoring';
import { L1Manager } from '@kvtier/core/testing';

/** Digests of `n` chunk keys of one model. */
export function chunkKeys(n: number, model = 'llama-3-8b', cacheSalt?: string): DigestBatch {
  const tokens = Uint32Array.from({ length: n * 16 }, (_, i) => i * 13 + 7);
  return digestBatch(objectKeys(model, 0, tokens, { chunkSize: 16, ...(cacheSalt === undefined ? {} : { cacheSalt }) }));
}

/** Fills `bytes` with a pattern derived from `seed`. */
export function fillPattern(bytes: Uint8Array, seed: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + seed * 7 + 1) & 0xff;
}

/**
 * A host over `adapter` and a real L1 of `slots` slots of `slotBytes`, addressed directly (with
 * one segment slot reference i is slot i, and views need no lock), as the controllers would.
 */
export function hosted(adapter: L2Adapter, type: string, slotBytes = 64 * 1024, slots = 32) {
  const arena = L1Manager.create({ slotBytes, slotCount: slots });
  const host = new AdapterHost({ adapter, index: 0, type, l1: arena });
  /** Stores keys from slots [0, n), each `size` bytes of its own pattern. */
  const store = (keys: DigestBatch, size: number) => {
    const n = keys.length / 4;
    for (let i = 0; i < n; i++) fillPattern(arena.view(i, size), i);
    return host.store(keys, Int32Array.from({ length: n }, (_, i) => i), new Uint32Array(n).fill(size));
  };
  /** Loads keys into slots [first, first + n) and answers the loaded key indices. */
  const load = async (keys: DigestBatch, size: number, first = 16) => {
    const n = keys.length / 4;
    const r = await host.load(keys, Int32Array.from({ length: n }, (_, i) => first + i), new Uint32Array(n).fill(size));
    return new Bitmap(r.size, r.words.buffer, r.words.byteOffset).indices();
  };
  return { arena, host, store, load };
}

/** Indices of the set bits of a bitmap answer. */
export function bits(data: { size: number; words: Uint32Array }): number[] {
  return new Bitmap(data.size, data.words.buffer, data.words.byteOffset).indices();
}

/** `test(name, body)` with the body bounded by `ms` (uvu has no timeouts of its own). */
export function boundedTest(test: (name: string, fn: () => Promise<void>) => void, ms = 15_000) {
  return (name: string, body: () => unknown): void => test(name, () => withDeadline(Promise.resolve().then(body).then(() => {}), ms, name));
}

/** A fresh temp dir under os.tmpdir(); remove it with `removeDir`. */
export function tempDir(prefix = 'kvtier-fs-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a temp dir and everything in it. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Closes `adapter`, then checks that each data call (store, lookup, load, delete, usage, and storeSealed / loadChecked where it has them) rejects with KVT_ERR_CLOSED. */
export async function assertCallsRejectAfterClose(adapter: L2Adapter): Promise<void> {
  await adapter.close();
  const keys = chunkKeys(1);
  const calls: [string, () => Promise<unknown>][] = [
    ['store', () => adapter.store(keys, [[new Uint8Array(8)]])],
    ['lookup', () => adapter.lookup(keys)],
    ['load', () => adapter.load(keys, [[new Uint8Array(8)]])],
    ['delete', () => adapter.delete(keys)],
    ['usage', () => adapter.usage()],
  ];
  const storeSealed = adapter.storeSealed?.bind(adapter);
  if (storeSealed !== undefined) calls.push(['storeSealed', () => storeSealed(keys, [new Uint8Array(8)])]);
  const loadChecked = adapter.loadChecked?.bind(adapter);
  if (loadChecked !== undefined) calls.push(['loadChecked', () => loadChecked(keys, [new Uint8Array(new SharedArrayBuffer(8))])]);
  for (const [name, call] of calls) {
    const code = await call().then(() => 'resolved', (err: { code?: string }) => err.code);
    if (code !== ErrorCode.CLOSED) throw new Error(`${name} after close: expected KVT_ERR_CLOSED, got ${String(code)}`);
  }
}

/**
 * Runs `body` while every worker thread (the fs adapter's I/O threads) that is posted a message is
 * terminated: without `afterMs`, before the message is posted, so the thread never runs that job
 * (terminating just after posting let a quick thread answer first under load); with it, `afterMs`
 * after posting (a real thread, really ended); answers how many were.
 */
export async function killingThreads(body: () => Promise<void>, afterMs?: number): Promise<number> {
  const post = Worker.prototype.postMessage;
  let killed = 0;
  Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
    killed++;
    if (afterMs === undefined) {
      void this.terminate();
      post.apply(this, args);
      return;
    }
    post.apply(this, args);
    setTimeout(() => void this.terminate(), afterMs);
  };
  try {
    await body();
  } finally {
    Worker.prototype.postMessage = post;
  }
  return killed;
}

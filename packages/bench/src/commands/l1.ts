/**
 * `kvtier-bench l1`: key operations per second of the shared-memory L1 (`L1Manager`, the real
 * class), one thread and two worker threads on the same L1 at once, next to a plain JS Map-based
 * implementation of the same bookkeeping measured single-threaded in the same run.
 *
 * Ops: `read` = reserveRead + finishRead of a batch of ready keys; `write` = reserveWrite +
 * finishWrite + delete of a batch of fresh keys. A key counts once per op round trip.
 */
import { randomFillSync } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { L1Error, type DigestBatch } from '@kvtier/core';
import { L1Manager, type L1Handle } from '@kvtier/core/testing';
import { numberList, parseFlags, UsageError } from '../args.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { formatTable } from '../table.ts';

const OPS = ['read', 'write'] as const;
type Op = (typeof OPS)[number];
const DEFAULT_BATCHES = [1, 16, 256];
const DEFAULT_THREADS = [1, 2];
const DEFAULT_MS = 400;
/** Ready keys the read op cycles through. */
const READ_KEYS = 4096;
/** Fresh keys per writer thread (cycled: each round trip deletes what it wrote). */
const WRITE_KEYS = 4096;
const SLOT_BYTES = 4096;
const OBJECT_BYTES = 1000;

const USAGE = `usage: kvtier-bench l1 [--batches N,...] [--threads N,...] [--ms N] [--json]

Keys/s of L1 operations on one shared L1 (4 KiB slots, ${READ_KEYS} ready keys): op read =
reserveRead + finishRead, op write = reserveWrite + finishWrite + delete, per batch size; with
2 threads, two worker threads run the op on the same L1 at once and their rates are summed.
baseline = a plain JS Map (key -> {slot, size, readLocks, writeLocked}, free-slot stack, keys
as 8-char strings of the digest) doing the same bookkeeping, single-threaded, in the same run.
  --batches LIST   keys per call, default ${DEFAULT_BATCHES.join(',')}
  --threads LIST   1 and/or 2, default ${DEFAULT_THREADS.join(',')}
  --ms N           measuring time per cell in ms, default ${DEFAULT_MS}
  --json           print {"rows":[{"op":"read","batch":256,"threads":1,"keysPerSec":N,"baselineKeysPerSec":N},...]}`;

/** One result row. */
interface Row {
  op: Op;
  batch: number;
  threads: number;
  keysPerSec: number;
  baselineKeysPerSec: number;
}

/** The operations both implementations offer; each call handles one batch. */
interface Bookkeeping {
  reserveRead(keys: DigestBatch): unknown;
  finishRead(keys: DigestBatch): unknown;
  reserveWrite(keys: DigestBatch, size: number): unknown;
  finishWrite(keys: DigestBatch): unknown;
  delete(keys: DigestBatch): unknown;
}

interface MapRecord {
  slot: number;
  size: number;
  readLocks: number;
  writeLocked: boolean;
  dirty: boolean;
}

/**
 * The baseline: the same per-key bookkeeping and per-key answers in typed arrays, with a JS Map
 * keyed by the digest as an 8-character string (the cheapest exact Map key for 128 bits).
 */
class MapBookkeeping implements Bookkeeping {
  readonly #map = new Map<string, MapRecord>();
  readonly #free: number[];

  constructor(slots: number) {
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  static #key(keys: DigestBatch, j: number): string {
    const a = keys[j * 4], b = keys[j * 4 + 1], c = keys[j * 4 + 2], d = keys[j * 4 + 3];
    return String.fromCharCode(a & 0xffff, a >>> 16, b & 0xffff, b >>> 16, c & 0xffff, c >>> 16, d & 0xffff, d >>> 16);
  }

  reserveRead(keys: DigestBatch) {
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n), slots = new Int32Array(n), sizes = new Uint32Array(n);
    for (let j = 0; j < n; j++) {
      const r = this.#map.get(MapBookkeeping.#key(keys, j));
      if (r === undefined) { codes[j] = L1Error.KEY_NOT_EXIST; slots[j] = -1; continue; }
      if (r.writeLocked) { codes[j] = L1Error.KEY_NOT_READABLE; slots[j] = -1; continue; }
      r.readLocks++;
      slots[j] = r.slot;
      sizes[j] = r.size;
    }
    return { codes, slots, sizes };
  }

  finishRead(keys: DigestBatch) {
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const r = this.#map.get(MapBookkeeping.#key(keys, j));
      if (r === undefined) codes[j] = L1Error.KEY_NOT_EXIST;
      else if (r.writeLocked || r.readLocks === 0) codes[j] = L1Error.KEY_IN_WRONG_STATE;
      else r.readLocks--;
    }
    return codes;
  }

  reserveWrite(keys: DigestBatch, size: number) {
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n), slots = new Int32Array(n), sizes = new Uint32Array(n);
    for (let j = 0; j < n; j++) {
      const key = MapBookkeeping.#key(keys, j);
      const r = this.#map.get(key);
      if (r !== undefined) {
        if (r.writeLocked || r.readLocks > 0) { codes[j] = L1Error.KEY_NOT_WRITABLE; slots[j] = -1; continue; }
        r.writeLocked = true;
        r.size = size;
        slots[j] = r.slot;
        sizes[j] = size;
        continue;
      }
      const slot = this.#free.pop();
      if (slot === undefined) { codes[j] = L1Error.OUT_OF_MEMORY; slots[j] = -1; continue; }
      this.#map.set(key, { slot, size, readLocks: 0, writeLocked: true, dirty: false });
      slots[j] = slot;
      sizes[j] = size;
    }
    return { codes, slots, sizes };
  }

  finishWrite(keys: DigestBatch) {
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const r = this.#map.get(MapBookkeeping.#key(keys, j));
      if (r === undefined) codes[j] = L1Error.KEY_NOT_EXIST;
      else if (!r.writeLocked) codes[j] = L1Error.KEY_IN_WRONG_STATE;
      else { r.writeLocked = false; r.dirty = true; }
    }
    return codes;
  }

  delete(keys: DigestBatch) {
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const key = MapBookkeeping.#key(keys, j);
      const r = this.#map.get(key);
      if (r === undefined) codes[j] = L1Error.KEY_NOT_EXIST;
      else if (r.writeLocked || r.readLocks > 0) codes[j] = L1Error.KEY_IS_LOCKED;
      else { this.#map.delete(key); this.#free.push(r.slot); }
    }
    return codes;
  }
}

function randomKeys(n: number): DigestBatch {
  return randomFillSync(new Uint32Array(n * 4));
}

/** `keys` cut into batches of `batch` keys (views, no copies). */
function batchesOf(keys: DigestBatch, batch: number): DigestBatch[] {
  const out: DigestBatch[] = [];
  for (let i = 0; (i + batch) * 4 <= keys.length; i += batch) out.push(keys.subarray(i * 4, (i + batch) * 4));
  return out;
}

/** Runs `op` over `keys` in batches for about `ms` (after a short warm-up); keys per second. */
function measure(impl: Bookkeeping, op: Op, keys: DigestBatch, batch: number, ms: number): number {
  const batches = batchesOf(keys, batch);
  const round = op === 'read'
    ? (b: DigestBatch) => { impl.reserveRead(b); impl.finishRead(b); }
    : (b: DigestBatch) => { impl.reserveWrite(b, OBJECT_BYTES); impl.finishWrite(b); impl.delete(b); };
  const run = (forMs: number) => {
    let done = 0;
    const start = performance.now();
    let elapsed = 0;
    // Read the clock once per lap over all batches, so batch 1 does not time the clock.
    while (elapsed < forMs) {
      for (const b of batches) round(b);
      done += batches.length * batch;
      elapsed = performance.now() - start;
    }
    return (done / elapsed) * 1000;
  };
  run(ms / 2);
  return run(ms);
}

/** Ready keys for the read op, written into `l1`. */
function prefill(l1: L1Manager, keys: DigestBatch): void {
  const w = l1.reserveWrite(keys, OBJECT_BYTES);
  const f = l1.finishWrite(keys);
  if (w.codes.some((c) => c !== 0) || f.some((c) => c !== 0)) throw new Error('l1 bench: prefill failed');
}

/** What the main thread posts to a bench worker per cell, and what it answers. */
interface CellTask { op: Op; batch: number; ms: number }
interface WorkerData { l1BenchHandle: L1Handle; readKeys: DigestBatch; writeKeys: DigestBatch }

/** Body of a bench worker: attaches to the L1 and measures each cell it is sent. */
function serveWorker(data: WorkerData): void {
  const l1 = L1Manager.attach(data.l1BenchHandle);
  parentPort!.on('message', (task: CellTask) => {
    const keys = task.op === 'read' ? data.readKeys : data.writeKeys;
    parentPort!.postMessage(measure(l1, task.op, keys, task.batch, task.ms));
  });
}

if (!isMainThread && (workerData as Partial<WorkerData> | null)?.l1BenchHandle) serveWorker(workerData as WorkerData);

/** Two worker threads on one L1, each with its own fresh keys for writes; the read keys are shared. */
class WorkerPair {
  readonly #workers: Worker[];

  constructor(handle: L1Handle, readKeys: DigestBatch) {
    // Workers get no tsx hooks from this thread: register tsx first, then load this module.
    const boot = `const { workerData } = require('node:worker_threads');
      import(workerData.tsxApi).then((m) => { m.register(); return import(workerData.self); });`;
    const tsxApi = import.meta.resolve('tsx/esm/api');
    this.#workers = [0, 1].map(() => new Worker(boot, {
      eval: true,
      workerData: { tsxApi, self: import.meta.url, l1BenchHandle: handle, readKeys, writeKeys: randomKeys(WRITE_KEYS) },
    }));
  }

  /** Measures one cell on both workers at once; the sum of their rates. */
  async measure(task: CellTask): Promise<number> {
    const rates = await Promise.all(this.#workers.map((w) => new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      w.once('error', onError);
      w.once('message', (rate: number) => { w.off('error', onError); resolve(rate); });
      w.postMessage(task);
    })));
    return rates[0] + rates[1];
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, ['batches', 'threads', 'ms', 'json']);
  const batches = numberList(flags.batches, 'batches', DEFAULT_BATCHES);
  const threads = numberList(flags.threads, 'threads', DEFAULT_THREADS);
  const [ms] = numberList(flags.ms, 'ms', [DEFAULT_MS]);
  const json = flags.json === true;
  if (!batches.every((b) => Number.isInteger(b) && b <= READ_KEYS)) throw new UsageError(`--batches: integers up to ${READ_KEYS}`);
  if (!threads.every((t) => t === 1 || t === 2)) throw new UsageError('--threads: 1 and/or 2');

  const slots = READ_KEYS + 3 * WRITE_KEYS;
  const l1 = L1Manager.create({ slotBytes: SLOT_BYTES, slotCount: slots });
  const readKeys = randomKeys(READ_KEYS);
  const writeKeys = randomKeys(WRITE_KEYS);
  prefill(l1, readKeys);
  const pair = threads.includes(2) ? new WorkerPair(l1.handle, readKeys) : undefined;
  const rows: Row[] = [];
  try {
    for (const op of OPS) {
      for (const batch of batches) {
        const baseline = new MapBookkeeping(slots);
        if (op === 'read') {
          baseline.reserveWrite(readKeys, OBJECT_BYTES);
          baseline.finishWrite(readKeys);
        }
        const baselineKeysPerSec = measure(baseline, op, op === 'read' ? readKeys : writeKeys, batch, ms);
        for (const t of threads) {
          const keysPerSec = t === 1
            ? measure(l1, op, op === 'read' ? readKeys : writeKeys, batch, ms)
            : await pair!.measure({ op, batch, ms });
          rows.push({ op, batch, threads: t, keysPerSec: Math.round(keysPerSec), baselineKeysPerSec: Math.round(baselineKeysPerSec) });
        }
      }
    }
  } finally {
    await pair?.close();
  }
  l1.checkInvariants();
  saveChart('l1', {
    title: 'L1 key operations per second vs a Map baseline',
    kind: 'bar',
    x: rows.map((r) => `${r.op} ×${r.batch} ${r.threads}t`),
    xLabel: 'op, batch size, threads',
    yLabel: 'M keys/s',
    series: [
      { name: 'L1 (shared memory)', values: rows.map((r) => r.keysPerSec / 1e6) },
      { name: 'Map baseline', values: rows.map((r) => r.baselineKeysPerSec / 1e6) },
    ],
  });

  if (json) {
    process.stdout.write(`${JSON.stringify({ rows })}\n`);
    return 0;
  }
  process.stdout.write(
    'keys/s: read = reserveRead+finishRead, write = reserveWrite+finishWrite+delete; ' +
      'threads 2 = two workers on the same L1 (sum); baseline = JS Map bookkeeping, one thread\n\n',
  );
  process.stdout.write(formatTable(
    ['op', 'batch', 'threads', 'L1 keys/s', 'Map keys/s', 'L1/Map'],
    rows.map((r) => [r.op, r.batch, r.threads, r.keysPerSec, r.baselineKeysPerSec, (r.keysPerSec / r.baselineKeysPerSec).toFixed(2)]),
  ));
  return 0;
}

export const command: BenchCommand = {
  summary: 'L1 key operations per second (1 and 2 threads) vs a Map-based baseline',
  usage: USAGE,
  run,
  suiteArgs: [],
};

/**
 * `kvtier-bench l1`: key operations per second of the shared-memory L1 (`L1Manager`, the real
 * class), one thread and two worker threads on the same L1 at once, next to two plain JS Map-based
 * implementations of the same bookkeeping measured single-threaded in the same run: one keyed by
 * the digest as a string (exact), one keyed by a number (a lower bound: the cheapest Map key).
 *
 * Ops: `read` = reserveRead + finishRead of a batch of ready keys; `write` = reserveWrite +
 * finishWrite + delete of a batch of fresh keys. A key counts once per op round trip. Every run of
 * a cell does the same number of keys; the runs take turns over `--reps` repetitions
 * (`timeInTurns`), and each figure is their spread, each ratio taken per repetition (`paired`).
 * Reads answer into result arrays allocated once per batch, in L1 and in the baselines alike.
 *
 * Two threads can at best double one thread's rate, and a shared machine gives less: the same
 * worker threads also run the number-keyed Map baseline, each on a Map of its own (work that shares
 * nothing), one worker alone and both at once, in the same turns. That private work's 2-thread
 * rate over its 1-thread rate is what this machine's two threads can scale at all, measured beside
 * L1's; on the 2-vCPU machine this was built on, two threads of private work ran at 1.1–1.85× one.
 */
import { randomFillSync } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { L1Error, type DigestBatch, type L1SlotResult } from '@kvtier/core';
import { L1Manager, type L1Handle } from '@kvtier/core/testing';
import { numberList, parseFlags, UsageError } from '../args.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { paired, spreadOf, timeInTurns, type Spread } from '../spread.ts';
import { formatTable } from '../table.ts';

const OPS = ['read', 'write'] as const;
type Op = (typeof OPS)[number];
const DEFAULT_BATCHES = [1, 16, 256];
const DEFAULT_THREADS = [1, 2];
const DEFAULT_MS = 400;
const DEFAULT_REPS = 3;
/** Ready keys the read op cycles through. */
const READ_KEYS = 4096;
/** Fresh keys per writer thread (cycled: each round trip deletes what it wrote). */
const WRITE_KEYS = 4096;
const SLOT_BYTES = 4096;
const OBJECT_BYTES = 1000;

const USAGE = `usage: kvtier-bench l1 [--batches N,...] [--threads N,...] [--ms N] [--reps N] [--json]

Keys/s of L1 operations on one shared L1 (4 KiB slots, ${READ_KEYS} ready keys): op read =
reserveRead + finishRead, op write = reserveWrite + finishWrite + delete, per batch size; with
2 threads, two worker threads run the op on the same L1 at once, each doing half the keys, timed
until both are done. Baselines, single-threaded, in the same run: a plain JS Map (key -> {slot,
size, readLocks, writeLocked}, free-slot stack) doing the same bookkeeping, keyed by the digest as
an 8-char string (Map) or by 31 bits of it as a number (number Map: no collision check, a lower
bound). The machine's own scaling, for 2-thread rows: the same workers run the number Map, each
on a Map of its own (nothing shared), both at once against one alone. Every figure is
median (min–max) over the repetitions; ratios are per repetition.
  --batches LIST   keys per call, default ${DEFAULT_BATCHES.join(',')}
  --threads LIST   1 and/or 2, default ${DEFAULT_THREADS.join(',')}
  --ms N           about how long one run of a cell takes (1 thread), in ms, default ${DEFAULT_MS}
  --reps N         repetitions (at least 3), default ${DEFAULT_REPS}
  --json           print {"rows":[{"op":"read","batch":256,"threads":1,"keysPerSec":N,"baselineKeysPerSec":N,
                   "numberMapKeysPerSec":N,"spread":{"keysPerSec":{"min":N,"median":N,"max":N},...}},...]}
                   (2-thread rows: also "privateScaling":x, the private work's 2-thread/1-thread rate, and
                   "vsPrivateScaling":x, L1's 2-thread/1-thread rate over it, with their spreads)`;

/** One result row: each figure its median, with its spread under `spread`. */
interface Row {
  op: Op;
  batch: number;
  threads: number;
  keysPerSec: number;
  baselineKeysPerSec: number;
  numberMapKeysPerSec: number;
  /** 2-thread rows: two threads of private number-Map work against one, this run (the machine's scaling). */
  privateScaling?: number;
  /** 2-thread rows: L1's 2-thread/1-thread rate over {@link privateScaling}, per repetition. */
  vsPrivateScaling?: number;
  spread: {
    keysPerSec: Spread;
    baselineKeysPerSec: Spread;
    numberMapKeysPerSec: Spread;
    /** L1 against each baseline, per repetition; 2-thread rows also against the 1-thread run. */
    vsMap: Spread;
    vsNumberMap: Spread;
    vsOneThread?: Spread;
    privateScaling?: Spread;
    vsPrivateScaling?: Spread;
  };
}

/** The operations both implementations offer; each call handles one batch, answering into `into` where given. */
interface Bookkeeping {
  reserveRead(keys: DigestBatch, opts: { into: L1SlotResult }): unknown;
  finishRead(keys: DigestBatch, opts: { into: Uint8Array }): unknown;
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

/** How a baseline turns key `j` of a batch into a Map key. */
type MapKeyOf<K> = (keys: DigestBatch, j: number) => K;

/** The digest as an 8-character string: the cheapest exact Map key for 128 bits. */
function stringKey(keys: DigestBatch, j: number): string {
  const a = keys[j * 4], b = keys[j * 4 + 1], c = keys[j * 4 + 2], d = keys[j * 4 + 3];
  return String.fromCharCode(a & 0xffff, a >>> 16, b & 0xffff, b >>> 16, c & 0xffff, c >>> 16, d & 0xffff, d >>> 16);
}

/** 31 bits of the digest as a small integer: the cheapest Map key there is, not an exact one. */
function numberKey(keys: DigestBatch, j: number): number {
  return keys[j * 4] >>> 1;
}

/** The baselines: the same per-key bookkeeping and per-key answers in typed arrays, over a JS Map. */
class MapBookkeeping<K> implements Bookkeeping {
  readonly #map = new Map<K, MapRecord>();
  readonly #free: number[];
  readonly #keyOf: MapKeyOf<K>;

  constructor(slots: number, keyOf: MapKeyOf<K>) {
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    this.#keyOf = keyOf;
  }

  reserveRead(keys: DigestBatch, opts?: { into: L1SlotResult }) {
    const n = keys.length >>> 2;
    const out = opts?.into ?? { codes: new Uint8Array(n), slots: new Int32Array(n), sizes: new Uint32Array(n) };
    const { codes, slots, sizes } = out;
    for (let j = 0; j < n; j++) {
      const r = this.#map.get(this.#keyOf(keys, j));
      if (r === undefined) { codes[j] = L1Error.KEY_NOT_EXIST; slots[j] = -1; sizes[j] = 0; continue; }
      if (r.writeLocked) { codes[j] = L1Error.KEY_NOT_READABLE; slots[j] = -1; sizes[j] = 0; continue; }
      r.readLocks++;
      codes[j] = 0;
      slots[j] = r.slot;
      sizes[j] = r.size;
    }
    return out;
  }

  finishRead(keys: DigestBatch, opts?: { into: Uint8Array }) {
    const n = keys.length >>> 2;
    const codes = opts?.into ?? new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const r = this.#map.get(this.#keyOf(keys, j));
      if (r === undefined) codes[j] = L1Error.KEY_NOT_EXIST;
      else if (r.writeLocked || r.readLocks === 0) codes[j] = L1Error.KEY_IN_WRONG_STATE;
      else { r.readLocks--; codes[j] = 0; }
    }
    return codes;
  }

  reserveWrite(keys: DigestBatch, size: number) {
    const n = keys.length >>> 2;
    const codes = new Uint8Array(n), slots = new Int32Array(n), sizes = new Uint32Array(n);
    for (let j = 0; j < n; j++) {
      const key = this.#keyOf(keys, j);
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
      const r = this.#map.get(this.#keyOf(keys, j));
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
      const key = this.#keyOf(keys, j);
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

/** Result arrays for batches of `batch` keys, allocated once per run and reused by every call. */
function answersOf(batch: number): { slots: L1SlotResult; codes: Uint8Array } {
  return { slots: { codes: new Uint8Array(batch), slots: new Int32Array(batch), sizes: new Uint32Array(batch) }, codes: new Uint8Array(batch) };
}

/** Runs `op` over `keys` in batches of `batch`, cycling, until `count` keys are done. */
function runKeys(impl: Bookkeeping, op: Op, keys: DigestBatch, batch: number, count: number): void {
  const batches = batchesOf(keys, batch);
  const into = answersOf(batch);
  for (let done = 0, i = 0; done < count; done += batch, i = (i + 1) % batches.length) {
    const b = batches[i];
    if (op === 'read') {
      impl.reserveRead(b, { into: into.slots });
      impl.finishRead(b, { into: into.codes });
    } else {
      impl.reserveWrite(b, OBJECT_BYTES);
      impl.finishWrite(b);
      impl.delete(b);
    }
  }
}

/** Keys `impl` does in about `ms` (the size of one run of a cell), a multiple of 2 × `batch`. */
function keysInMs(impl: Bookkeeping, op: Op, keys: DigestBatch, batch: number, ms: number): number {
  const probe = Math.max(2 * batch, 4096);
  const started = performance.now();
  let done = 0;
  while (performance.now() - started < ms / 4) {
    runKeys(impl, op, keys, batch, probe);
    done += probe;
  }
  const perMs = done / (performance.now() - started);
  return Math.max(1, Math.round((perMs * ms) / (2 * batch))) * 2 * batch;
}

/** Ready keys for the read op, written into `l1`. */
function prefill(l1: L1Manager, keys: DigestBatch): void {
  const w = l1.reserveWrite(keys, OBJECT_BYTES);
  const f = l1.finishWrite(keys);
  if (w.codes.some((c) => c !== 0) || f.some((c) => c !== 0)) throw new Error('l1 bench: prefill failed');
}

/**
 * What the main thread posts to a bench worker per run: it answers once its keys are done, on the
 * shared L1 or, `private`, on a number-keyed Map of its own.
 */
interface RunTask { op: Op; batch: number; count: number; private?: boolean }
interface WorkerData { l1BenchHandle: L1Handle; readKeys: DigestBatch; writeKeys: DigestBatch; slots: number }

/** A baseline ready for `op`: for reads, `readKeys` written into it first. */
function baselineFor<K>(op: Op, slots: number, keyOf: MapKeyOf<K>, readKeys: DigestBatch): MapBookkeeping<K> {
  const b = new MapBookkeeping(slots, keyOf);
  if (op === 'read') {
    b.reserveWrite(readKeys, OBJECT_BYTES);
    b.finishWrite(readKeys);
  }
  return b;
}

/** Body of a bench worker: attaches to the L1 and runs each task it is sent. */
function serveWorker(data: WorkerData): void {
  const l1 = L1Manager.attach(data.l1BenchHandle);
  const own = { read: baselineFor('read', data.slots, numberKey, data.readKeys), write: baselineFor('write', data.slots, numberKey, data.readKeys) };
  parentPort!.on('message', (task: RunTask) => {
    runKeys(task.private === true ? own[task.op] : l1, task.op, task.op === 'read' ? data.readKeys : data.writeKeys, task.batch, task.count);
    parentPort!.postMessage(true);
  });
}

if (!isMainThread && (workerData as Partial<WorkerData> | null)?.l1BenchHandle) serveWorker(workerData as WorkerData);

/** Two worker threads on one L1, each with its own fresh keys for writes; the read keys are shared. */
class WorkerPair {
  readonly #workers: Worker[];

  constructor(handle: L1Handle, readKeys: DigestBatch, slots: number) {
    // Workers get no tsx hooks from this thread: register tsx first, then load this module.
    const boot = `const { workerData } = require('node:worker_threads');
      import(workerData.tsxApi).then((m) => { m.register(); return import(workerData.self); });`;
    const tsxApi = import.meta.resolve('tsx/esm/api');
    this.#workers = [0, 1].map(() => new Worker(boot, {
      eval: true,
      workerData: { tsxApi, self: import.meta.url, l1BenchHandle: handle, readKeys, writeKeys: randomKeys(WRITE_KEYS), slots },
    }));
  }

  /** Runs `task` on the first `workers` workers at once (both by default); resolves when they are done. */
  async run(task: RunTask, workers = 2): Promise<void> {
    await Promise.all(this.#workers.slice(0, workers).map((w) => new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      w.once('error', onError);
      w.once('message', () => { w.off('error', onError); resolve(); });
      w.postMessage(task);
    })));
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** The rows of one cell (op, batch): every run does `count` keys, the runs taking turns over `reps` repetitions. */
async function measureCell(l1: L1Manager, pair: WorkerPair | undefined, op: Op, batch: number, threads: number[], reps: number, ms: number,
  readKeys: DigestBatch, writeKeys: DigestBatch, slots: number): Promise<Row[]> {
  const keys = op === 'read' ? readKeys : writeKeys;
  const baselines = [baselineFor(op, slots, stringKey, readKeys), baselineFor(op, slots, numberKey, readKeys)];
  const count = keysInMs(l1, op, keys, batch, ms);
  const runs: (() => unknown)[] = baselines.map((b) => () => runKeys(b, op, keys, batch, count));
  if (threads.includes(1)) runs.push(() => runKeys(l1, op, keys, batch, count));
  if (threads.includes(2)) {
    runs.push(() => pair!.run({ op, batch, count, private: true }, 1));
    runs.push(() => pair!.run({ op, batch, count: count / 2, private: true }));
    runs.push(() => pair!.run({ op, batch, count: count / 2 }));
  }
  const rates = (await timeInTurns(reps, runs)).map((secs) => secs.map((s) => count / s));
  const [map, numberMap] = rates;
  const oneThread = threads.includes(1) ? rates[2] : undefined;
  const ratio = (a: number, b: number) => a / b;
  // The machine's scaling: two workers' private number-Map work against one worker's, each worker's
  // own Map (the main thread's runs of the baselines are compiled for several key types, slower).
  const privateScaling = threads.includes(2) ? paired(rates[rates.length - 2], rates[rates.length - 3], ratio) : undefined;
  return threads.map((t) => {
    const l1Rates = t === 1 ? oneThread! : rates[rates.length - 1];
    const vsOne = t === 2 && oneThread !== undefined ? paired(l1Rates, oneThread, ratio) : undefined;
    const spread = {
      keysPerSec: spreadOf(l1Rates),
      baselineKeysPerSec: spreadOf(map),
      numberMapKeysPerSec: spreadOf(numberMap),
      vsMap: spreadOf(paired(l1Rates, map, ratio)),
      vsNumberMap: spreadOf(paired(l1Rates, numberMap, ratio)),
      ...(vsOne !== undefined ? { vsOneThread: spreadOf(vsOne) } : {}),
      ...(t === 2 && privateScaling !== undefined ? { privateScaling: spreadOf(privateScaling) } : {}),
      ...(vsOne !== undefined && privateScaling !== undefined ? { vsPrivateScaling: spreadOf(paired(vsOne, privateScaling, ratio)) } : {}),
    };
    return {
      op, batch, threads: t,
      keysPerSec: Math.round(spread.keysPerSec.median),
      baselineKeysPerSec: Math.round(spread.baselineKeysPerSec.median),
      numberMapKeysPerSec: Math.round(spread.numberMapKeysPerSec.median),
      ...(spread.privateScaling !== undefined ? { privateScaling: spread.privateScaling.median } : {}),
      ...(spread.vsPrivateScaling !== undefined ? { vsPrivateScaling: spread.vsPrivateScaling.median } : {}),
      spread,
    };
  });
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, ['batches', 'threads', 'ms', 'reps', 'json']);
  const batches = numberList(flags.batches, 'batches', DEFAULT_BATCHES);
  const threads = numberList(flags.threads, 'threads', DEFAULT_THREADS);
  const [ms] = numberList(flags.ms, 'ms', [DEFAULT_MS]);
  const [reps] = numberList(flags.reps, 'reps', [DEFAULT_REPS]);
  const json = flags.json === true;
  if (!batches.every((b) => Number.isInteger(b) && b >= 1 && b <= READ_KEYS)) throw new UsageError(`--batches: integers in [1, ${READ_KEYS}]`);
  if (!threads.every((t) => t === 1 || t === 2)) throw new UsageError('--threads: 1 and/or 2');
  if (!(ms > 0)) throw new UsageError('--ms: a positive number');
  if (!Number.isInteger(reps) || reps < 3) throw new UsageError('--reps: an integer, at least 3 (a spread needs them)');

  const slots = READ_KEYS + 3 * WRITE_KEYS;
  const l1 = L1Manager.create({ slotBytes: SLOT_BYTES, slotCount: slots });
  const readKeys = randomKeys(READ_KEYS);
  const writeKeys = randomKeys(WRITE_KEYS);
  prefill(l1, readKeys);
  const pair = threads.includes(2) ? new WorkerPair(l1.handle, readKeys, slots) : undefined;
  const rows: Row[] = [];
  try {
    for (const op of OPS) {
      for (const batch of batches) rows.push(...await measureCell(l1, pair, op, batch, threads, reps, ms, readKeys, writeKeys, slots));
    }
  } finally {
    await pair?.close();
  }
  l1.checkInvariants();
  const read2 = rows.find((r) => r.op === 'read' && r.threads === 2 && r.spread.vsOneThread !== undefined && r.batch === Math.max(...batches));
  const millions = (x: Spread) => ({ min: x.min / 1e6, median: x.median / 1e6, max: x.max / 1e6 });
  await saveChart('l1', {
    title: 'L1 key operations per second vs Map baselines',
    ...(read2 ? { headline: `reads ×${read2.batch}: 2 threads ${read2.spread.vsOneThread!.median.toFixed(2)}× 1 thread` } : {}),
    kind: 'bar',
    x: rows.map((r) => `${r.op} ×${r.batch} ${r.threads}t`),
    xLabel: 'op, batch size, threads',
    yLabel: 'M keys/s',
    series: [
      { name: 'L1 (shared memory)', values: rows.map((r) => r.keysPerSec / 1e6), spreads: rows.map((r) => millions(r.spread.keysPerSec)) },
      { name: 'Map baseline (string keys)', values: rows.map((r) => r.baselineKeysPerSec / 1e6), spreads: rows.map((r) => millions(r.spread.baselineKeysPerSec)) },
      { name: 'Map baseline (number keys)', values: rows.map((r) => r.numberMapKeysPerSec / 1e6), spreads: rows.map((r) => millions(r.spread.numberMapKeysPerSec)) },
    ],
  });

  if (json) {
    process.stdout.write(`${JSON.stringify({ rows })}\n`);
    return 0;
  }
  process.stdout.write(
    'keys/s: read = reserveRead+finishRead, write = reserveWrite+finishWrite+delete; ' +
      `threads 2 = two workers on the same L1, half the keys each; baselines = JS Map bookkeeping, one thread; ` +
      `machine 2t/1t = two workers on private number Maps against one such worker (what two threads scale here at all); median (min–max) of ${reps} repetitions\n\n`,
  );
  process.stdout.write(formatTable(
    ['op', 'batch', 'threads', 'L1 keys/s', 'Map keys/s', 'number Map keys/s', 'L1/Map', 'L1/number Map', 'vs 1 thread', 'machine 2t/1t', 'vs machine'],
    rows.map((r) => [r.op, r.batch, r.threads, r.spread.keysPerSec, r.spread.baselineKeysPerSec, r.spread.numberMapKeysPerSec,
      r.spread.vsMap, r.spread.vsNumberMap, r.spread.vsOneThread ?? '-', r.spread.privateScaling ?? '-', r.spread.vsPrivateScaling ?? '-']),
  ));
  return 0;
}

export const command: BenchCommand = {
  summary: 'L1 key operations per second (1 and 2 threads) vs Map-based baselines (string and number keys)',
  usage: USAGE,
  run,
  suiteArgs: [],
};

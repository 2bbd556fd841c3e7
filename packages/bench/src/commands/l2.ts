/**
 * `kvtier-bench l2`: store and load throughput of an L2 adapter through the engine, integrity
 * envelope included, next to plain `fs.promises` on the same bytes in the same run.
 *
 * Two engine paths:
 * - `cache` (default): the whole engine through the `KvCache` facade. Store = `finishWrite` of
 *   objects already in L1 until the store worker has put them in L2 (no longer dirty or
 *   read-locked); load = `submitPrefetch` of objects that are only in L2 until `waitPrefetch`.
 * - `host`: the adapter host alone, in its own worker over comlink, reading and writing L1 slots
 *   (the data path of the engine without the controllers' decisions).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvCache, L1Error, digestHex, type DigestBatch, type AdapterConfig } from '@kvtier/core';
import { AdapterHostThread, adapterModuleUrl, registeredAdapterTypes } from '@kvtier/core/authoring';
import { L1Manager, adapterHosts } from '@kvtier/core/testing';
import '@kvtier/adapters';
import { numberList, oneOf, parseFlags, positiveInteger } from '../args.ts';
import { benchKeys } from '../keys.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { formatTable } from '../table.ts';

const ADAPTERS = ['fs', 'mock'] as const;
const PATHS = ['cache', 'host'] as const;
const MIB = 1024 * 1024;
const DEFAULT_SIZES_MIB = [1, 4];
const DEFAULT_ROW_MIB = 128;
const DEFAULT_BATCH = 8;
const DEFAULT_ROUNDS = 3;
const SETTLE_TIMEOUT_MS = 60_000;

const USAGE = `usage: kvtier-bench l2 [--adapter fs|mock] [--path cache|host] [--sizes MIB,...] [--row-mib N] [--batch N] [--rounds N] [--json]

Store and load GB/s of one adapter through the engine (integrity envelope included) next to plain
fs.promises writeFile/readFile of the same bytes, in a temp dir under ${tmpdir()} (removed
afterwards). Each round stores new objects (the previous round's are deleted first, untimed),
then loads them (page cache warm). The best round counts.
  --adapter NAME   fs (default) or mock (in memory)
  --path NAME      cache (default): KvCache facade, store worker and prefetch worker included;
                   host: the adapter host in its worker, driven directly over comlink
  --sizes LIST     object sizes in MiB, default ${DEFAULT_SIZES_MIB.join(',')}
  --row-mib N      bytes moved per row and round, default ${DEFAULT_ROW_MIB} MiB
  --batch N        objects per engine call (the baseline runs as many at once), default ${DEFAULT_BATCH}
  --rounds N       rounds per row, default ${DEFAULT_ROUNDS}
  --json           print {"rows":[{"op":"store"|"load","objectBytes":N,"engineGBps":x,"baselineGBps":x},...]}`;

/** One result row. */
interface Row {
  op: 'store' | 'load';
  objectBytes: number;
  engineGBps: number;
  baselineGBps: number;
}

/** What a row needs from an engine path; batches are `[from, to)` of the row's objects. */
interface EnginePath {
  /** Makes every object present in L1 and absent from L2 again (untimed). */
  reset(): Promise<void>;
  /** Stores a batch from L1 to L2 (timed). */
  store(from: number, to: number): Promise<void>;
  /** Makes L2 the only copy (untimed). */
  prepareLoad(): Promise<void>;
  /** Loads a batch from L2 into L1 and checks the bytes (timed, apart from the check). */
  load(from: number, to: number): Promise<void>;
  close(): Promise<void>;
}

/** Object `i`'s bytes: one marker byte per 4 KiB page, enough to catch a misplaced page. */
function fillObject(view: Uint8Array, i: number): void {
  for (let j = 0; j < view.length; j += 4096) view[j] = (i + j / 4096) & 0xff;
}

function checkObject(view: Uint8Array, i: number): void {
  for (let j = 0; j < view.length; j += 4096) {
    if (view[j] !== ((i + j / 4096) & 0xff)) throw new Error(`object ${i} came back different at byte ${j}`);
  }
}

function assertAll(codes: Uint8Array, what: string): void {
  const bad = codes.findIndex((c) => c !== L1Error.SUCCESS);
  if (bad !== -1) throw new Error(`${what} failed for object ${bad} with L1 code ${codes[bad]}`);
}

function sub(keys: DigestBatch, from: number, to: number): DigestBatch {
  return keys.subarray(from * 4, to * 4);
}

/** The whole engine: KvCache with one adapter; its store and prefetch workers move the bytes. */
async function cachePath(config: AdapterConfig, keys: DigestBatch, count: number, objectBytes: number): Promise<EnginePath> {
  // Twice the row, so L1 stays under its eviction watermark and nothing is evicted mid-row.
  const cache = await KvCache.open({ l1: { slotBytes: objectBytes, slotCount: 2 * count }, adapters: [config] });
  const l1 = cache.l1;
  return {
    async reset() {
      await adapterHosts(cache)[0].delete(keys);
      const r = cache.reserveWrite(keys, objectBytes);
      assertAll(r.codes, 'reserveWrite');
      r.slots.forEach((slot, i) => fillObject(cache.view(slot, objectBytes), i));
    },
    async store(from, to) {
      const batch = sub(keys, from, to);
      assertAll(cache.finishWrite(batch), 'finishWrite');
      await cache.flush({ timeoutMs: SETTLE_TIMEOUT_MS });
    },
    async prepareLoad() {
      cache.clear();
      if (l1.usage().objects !== 0) throw new Error('every object should leave L1 before the loads');
    },
    async load(from, to) {
      const batch = sub(keys, from, to);
      const loaded = await cache.waitPrefetch(cache.submitPrefetch(batch), { timeoutMs: SETTLE_TIMEOUT_MS });
      if (loaded !== to - from) throw new Error(`prefetch loaded ${loaded} of ${to - from} objects`);
      const views = cache.readPrefetched(batch);
      if (views === null) throw new Error('prefetched objects are not readable');
      views.forEach((v, j) => checkObject(v, from + j));
      cache.finishReadPrefetched(batch);
    },
    close: () => cache.close(),
  };
}

/** The adapter host alone, in its worker; sources and load targets are separate L1 slots. */
async function hostPath(config: AdapterConfig, keys: DigestBatch, count: number, objectBytes: number): Promise<EnginePath> {
  const l1 = L1Manager.create({ slotBytes: objectBytes, slotCount: 2 * count });
  const host = await AdapterHostThread.start({
    l1Handle: l1.handle, adapterIndex: 0, config, moduleUrl: adapterModuleUrl(config.type), adapterTypes: registeredAdapterTypes(),
  });
  const source = l1.reserveWrite(keys, objectBytes);
  const target = l1.reserveWrite(benchKeys('bench-l2', 2 * count).subarray(4 * count), objectBytes, { temporary: true });
  assertAll(source.codes, 'reserveWrite');
  assertAll(target.codes, 'reserveWrite');
  source.slots.forEach((slot, i) => fillObject(l1.view(slot, objectBytes), i));
  assertAll(l1.finishWrite(keys), 'finishWrite');
  const sizes = new Uint32Array(count).fill(objectBytes);
  return {
    async reset() {
      await host.api.delete(keys);
    },
    async store(from, to) {
      const ok = await host.api.store(sub(keys, from, to), source.slots.subarray(from, to), sizes.subarray(from, to));
      if (!ok.every((b) => b === 1)) throw new Error(`the ${config.type} adapter did not store every object`);
    },
    async prepareLoad() {
      for (const slot of target.slots) l1.view(slot, objectBytes).fill(0);
    },
    async load(from, to) {
      await host.api.load(sub(keys, from, to), target.slots.subarray(from, to), sizes.subarray(from, to));
      for (let i = from; i < to; i++) checkObject(l1.view(target.slots[i], objectBytes), i);
    },
    async close() {
      await host.close();
      l1.detach();
    },
  };
}

/** Seconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1e3;
}

/** Runs `fn` on consecutive batches of `[0, n)`, one batch at a time. */
async function inBatches(n: number, batch: number, fn: (from: number, to: number) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < n; from += batch) await fn(from, Math.min(n, from + batch));
}

interface RowOptions {
  readonly adapter: (typeof ADAPTERS)[number];
  readonly path: (typeof PATHS)[number];
  readonly dir: string;
  readonly objectBytes: number;
  readonly rowBytes: number;
  readonly batch: number;
  readonly rounds: number;
}

/** Measures one object size: the best of the rounds for each of the four paths. */
async function measureSize(o: RowOptions): Promise<Row[]> {
  const count = Math.max(o.batch, Math.floor(o.rowBytes / o.objectBytes));
  const keys = benchKeys('bench-l2', count);
  const storeDir = join(o.dir, `engine-${o.objectBytes}`);
  const baseDir = join(o.dir, `baseline-${o.objectBytes}`);
  await mkdir(baseDir, { recursive: true });
  const config: AdapterConfig = o.adapter === 'fs' ? { type: 'fs', baseDir: storeDir } : { type: 'mock' };
  const engine = await (o.path === 'cache' ? cachePath : hostPath)(config, keys, count, o.objectBytes);
  const bytes = Array.from({ length: count }, (_, i) => {
    const b = new Uint8Array(o.objectBytes);
    fillObject(b, i);
    return b;
  });
  const path = (i: number) => join(baseDir, digestHex(keys, i));
  const baselineBatch = (from: number, to: number, fn: (i: number) => Promise<unknown>) => Promise.all(Array.from({ length: to - from }, (_, j) => fn(from + j)));
  const best = { engineStore: Infinity, baselineStore: Infinity, engineLoad: Infinity, baselineLoad: Infinity };
  try {
    for (let round = 0; round < o.rounds; round++) {
      await engine.reset();
      await Promise.all(bytes.map((_, i) => rm(path(i), { force: true })));
      best.engineStore = Math.min(best.engineStore, await timed(() => inBatches(count, o.batch, engine.store)));
      best.baselineStore = Math.min(best.baselineStore, await timed(() => inBatches(count, o.batch, (from, to) => baselineBatch(from, to, (i) => writeFile(path(i), bytes[i])))));
      await engine.prepareLoad();
      best.engineLoad = Math.min(best.engineLoad, await timed(() => inBatches(count, o.batch, engine.load)));
      best.baselineLoad = Math.min(best.baselineLoad, await timed(() => inBatches(count, o.batch, (from, to) => baselineBatch(from, to, (i) => readFile(path(i))))));
    }
  } finally {
    await engine.close();
    await rm(storeDir, { recursive: true, force: true });
    await rm(baseDir, { recursive: true, force: true });
  }
  const gbps = (seconds: number) => (count * o.objectBytes) / seconds / 1e9;
  return [
    { op: 'store', objectBytes: o.objectBytes, engineGBps: gbps(best.engineStore), baselineGBps: gbps(best.baselineStore) },
    { op: 'load', objectBytes: o.objectBytes, engineGBps: gbps(best.engineLoad), baselineGBps: gbps(best.baselineLoad) },
  ];
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, ['adapter', 'path', 'sizes', 'row-mib', 'batch', 'rounds', 'json']);
  const adapter = oneOf(flags.adapter, 'adapter', ADAPTERS);
  const path = oneOf(flags.path, 'path', PATHS);
  const sizes = numberList(flags.sizes, 'sizes', DEFAULT_SIZES_MIB).map((mib) => Math.round(mib * MIB));
  const rowBytes = positiveInteger(flags['row-mib'], 'row-mib', DEFAULT_ROW_MIB) * MIB;
  const batch = positiveInteger(flags.batch, 'batch', DEFAULT_BATCH);
  const rounds = positiveInteger(flags.rounds, 'rounds', DEFAULT_ROUNDS);

  const dir = await mkdtemp(join(tmpdir(), 'kvtier-bench-l2-'));
  const rows: Row[] = [];
  try {
    for (const objectBytes of sizes) rows.push(...(await measureSize({ adapter, path, dir, objectBytes, rowBytes, batch, rounds })));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  saveChart('l2', {
    title: `L2 ${adapter} through the engine vs plain fs.promises`,
    kind: 'bar',
    x: rows.map((r) => `${r.op} ${r.objectBytes / MIB} MiB`),
    xLabel: 'operation, object size',
    yLabel: 'GB/s',
    series: [
      { name: `engine (${path})`, values: rows.map((r) => r.engineGBps) },
      { name: 'fs.promises', values: rows.map((r) => r.baselineGBps) },
    ],
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ rows })}\n`);
    return 0;
  }
  const via = path === 'cache' ? 'KvCache (store and prefetch workers)' : 'adapter host worker over comlink';
  process.stdout.write(`adapter ${adapter} through ${via}, envelope included, vs plain fs.promises; batches of ${batch}\n`);
  process.stdout.write(formatTable(
    ['op', 'object', 'engine GB/s', 'fs.promises GB/s', 'ratio'],
    rows.map((r) => [r.op, `${r.objectBytes / MIB} MiB`, r.engineGBps, r.baselineGBps, r.engineGBps / r.baselineGBps]),
  ));
  return 0;
}

/** The `l2` command. */
export const command: BenchCommand = {
  summary: 'L2 adapter store/load GB/s through the engine vs plain fs.promises',
  usage: USAGE,
  run,
  suiteArgs: ['--adapter', 'fs'],
};

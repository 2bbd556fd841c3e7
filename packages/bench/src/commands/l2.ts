/**
 * `kvtier-bench l2`: store and load throughput of an L2 adapter through the engine, integrity
 * envelope included, next to a baseline on the same bytes in the same run: plain `fs.promises`
 * for `fs` and `mock`, plain pipelined RESP over one socket per server for `redis` and
 * `redis-cluster` (which start their own servers unless pointed at some), plus the latency of a
 * 256-key lookup through the adapter host for those.
 *
 * Two engine paths:
 * - `cache` (default): the whole engine through the `KvCache` facade. Store = `finishWrite` of
 *   objects already in L1 until the store worker has put them in L2 (no longer dirty or
 *   read-locked); load = `submitPrefetch` of objects that are only in L2 until `waitPrefetch`.
 * - `host`: the adapter host alone, in its own worker over comlink, reading and writing L1 slots
 *   (the data path of the engine without the controllers' decisions).
 *
 * For `fs` also the limits (fs-limit.ts): the adapter I/O threads' store and load work alone, no
 * engine and no adapter, in the same run, so a gap splits into the tag's (limit against `writeFile`,
 * or against reads into preallocated buffers for loads) and the orchestration's (engine against limit).
 */
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvCache, L1Error, digestHex, type DigestBatch, type AdapterConfig } from '@kvtier/core';
import { AdapterHostThread, Bitmap, adapterModuleUrl, registeredAdapterTypes } from '@kvtier/core/authoring';
import { L1Manager, adapterHosts, newPinOwner } from '@kvtier/core/testing';
import { DEFAULT_IO_THREADS } from '@kvtier/adapters';
import { numberList, oneOf, parseFlags, positiveInteger, UsageError } from '../args.ts';
import { benchKeys } from '../keys.ts';
import type { BenchCommand } from '../command.ts';
import { RespBaseline, type Address } from '../resp-baseline.ts';
import { FsLimit } from '../fs-limit.ts';
import { saveChart } from '../results.ts';
import { quantile } from '../serve/stats.ts';
import { paired, spreadOf, type Spread } from '../spread.ts';
import { formatNumber, formatTable } from '../table.ts';
import { startCluster, startSingle, stopAll } from '../../../../scripts/redis-servers.mjs';

const ADAPTERS = ['fs', 'mock', 'redis', 'redis-cluster'] as const;
type AdapterName = (typeof ADAPTERS)[number];
const PATHS = ['cache', 'host'] as const;
const MIB = 1024 * 1024;
const DEFAULT_SIZES_MIB = [1, 4];
const DEFAULT_ROW_MIB = 128;
const DEFAULT_BATCH = 8;
const DEFAULT_ROUNDS = 3;
/** Fewest rounds: every figure is a spread over them. */
const MIN_ROUNDS = 3;
const SETTLE_TIMEOUT_MS = 60_000;
const LOOKUP_KEYS = 256;
const LOOKUP_RUNS = 100;
/** Objects of the lookup measurement: small, as only their number matters. */
const LOOKUP_OBJECT_BYTES = 16 * 1024;
const REDIS_PREFIX = 'kvtier-bench-l2:';
const USAGE = `usage: kvtier-bench l2 [--adapter fs|mock|redis|redis-cluster] [--url URL] [--cluster URL,...] [--path cache|host] [--sizes MIB,...] [--row-mib N] [--batch N] [--rounds N] [--io-threads N] [--json]

Store and load GB/s of one adapter through the engine (integrity envelope included) next to a
baseline of the same bytes: plain fs.promises writeFile/readFile in a temp dir under ${tmpdir()}
(removed afterwards) for fs and mock, and for loads also reads into preallocated buffers (open,
read, close: the fair baseline, no allocation per object); SET and GET pipelined over one plain
RESP socket per server for redis and redis-cluster. For fs also the limits: as many threads as the
adapter's I/O threads, that each tag and write their objects from shared memory as the adapter's
I/O threads do (temp file O_EXCL|O_NOFOLLOW, writev, close, rename), and load them back (open,
readv into shared memory, close, envelope check of every byte), no engine, no adapter; the store
limit against writeFile, the load limit against reads into preallocated buffers. Each round stores
new objects (the previous round's are deleted first, untimed), then loads them (page cache warm); engine, baselines
and limit take turns within a round, after one untimed warm-up round. Every figure is median (min–max) over the rounds, ratios taken per round.
For redis and redis-cluster also the p50/p99 latency of a ${LOOKUP_KEYS}-key lookup through the
adapter host (${LOOKUP_RUNS} lookups a round).
  --adapter NAME   fs (default), mock (in memory), redis (one server), redis-cluster (3 masters)
  --url URL        redis: the server to use (its keys under ${REDIS_PREFIX} are deleted);
                   default: a server started for the run on a free port, stopped after
  --cluster LIST   redis-cluster: seed URLs; default: a 3-master cluster started for the run
  --path NAME      cache (default): KvCache facade, store worker and prefetch worker included;
                   host: the adapter host in its worker, driven directly over comlink
  --sizes LIST     object sizes in MiB, default ${DEFAULT_SIZES_MIB.join(',')}
  --row-mib N      bytes moved per row and round, default ${DEFAULT_ROW_MIB} MiB
  --batch N        objects per engine call (the baseline runs as many at once), default ${DEFAULT_BATCH}
  --rounds N       rounds per row, at least ${MIN_ROUNDS}, default ${DEFAULT_ROUNDS}
  --io-threads N   fs: the adapter's ioThreads and the limits' threads, default ${DEFAULT_IO_THREADS}
  --json           print {"rows":[{"adapter":NAME,"op":"store"|"load","objectBytes":N,"engineGBps":x,"baselineGBps":x,"ratio":x,
                   "preallocBaselineGBps":x,"preallocRatio":x (fs and mock loads),
                   "limitGBps":x,"limitRatio":x (fs),"spread":{FIELD:{"min":x,"median":x,"max":x},...}},...]}
                   (redis: also {"adapter":NAME,"op":"lookup","keys":${LOOKUP_KEYS},"p50Ms":x,"p99Ms":x,"spread":{...}});
                   each figure is the median of its spread`;

/** One result row: each figure the median of its spread over the rounds. */
interface Row {
  adapter: AdapterName;
  op: 'store' | 'load';
  objectBytes: number;
  engineGBps: number;
  baselineGBps: number;
  /** engineGBps / baselineGBps, per round. */
  ratio: number;
  /** Loads against a file-system baseline: reads into preallocated buffers. */
  preallocBaselineGBps?: number;
  /** engineGBps / preallocBaselineGBps, per round. */
  preallocRatio?: number;
  /** fs: the store or load limit (fs-limit.ts). */
  limitGBps?: number;
  /** limitGBps / baselineGBps for stores, limitGBps / preallocBaselineGBps for loads, per round. */
  limitRatio?: number;
  spread: Record<string, Spread>;
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

/** The same bytes without the engine: what a row is measured against. */
interface Baseline {
  /** Removes what the previous round stored (untimed). */
  reset(): Promise<void>;
  /** Stores objects `[from, to)` (timed). */
  store(from: number, to: number): Promise<void>;
  /** Loads objects `[from, to)` (timed). */
  load(from: number, to: number): Promise<void>;
  /** Loads objects `[from, to)` into buffers allocated once (timed); absent where the baseline has no such form. */
  loadPrealloc?(from: number, to: number): Promise<void>;
  close(): Promise<void>;
}

/** Where the redis servers of a run are, and how to stop them if the run started them. */
interface RedisTarget {
  readonly config: AdapterConfig;
  readonly servers: readonly Address[];
  readonly cluster: boolean;
  readonly stop: () => Promise<void>;
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

/** `bytes` copied onto one SharedArrayBuffer, as L1 slots hold them: views of it, in order. */
function sharedCopies(bytes: readonly Uint8Array[]): Uint8Array[] {
  const shared = new SharedArrayBuffer(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  return bytes.map((b) => {
    const view = new Uint8Array(shared, at, b.length);
    view.set(b);
    at += b.length;
    return view;
  });
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
  readonly adapter: AdapterName;
  readonly path: (typeof PATHS)[number];
  readonly dir: string;
  readonly redis: RedisTarget | undefined;
  readonly objectBytes: number;
  readonly rowBytes: number;
  readonly batch: number;
  readonly rounds: number;
  readonly ioThreads: number;
}

/** Opens `path` and reads it into `target` until full or the file ends. */
async function readInto(path: string, target: Uint8Array): Promise<void> {
  const fh = await open(path, 'r');
  try {
    for (let at = 0; at < target.length;) {
      const { bytesRead } = await fh.read(target, at, target.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/**
 * writeFile/readFile of the same bytes, one file per object, all of a batch at once; and reads
 * into preallocated buffers, which spare readFile's fresh buffer per object (the engine reads
 * into L1 slots that exist already).
 */
async function fsBaseline(dir: string, keys: DigestBatch, bytes: readonly Uint8Array[]): Promise<Baseline> {
  await mkdir(dir, { recursive: true });
  const path = (i: number) => join(dir, digestHex(keys, i));
  const targets = bytes.map((b) => new Uint8Array(b.length));
  const batch = (from: number, to: number, fn: (i: number) => Promise<unknown>) => Promise.all(Array.from({ length: to - from }, (_, j) => fn(from + j))).then(() => {});
  return {
    reset: () => Promise.all(bytes.map((_, i) => rm(path(i), { force: true }))).then(() => {}),
    store: (from, to) => batch(from, to, (i) => writeFile(path(i), bytes[i])),
    load: (from, to) => batch(from, to, (i) => readFile(path(i))),
    loadPrealloc: (from, to) => batch(from, to, (i) => readInto(path(i), targets[i])),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** SET/GET of the same bytes pipelined over plain RESP sockets (keys apart from the engine's). */
async function redisBaseline(target: RedisTarget, keys: DigestBatch, bytes: readonly Uint8Array[]): Promise<Baseline> {
  const names = bytes.map((_, i) => `${REDIS_PREFIX}baseline:${digestHex(keys, i)}`);
  const plain = await RespBaseline.open(target.servers, target.cluster, names);
  const length = bytes[0].length;
  return {
    reset: () => plain.del(),
    store: (from, to) => plain.set(from, to, bytes),
    load: (from, to) => plain.get(from, to, length),
    close: async () => {
      await plain.del();
      plain.close();
    },
  };
}

function adapterConfig(o: RowOptions, storeDir: string): AdapterConfig {
  if (o.redis !== undefined) return o.redis.config;
  return o.adapter === 'fs' ? { type: 'fs', baseDir: storeDir, ioThreads: o.ioThreads } : { type: 'mock' };
}

/** Seconds per round of each timed step of a row. */
interface RoundTimes {
  engineStore: number[];
  baselineStore: number[];
  engineLoad: number[];
  baselineLoad: number[];
  preallocLoad: number[];
  limitStore: number[];
  limitLoad: number[];
}

/** Spreads of `figures` (each a sample per round), under their field names. */
function spreads(figures: Record<string, readonly number[]>): Record<string, Spread> {
  return Object.fromEntries(Object.entries(figures).map(([field, samples]) => [field, spreadOf(samples)]));
}

/**
 * A store or load row: GB/s per round of engine and baselines, ratios per round; `prealloc` (load
 * reads into preallocated buffers, against which the engine is set) and `limit` (the fs store or
 * load limit, set against the fairest baseline: `prealloc` where measured, else `baseline`) where
 * measured (else empty).
 */
function rowOf(o: RowOptions, op: Row['op'], bytes: number, engine: number[], baseline: number[], prealloc: number[], limit: number[]): Row {
  const gbps = (seconds: number[]) => seconds.map((t) => bytes / t / 1e9);
  const ratio = (a: number[], b: number[]) => paired(a, b, (x, y) => x / y);
  const figures: Record<string, number[]> = { engineGBps: gbps(engine), baselineGBps: gbps(baseline) };
  figures.ratio = ratio(figures.engineGBps, figures.baselineGBps);
  if (prealloc.length > 0) {
    figures.preallocBaselineGBps = gbps(prealloc);
    figures.preallocRatio = ratio(figures.engineGBps, figures.preallocBaselineGBps);
  }
  if (limit.length > 0) {
    figures.limitGBps = gbps(limit);
    figures.limitRatio = ratio(figures.limitGBps, figures.preallocBaselineGBps ?? figures.baselineGBps);
  }
  const spread = spreads(figures);
  const medians = Object.fromEntries(Object.entries(spread).map(([field, s]) => [field, s.median]));
  return { adapter: o.adapter, op, objectBytes: o.objectBytes, ...medians, spread } as Row;
}

/**
 * `runs` rotated by the round, so that each goes first, second and last in turn: the one after a
 * store of the same bytes finds the page cache and the disk's write-back busier, and a fixed order
 * would charge that to one of them every round.
 */
function inTurn<T>(round: number, runs: readonly T[]): T[] {
  const first = (round + runs.length) % runs.length;
  return [...runs.slice(first), ...runs.slice(0, first)];
}

/** Measures one object size: every round times the engine and the baselines in turn, each starting in its turn. */
async function measureSize(o: RowOptions): Promise<Row[]> {
  const count = Math.max(o.batch, Math.floor(o.rowBytes / o.objectBytes));
  const keys = benchKeys('bench-l2', count);
  const storeDir = join(o.dir, `engine-${o.objectBytes}`);
  const engine = await (o.path === 'cache' ? cachePath : hostPath)(adapterConfig(o, storeDir), keys, count, o.objectBytes);
  const bytes = Array.from({ length: count }, (_, i) => {
    const b = new Uint8Array(o.objectBytes);
    fillObject(b, i);
    return b;
  });
  const baseline = o.redis === undefined ? await fsBaseline(join(o.dir, `baseline-${o.objectBytes}`), keys, bytes) : await redisBaseline(o.redis, keys, bytes);
  const limit = o.adapter === 'fs' ? await FsLimit.open(join(o.dir, `limit-${o.objectBytes}`), keys, sharedCopies(bytes), o.ioThreads) : undefined;
  const t: RoundTimes = { engineStore: [], baselineStore: [], engineLoad: [], baselineLoad: [], preallocLoad: [], limitStore: [], limitLoad: [] };
  const prealloc = baseline.loadPrealloc;
  // Round -1 is an untimed warm-up: threads started on first use, page faults, JIT.
  const time = async (round: number, samples: number[], fn: (from: number, to: number) => Promise<unknown>) => {
    const seconds = await timed(() => inBatches(count, o.batch, fn));
    if (round >= 0) samples.push(seconds);
  };
  type Timed = readonly [samples: number[], fn: (from: number, to: number) => Promise<unknown>];
  const stores: Timed[] = [[t.engineStore, engine.store], [t.baselineStore, baseline.store]];
  if (limit !== undefined) stores.push([t.limitStore, (from, to) => limit.store(from, to)]);
  const loads: Timed[] = [[t.engineLoad, engine.load], [t.baselineLoad, baseline.load]];
  if (prealloc !== undefined) loads.push([t.preallocLoad, prealloc]);
  if (limit !== undefined) loads.push([t.limitLoad, (from, to) => limit.load(from, to)]);
  try {
    for (let round = -1; round < o.rounds; round++) {
      await engine.reset();
      await baseline.reset();
      await limit?.reset();
      for (const [samples, fn] of inTurn(round, stores)) await time(round, samples, fn);
      await engine.prepareLoad();
      for (const [samples, fn] of inTurn(round, loads)) await time(round, samples, fn);
    }
    await engine.reset();
  } finally {
    await engine.close();
    await baseline.close();
    await limit?.close();
    await rm(storeDir, { recursive: true, force: true });
  }
  const rowBytes = count * o.objectBytes;
  return [
    rowOf(o, 'store', rowBytes, t.engineStore, t.baselineStore, [], t.limitStore),
    rowOf(o, 'load', rowBytes, t.engineLoad, t.baselineLoad, t.preallocLoad, t.limitLoad),
  ];
}

/** One lookup latency result: p50 and p99 of each round, their medians and spreads. */
interface LookupRow {
  adapter: AdapterName;
  op: 'lookup';
  keys: number;
  p50Ms: number;
  p99Ms: number;
  spread: Record<string, Spread>;
}

/**
 * p50/p99 of a {@link LOOKUP_KEYS}-key lookup (then unlock) through the adapter host worker, every
 * key present: {@link LOOKUP_RUNS} lookups a round, percentiles per round.
 */
async function lookupLatency(adapter: AdapterName, config: AdapterConfig, rounds: number): Promise<LookupRow> {
  const keys = benchKeys('bench-l2-lookup', LOOKUP_KEYS);
  const cache = await KvCache.open({ l1: { slotBytes: LOOKUP_OBJECT_BYTES, slotCount: 2 * LOOKUP_KEYS }, adapters: [config] });
  try {
    const r = cache.reserveWrite(keys, LOOKUP_OBJECT_BYTES);
    assertAll(r.codes, 'reserveWrite');
    assertAll(cache.finishWrite(keys), 'finishWrite');
    await cache.flush({ timeoutMs: SETTLE_TIMEOUT_MS });
    const host = adapterHosts(cache)[0];
    const owner = newPinOwner(cache);
    const p50: number[] = [];
    const p99: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const times: number[] = [];
      for (let run = 0; run < LOOKUP_RUNS; run++) {
        const started = performance.now();
        const { found } = await host.lookupAndLock(keys, owner);
        times.push(performance.now() - started);
        await host.unlock(keys, owner);
        const hits = new Bitmap(found.size, found.words.buffer, found.words.byteOffset).popcount();
        if (hits !== LOOKUP_KEYS) throw new Error(`lookup found ${hits} of ${LOOKUP_KEYS} stored keys`);
      }
      times.sort((a, b) => a - b);
      p50.push(quantile(times, 0.5));
      p99.push(quantile(times, 0.99));
    }
    await host.delete(keys);
    const spread = spreads({ p50Ms: p50, p99Ms: p99 });
    return { adapter, op: 'lookup', keys: LOOKUP_KEYS, p50Ms: spread.p50Ms.median, p99Ms: spread.p99Ms.median, spread };
  } finally {
    await cache.close();
  }
}

/** Parses `redis://host:port` for the baseline's sockets. */
function addressOf(url: string): Address {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

/** The servers of a redis run: those named by --url/--cluster, or ones started now under `dir`. */
async function redisTarget(adapter: AdapterName, flags: Record<string, string | true>, dir: string): Promise<RedisTarget | undefined> {
  const given = adapter === 'redis' ? flags.url : flags.cluster;
  if (given === true) throw new UsageError(`--${adapter === 'redis' ? 'url' : 'cluster'} needs a value`);
  if (adapter === 'redis') {
    const url = given ?? (await startSingle(join(dir, 'redis'), '2gb')).url;
    return { config: { type: 'redis', url, keyPrefix: REDIS_PREFIX }, servers: [addressOf(url)], cluster: false, stop: () => stopAll(join(dir, 'redis')) };
  }
  if (adapter === 'redis-cluster') {
    const urls = given?.split(',') ?? (await startCluster(join(dir, 'cluster'), 0, '1gb')).urls;
    return { config: { type: 'redis', cluster: urls, keyPrefix: REDIS_PREFIX }, servers: urls.map(addressOf), cluster: true, stop: () => stopAll(join(dir, 'cluster')) };
  }
  return undefined;
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, ['adapter', 'url', 'cluster', 'path', 'sizes', 'row-mib', 'batch', 'rounds', 'io-threads', 'json']);
  const adapter = oneOf(flags.adapter, 'adapter', ADAPTERS);
  const path = oneOf(flags.path, 'path', PATHS);
  const sizes = numberList(flags.sizes, 'sizes', DEFAULT_SIZES_MIB).map((mib) => Math.round(mib * MIB));
  const rowBytes = positiveInteger(flags['row-mib'], 'row-mib', DEFAULT_ROW_MIB) * MIB;
  const batch = positiveInteger(flags.batch, 'batch', DEFAULT_BATCH);
  const rounds = positiveInteger(flags.rounds, 'rounds', DEFAULT_ROUNDS);
  const ioThreads = positiveInteger(flags['io-threads'], 'io-threads', DEFAULT_IO_THREADS);
  if (flags['io-threads'] !== undefined && adapter !== 'fs') throw new UsageError(`--io-threads is for --adapter fs (its I/O threads), got --adapter ${adapter}`);
  if (rounds < MIN_ROUNDS) throw new UsageError(`--rounds must be at least ${MIN_ROUNDS} (every figure is a spread over the rounds), got ${rounds}`);

  const dir = await mkdtemp(join(tmpdir(), 'kvtier-bench-l2-'));
  const rows: Row[] = [];
  const lookups: LookupRow[] = [];
  let redis: RedisTarget | undefined;
  try {
    redis = await redisTarget(adapter, flags, dir);
    for (const objectBytes of sizes) rows.push(...(await measureSize({ adapter, path, dir, redis, objectBytes, rowBytes, batch, rounds, ioThreads })));
    if (redis !== undefined) lookups.push(await lookupLatency(adapter, redis.config, rounds));
  } finally {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const baselineName = redis === undefined ? 'fs.promises' : 'plain RESP socket';
  const withPrealloc = rows.some((r) => r.preallocBaselineGBps !== undefined);
  const preallocName = 'reads into preallocated buffers';
  const withLimit = rows.some((r) => r.limitGBps !== undefined);
  const limitName = 'fs limit';
  const largest = rows.filter((r) => r.objectBytes === Math.max(...sizes));
  const headline = largest.map((r) => {
    const against = r.preallocRatio === undefined ? '' : `, ${formatNumber(r.preallocRatio)}× ${preallocName}`;
    const limited = r.limitRatio === undefined ? '' : ` (${limitName} ${formatNumber(r.limitRatio)}×)`;
    return `${r.op} ${r.objectBytes / MIB} MiB ${formatNumber(r.ratio)}× ${baselineName}${against}${limited}`;
  }).join('; ');
  await saveChart('l2', {
    title: `L2 ${adapter} through the engine vs ${baselineName}`,
    headline,
    kind: 'bar',
    x: rows.map((r) => `${r.op} ${r.objectBytes / MIB} MiB`),
    xLabel: 'operation, object size',
    yLabel: 'GB/s',
    series: [
      { name: `engine (${path})`, values: rows.map((r) => r.engineGBps), spreads: rows.map((r) => r.spread.engineGBps) },
      { name: baselineName, values: rows.map((r) => r.baselineGBps), spreads: rows.map((r) => r.spread.baselineGBps) },
      ...(withPrealloc ? [{ name: preallocName, values: rows.map((r) => r.preallocBaselineGBps ?? NaN), spreads: rows.map((r) => r.spread.preallocBaselineGBps) }] : []),
      ...(withLimit ? [{ name: limitName, values: rows.map((r) => r.limitGBps ?? NaN), spreads: rows.map((r) => r.spread.limitGBps) }] : []),
    ],
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ rows: [...rows, ...lookups] })}\n`);
    return 0;
  }
  const via = path === 'cache' ? 'KvCache (store and prefetch workers)' : 'adapter host worker over comlink';
  process.stdout.write(`adapter ${adapter} through ${via}, envelope included, vs ${baselineName}; batches of ${batch}${adapter === 'fs' ? `, ${ioThreads} I/O threads` : ''}; median (min–max) of ${rounds} rounds, ratios per round\n`);
  const preallocHeaders = withPrealloc ? ['prealloc reads GB/s', 'ratio'] : [];
  const limitHeaders = withLimit ? ['limit GB/s', 'limit ratio'] : [];
  const pair = (present: boolean, a: Spread | undefined, b: Spread | undefined) => (!present ? [] : a === undefined || b === undefined ? ['', ''] : [a, b]);
  process.stdout.write(formatTable(
    ['op', 'object', 'engine GB/s', `${baselineName} GB/s`, 'ratio', ...preallocHeaders, ...limitHeaders],
    rows.map((r) => [
      r.op, `${r.objectBytes / MIB} MiB`, r.spread.engineGBps, r.spread.baselineGBps, r.spread.ratio,
      ...pair(withPrealloc, r.spread.preallocBaselineGBps, r.spread.preallocRatio),
      ...pair(withLimit, r.spread.limitGBps, r.spread.limitRatio),
    ]),
  ));
  if (lookups.length > 0) {
    process.stdout.write(formatTable(['op', 'keys', 'p50 ms', 'p99 ms'], lookups.map((l) => [l.op, l.keys, l.spread.p50Ms, l.spread.p99Ms])));
  }
  return 0;
}

/** The `l2` command. */
export const command: BenchCommand = {
  summary: 'L2 adapter store/load GB/s through the engine vs plain fs.promises or a plain RESP socket',
  usage: USAGE,
  run,
  suiteArgs: ['--adapter', 'fs'],
};

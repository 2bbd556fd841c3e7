/**
 * `kvtier-bench l2`: store and load throughput of an L2 adapter through the engine's data path —
 * objects in L1 arena slots, the adapter host in its own worker thread driven over comlink, the
 * integrity envelope on every object — next to plain `fs.promises` on the same bytes in the same
 * run. This is the engine's store/load path minus the controller loops (which only decide what
 * to move); the host is started as the engine starts it, from the adapter's config and module URL.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterHostThread, L1Error, L1Manager, adapterModuleUrl, digestBatch, digestHex, registeredAdapterTypes, type DigestBatch } from '@kvtier/core';
import '@kvtier/adapters';
import { numberList, parseFlags } from '../args.ts';
import type { BenchCommand } from '../command.ts';
import { formatTable } from '../table.ts';

const ADAPTERS = ['fs', 'mock'] as const;
type AdapterName = (typeof ADAPTERS)[number];
const MIB = 1024 * 1024;
const DEFAULT_SIZES_MIB = [1, 4];
const DEFAULT_ROW_MIB = 128;
const DEFAULT_BATCH = 8;
const DEFAULT_ROUNDS = 3;

const USAGE = `usage: kvtier-bench l2 [--adapter fs|mock] [--sizes MIB,...] [--row-mib N] [--batch N] [--rounds N] [--json]

Store and load GB/s of one adapter through the engine path (L1 slots -> adapter host in a worker
over comlink -> adapter, integrity envelope included) next to plain fs.promises writeFile/readFile
of the same bytes, in a temp dir under ${tmpdir()} (removed afterwards). Each round stores new
objects (the previous round's are deleted first, untimed), then loads them (page cache warm).
  --adapter NAME   fs (default) or mock (in memory)
  --sizes LIST     object sizes in MiB, default ${DEFAULT_SIZES_MIB.join(',')}
  --row-mib N      bytes moved per row and round, default ${DEFAULT_ROW_MIB} MiB
  --batch N        objects per call (the baseline runs the same number concurrently), default ${DEFAULT_BATCH}
  --rounds N       rounds per row, the best kept, default ${DEFAULT_ROUNDS}
  --json           print {"rows":[{"op":"store"|"load","objectBytes":N,"engineGBps":x,"baselineGBps":x},...]}`;

/** One result row. */
interface Row {
  op: 'store' | 'load';
  objectBytes: number;
  engineGBps: number;
  baselineGBps: number;
}

function positiveInteger(value: string | true | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value === true || !Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a positive integer`);
  return n;
}

/** Digests of `n` distinct benchmark keys (set `set` keeps sources and load targets apart). */
function benchKeys(n: number, set: number): DigestBatch {
  return digestBatch(Array.from({ length: n }, (_, i) => {
    const chunkHash = new Uint8Array(32);
    new DataView(chunkHash.buffer).setUint32(0, i, true);
    return { model: 'bench-l2', kvRank: set, chunkHash };
  }));
}

/** Seconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Runs `fn` on consecutive batches of `[0, n)`, one batch at a time. */
async function inBatches(n: number, batch: number, fn: (from: number, to: number) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < n; from += batch) await fn(from, Math.min(n, from + batch));
}

/** Measures one object size: the best of `rounds` rounds for each of the four paths. */
async function measureSize(adapter: AdapterName, dir: string, objectBytes: number, rowBytes: number, batch: number, rounds: number): Promise<Row[]> {
  const count = Math.max(batch, Math.floor(rowBytes / objectBytes));
  const l1 = L1Manager.create({ slotBytes: objectBytes, slotCount: 2 * count });
  const storeDir = join(dir, `engine-${objectBytes}`);
  const baseDir = join(dir, `baseline-${objectBytes}`);
  await rm(storeDir, { recursive: true, force: true });
  const config = adapter === 'fs' ? { type: 'fs', baseDir: storeDir } : { type: 'mock' };
  const host = await AdapterHostThread.start({
    l1Handle: l1.handle, adapterIndex: 0, config, moduleUrl: adapterModuleUrl(config.type), adapterTypes: registeredAdapterTypes(),
  });
  try {
    const keys = benchKeys(count, 0);
    const source = l1.reserveWrite(keys, objectBytes);
    const target = l1.reserveWrite(benchKeys(count, 1), objectBytes, { temporary: true });
    if (![...source.codes, ...target.codes].every((c) => c === L1Error.SUCCESS)) throw new Error('could not reserve L1 slots for the benchmark');
    for (let i = 0; i < count; i++) {
      const view = l1.view(source.slots[i], objectBytes);
      for (let j = 0; j < view.length; j += 4096) view[j] = (i + j) & 0xff;
    }
    l1.finishWrite(keys);
    const sizes = new Uint32Array(count).fill(objectBytes);
    const sub = (from: number, to: number) => keys.subarray(from * 4, to * 4);
    const path = (i: number) => join(baseDir, digestHex(keys, i));
    await rm(baseDir, { recursive: true, force: true });
    await mkdir(baseDir, { recursive: true });

    const best = { engineStore: Infinity, baselineStore: Infinity, engineLoad: Infinity, baselineLoad: Infinity };
    for (let round = 0; round < rounds; round++) {
      // Stores write new objects, as the engine's write-through does: last round's go first.
      await host.api.delete(keys);
      await Promise.all(Array.from({ length: count }, (_, i) => rm(path(i), { force: true })));
      best.engineStore = Math.min(best.engineStore, await timed(() => inBatches(count, batch, async (from, to) => {
        const ok = await host.api.store(sub(from, to), source.slots.subarray(from, to), sizes.subarray(from, to));
        if (!ok.every((b) => b === 1)) throw new Error(`the ${adapter} adapter did not store every object`);
      })));
      best.baselineStore = Math.min(best.baselineStore, await timed(() => inBatches(count, batch, (from, to) =>
        Promise.all(Array.from({ length: to - from }, (_, j) => writeFile(path(from + j), l1.view(source.slots[from + j], objectBytes)))))));
      best.engineLoad = Math.min(best.engineLoad, await timed(() => inBatches(count, batch, async (from, to) => {
        const loaded = await host.api.load(sub(from, to), target.slots.subarray(from, to), sizes.subarray(from, to));
        if (loaded.words.reduce((n, w) => n + (w === 0 ? 0 : 1), 0) === 0) throw new Error(`the ${adapter} adapter loaded nothing`);
      })));
      best.baselineLoad = Math.min(best.baselineLoad, await timed(() => inBatches(count, batch, (from, to) =>
        Promise.all(Array.from({ length: to - from }, (_, j) => readFile(path(from + j)))))));
    }
    for (let i = 0; i < count; i++) {
      if (Buffer.compare(l1.view(target.slots[i], objectBytes), l1.view(source.slots[i], objectBytes)) !== 0) throw new Error(`object ${i} came back different`);
    }
    const gbps = (seconds: number) => (count * objectBytes) / seconds / 1e9;
    return [
      { op: 'store', objectBytes, engineGBps: gbps(best.engineStore), baselineGBps: gbps(best.baselineStore) },
      { op: 'load', objectBytes, engineGBps: gbps(best.engineLoad), baselineGBps: gbps(best.baselineLoad) },
    ];
  } finally {
    await host.close();
    l1.detach();
    await rm(storeDir, { recursive: true, force: true });
    await rm(baseDir, { recursive: true, force: true });
  }
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, ['adapter', 'sizes', 'row-mib', 'batch', 'rounds', 'json', 'help']);
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const adapter = (flags.adapter ?? 'fs') as AdapterName;
  if (!ADAPTERS.includes(adapter)) throw new Error(`--adapter must be one of ${ADAPTERS.join(', ')}, got ${String(flags.adapter)}`);
  const sizes = numberList(flags.sizes, 'sizes', DEFAULT_SIZES_MIB).map((mib) => Math.round(mib * MIB));
  const rowBytes = positiveInteger(flags['row-mib'], 'row-mib', DEFAULT_ROW_MIB) * MIB;
  const batch = positiveInteger(flags.batch, 'batch', DEFAULT_BATCH);
  const rounds = positiveInteger(flags.rounds, 'rounds', DEFAULT_ROUNDS);

  const dir = await mkdtemp(join(tmpdir(), 'kvtier-bench-l2-'));
  const rows: Row[] = [];
  try {
    for (const size of sizes) rows.push(...(await measureSize(adapter, dir, size, rowBytes, batch, rounds)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ rows })}\n`);
    return 0;
  }
  process.stdout.write(`adapter ${adapter}: engine path (L1 slots -> host worker over comlink -> ${adapter}, envelope included) vs plain fs.promises\n`);
  process.stdout.write(formatTable(
    ['op', 'object', 'engine GB/s', 'fs.promises GB/s', 'ratio'],
    rows.map((r) => [r.op, `${r.objectBytes / MIB} MiB`, r.engineGBps, r.baselineGBps, r.engineGBps / r.baselineGBps]),
  ));
  return 0;
}

/** The `l2` command. */
export const command: BenchCommand = {
  summary: 'L2 adapter store/load GB/s through the engine path vs plain fs.promises',
  usage: USAGE,
  run,
  suiteArgs: ['--adapter', 'fs'],
};

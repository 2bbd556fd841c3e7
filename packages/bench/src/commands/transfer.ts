/**
 * `kvtier-bench transfer`: store (device -> L1) and retrieve (L1 -> device) throughput of pipelined
 * chunk moves, per chunk size, cache layout and gather method, next to single-thread memcpy
 * (TypedArray.set into a SharedArrayBuffer) and the two-copy limit (two-copy.ts) of the same bytes,
 * measured in the same run.
 */
import { ChunkMover, GATHER_METHODS, openGpu, PagedKvCache, type GatherMethod, type Gpu, type KvLayout } from '@kvtier/gpu';
import type { BenchCommand } from '../command.ts';
import { numberList, oneOf, parseFlags, UsageError } from '../args.ts';
import { saveChart } from '../results.ts';
import { paired, spreadOf, timeInTurns, type Spread } from '../spread.ts';
import { formatNumber, formatTable } from '../table.ts';
import { TwoCopyLimit } from '../two-copy.ts';
import { mainThreadTime, type CallCounts, type MainThreadTime } from '../main-thread-time.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const LAYOUTS: readonly KvLayout[] = ['block-contiguous', 'per-layer'];
/** A small model's KV shape: 8 layers × 4 KV heads × 64, f16, 16-token blocks = 128 KiB per block. */
const SHAPE = { layers: 8, kvHeads: 4, headDim: 64, blockTokens: 16, dtype: 'f16' } as const;
const BLOCK_BYTES = SHAPE.layers * 2 * SHAPE.kvHeads * SHAPE.headDim * 2 * SHAPE.blockTokens;
/** Bytes moved per measurement: 32 chunks of 4 MiB, far past the pipeline's ramp-up and drain. */
const MEASURE_BYTES = 128 * MiB;
/** Chunks moved per measurement, at least. */
const MIN_CHUNKS = 8;
/** Repetitions per figure, at least: each figure is reported as its spread. */
const MIN_REPS = 3;

/** The figures of one row, each over the repetitions; ratios are taken per repetition. */
interface RowSpread {
  GBps: Spread;
  memcpyGBps: Spread;
  twoCopyGBps: Spread;
  xMemcpy: Spread;
  xTwoCopy: Spread;
}

interface Row {
  direction: 'store' | 'retrieve';
  chunkBytes: number;
  layout: KvLayout;
  method: GatherMethod;
  /** Medians of the repetitions. */
  GBps: number;
  memcpyGBps: number;
  twoCopyGBps: number;
  spread: RowSpread;
}

/** Main-thread milliseconds per {@link MEASURE_BYTES} of one direction, by kind of work (`--breakdown`). */
interface BreakdownRow {
  direction: 'store' | 'retrieve';
  chunkBytes: number;
  layout: KvLayout;
  method: GatherMethod;
  spread: Record<BreakdownKind, Spread>;
  /** Calls per {@link MEASURE_BYTES} (the same in every repetition; polling turns: their median). */
  calls: CallCounts;
}

type BreakdownKind = Exclude<keyof MainThreadTime, 'calls'>;
const BREAKDOWN_KINDS: readonly BreakdownKind[] = ['hostCopyMs', 'encodeMs', 'submitMs', 'mapMs', 'pollMs', 'wallMs'];
const CALL_KINDS: readonly (keyof CallCounts)[] = ['hostCopies', 'copyCommands', 'submits', 'maps', 'polls'];

/** `reps` wrapped runs of `call`, each scaled to {@link MEASURE_BYTES}. */
async function breakdownOf(base: Omit<BreakdownRow, 'spread' | 'calls'>, reps: number, bytes: number, call: () => Promise<unknown>): Promise<BreakdownRow> {
  const samples: MainThreadTime[] = [];
  for (let i = 0; i < reps; i++) samples.push(await mainThreadTime(call));
  const scale = MEASURE_BYTES / bytes;
  const spread = Object.fromEntries(BREAKDOWN_KINDS.map((kind) => [kind, spreadOf(samples.map((t) => t[kind] * scale))])) as BreakdownRow['spread'];
  const { hostCopies, copyCommands, submits, maps } = samples[0].calls;
  // Polling turns vary with the waits; the other counts are the same in every repetition.
  const polls = spreadOf(samples.map((t) => t.calls.polls)).median;
  const per = (n: number) => Math.round(n * scale);
  const calls: CallCounts = { hostCopies: per(hostCopies), copyCommands: per(copyCommands), submits: per(submits), maps: per(maps), polls: per(polls) };
  return { ...base, spread, calls };
}

function progress(message: string): void {
  process.stderr.write(`transfer: ${message}\n`);
}

/** A fixed shuffle of `0 … n-1` (an LCG): a long-running engine's block table is not sorted. */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** How the block table orders blocks: as a long-running engine's (shuffled), or a fresh sequence's (sequential). */
type TableOrder = 'shuffled' | 'sequential';
const TABLE_ORDERS: readonly TableOrder[] = ['shuffled', 'sequential'];

interface Settings {
  readonly reps: number;
  readonly methods: readonly GatherMethod[];
  readonly stagingBuffers: number | undefined;
  readonly pieceBytes: number | undefined;
  readonly table: TableOrder;
  /** Also measure where the main thread's time goes (wrapped API calls; untimed otherwise). */
  readonly breakdown: boolean;
}

/** A store or retrieve row from the seconds of its repetitions and of the baselines' (same repetitions). */
function rowOf(base: Omit<Row, 'GBps' | 'memcpyGBps' | 'twoCopyGBps' | 'spread'>, bytes: number, seconds: number[], memcpy: number[], twoCopy: number[]): Row {
  const gbps = (s: number[]) => s.map((t) => bytes / t / 1e9);
  const spread: RowSpread = {
    GBps: spreadOf(gbps(seconds)),
    memcpyGBps: spreadOf(gbps(memcpy)),
    twoCopyGBps: spreadOf(gbps(twoCopy)),
    xMemcpy: spreadOf(paired(memcpy, seconds, (base, move) => base / move)),
    xTwoCopy: spreadOf(paired(twoCopy, seconds, (base, move) => base / move)),
  };
  return { ...base, GBps: spread.GBps.median, memcpyGBps: spread.memcpyGBps.median, twoCopyGBps: spread.twoCopyGBps.median, spread };
}

/**
 * Rows for one chunk size. memcpy copies the same bytes, chunk by chunk, into the same arena the
 * moves use, from a second SAB of the same size: the same total bytes and distinct buffers. The
 * two-copy limit moves those bytes into the arena through a staging ring of the mover's piece size
 * and depth, a worker thread doing the first copy. All four take turns in every repetition.
 */
async function measureSize(gpu: Gpu, chunkBytes: number, settings: Settings, breakdown: BreakdownRow[]): Promise<Row[]> {
  const { reps, methods, stagingBuffers, pieceBytes } = settings;
  const chunkBlocks = chunkBytes / BLOCK_BYTES;
  const chunks = Math.max(MIN_CHUNKS, Math.floor(MEASURE_BYTES / chunkBytes));
  const bytes = chunkBytes * chunks;
  const arena = new Uint8Array(new SharedArrayBuffer(bytes));
  const memcpySource = new Uint8Array(new SharedArrayBuffer(bytes)).fill(7);
  const table = settings.table === 'shuffled' ? shuffled(chunks * chunkBlocks) : Array.from({ length: chunks * chunkBlocks }, (_, i) => i);
  const transfers = Array.from({ length: chunks }, (_, i) => ({
    blocks: table.slice(i * chunkBlocks, (i + 1) * chunkBlocks),
    view: arena.subarray(i * chunkBytes, (i + 1) * chunkBytes),
  }));
  const rows: Row[] = [];
  for (const layout of LAYOUTS) {
    const cache = new PagedKvCache(gpu, { ...SHAPE, numBlocks: table.length, layout });
    try {
      for (const method of methods) {
        progress(`${chunkBytes / KiB} KiB chunks, ${layout}, ${method}`);
        const mover = new ChunkMover(cache, { chunkBlocks, method, stagingBuffers, pieceBytes });
        let twoCopy: TwoCopyLimit | undefined;
        try {
          twoCopy = await TwoCopyLimit.start({
            source: memcpySource.buffer, destination: arena, pieceBytes: mover.pieceBlocks * BLOCK_BYTES, stagingBuffers: mover.stagingBuffers,
          });
          const limit = twoCopy;
          const memcpy = () => {
            for (let i = 0; i < chunks; i++) arena.set(memcpySource.subarray(i * chunkBytes, (i + 1) * chunkBytes), i * chunkBytes);
          };
          const [copy, two, store, retrieve] = await timeInTurns(reps, [memcpy, () => limit.run(), () => mover.store(transfers), () => mover.retrieve(transfers)]);
          rows.push(rowOf({ direction: 'store', chunkBytes, layout, method }, bytes, store, copy, two));
          rows.push(rowOf({ direction: 'retrieve', chunkBytes, layout, method }, bytes, retrieve, copy, two));
          if (settings.breakdown) {
            breakdown.push(await breakdownOf({ direction: 'store', chunkBytes, layout, method }, reps, bytes, () => mover.store(transfers)));
            breakdown.push(await breakdownOf({ direction: 'retrieve', chunkBytes, layout, method }, reps, bytes, () => mover.retrieve(transfers)));
          }
        } finally {
          await twoCopy?.close();
          mover.destroy();
        }
      }
    } finally {
      cache.destroy();
    }
  }
  return rows;
}

const USAGE = `kvtier-bench transfer [--json] [--sizes KiB,...] [--reps N] [--methods copy,kernel] [--staging N] [--piece KiB] [--table shuffled|sequential] [--breakdown]

Store (device -> L1) and retrieve (L1 -> device) GB/s of pipelined chunk moves for each chunk size,
cache layout (block-contiguous, per-layer) and gather method (copy chain, WGSL kernel), next to
single-thread memcpy and the two-copy limit (the same bytes moved through a staging ring of the
mover's piece size and depth by two threads, no WebGPU), all measured in the same run, taking turns.
Every figure is the median (min–max) of the repetitions; ratios are taken per repetition. Chunk sizes must be multiples of ${BLOCK_BYTES / KiB} KiB (one block).
  --sizes    chunk sizes in KiB (default 256,1024,4096,16384)
  --reps     timed repetitions per figure, ≥ ${MIN_REPS} (default 5)
  --methods  gather methods (default copy,kernel)
  --staging  staging buffers per direction, pieces in flight (default: 8 MiB worth, 3 to 16)
  --piece    most KiB one staging buffer carries (default 3072); the chunks of a run are cut into
             pieces of whole blocks, small chunks sharing a piece, large ones spanning several
  --table    block table order: shuffled (default; a long-running engine's, one copy per block run)
             or sequential (a fresh sequence's; neighbouring blocks merge into one copy)
  --breakdown  also time the main thread's work inside each move (host copies, encoding, submits,
             maps, dawn.node's event polling; by wrapping those methods and setImmediate), per
             ${MEASURE_BYTES / MiB} MiB, in extra untimed-figure runs
  --json     print {"backend","adapter","rows":[{direction,chunkBytes,layout,method,GBps,memcpyGBps,twoCopyGBps,
             spread:{GBps,memcpyGBps,twoCopyGBps,xMemcpy,xTwoCopy: {min,median,max}}}]} (figures: medians)`;

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, ['json', 'sizes', 'reps', 'methods', 'staging', 'piece', 'table', 'breakdown']);
  const sizes = numberList(flags.sizes, 'sizes', [256, 1024, 4096, 16384]).map((k) => k * KiB);
  const bad = sizes.find((s) => !Number.isInteger(s / BLOCK_BYTES));
  if (bad !== undefined) throw new UsageError(`--sizes: ${bad / KiB} KiB is not a multiple of the ${BLOCK_BYTES / KiB} KiB block`);
  const [reps] = numberList(flags.reps, 'reps', [5]);
  if (!Number.isInteger(reps) || reps < MIN_REPS) throw new UsageError(`--reps: must be an integer ≥ ${MIN_REPS} (a spread needs repetitions), got ${reps}`);
  const staging = flags.staging === undefined ? undefined : numberList(flags.staging, 'staging', [])[0];
  const piece = flags.piece === undefined ? undefined : numberList(flags.piece, 'piece', [])[0] * KiB;
  const table = oneOf(flags.table, 'table', TABLE_ORDERS);
  const methods = flags.methods === undefined ? GATHER_METHODS : String(flags.methods).split(',') as GatherMethod[];
  const unknown = methods.find((m) => !GATHER_METHODS.includes(m));
  if (unknown !== undefined) throw new UsageError(`--methods: unknown method '${unknown}' (known: ${GATHER_METHODS.join(', ')})`);
  const gpu = await openGpu();
  try {
    progress(`${gpu.backend} / ${gpu.adapterName}`);
    const rows: Row[] = [];
    const breakdown: BreakdownRow[] = [];
    const settings: Settings = { reps, methods, stagingBuffers: staging, pieceBytes: piece, table, breakdown: flags.breakdown === true };
    for (const size of sizes) rows.push(...(await measureSize(gpu, size, settings, breakdown)));
    const series = [...new Set(rows.map((r) => `${r.direction} ${r.layout} ${r.method}`))];
    const rowAt = (size: number, name: string) => rows.find((row) => row.chunkBytes === size && `${row.direction} ${row.layout} ${row.method}` === name);
    const headline = (['store', 'retrieve'] as const).map((direction) => {
      const r = rowAt(4 * MiB, `${direction} block-contiguous copy`);
      return r === undefined ? undefined : `${direction} ${formatNumber(r.spread.xTwoCopy.median)}×`;
    }).filter((part) => part !== undefined);
    await saveChart('transfer', {
      title: `GPU <-> L1 chunk moves vs the two-copy limit (${gpu.backend}, ${table} block table)`,
      headline: headline.length === 0 ? undefined : `4 MiB chunks, block-contiguous, copy: ${headline.join(', ')} the two-copy limit`,
      kind: 'line',
      x: sizes.map((s) => s / KiB),
      xLabel: 'chunk size (KiB)',
      yLabel: '× two-copy limit',
      series: series.map((name) => ({
        name,
        values: sizes.map((size) => rowAt(size, name)?.spread.xTwoCopy.median ?? NaN),
        spreads: sizes.map((size) => rowAt(size, name)?.spread.xTwoCopy),
      })),
    });
    if (flags.json) {
      const out = settings.breakdown ? { backend: gpu.backend, adapter: gpu.adapterName, rows, breakdown } : { backend: gpu.backend, adapter: gpu.adapterName, rows };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      process.stdout.write(`backend: ${gpu.backend}, adapter: ${gpu.adapterName}, block table: ${table}, ${settings.reps} repetitions: median (min–max)\n`);
      process.stdout.write(formatTable(
        ['direction', 'chunk KiB', 'layout', 'method', 'GB/s', 'memcpy GB/s', 'two-copy GB/s', 'x memcpy', 'x two-copy'],
        rows.map((r) => [r.direction, r.chunkBytes / KiB, r.layout, r.method, r.spread.GBps, r.spread.memcpyGBps, r.spread.twoCopyGBps, r.spread.xMemcpy, r.spread.xTwoCopy]),
      ));
      if (settings.breakdown) {
        process.stdout.write(`\nmain thread, ms per ${MEASURE_BYTES / MiB} MiB moved (inside the calls and dawn.node's polling turns; the rest of wall is JavaScript and waiting for the queue thread)\n`);
        process.stdout.write(formatTable(
          ['direction', 'chunk KiB', 'layout', 'method', 'host copy', 'encode', 'submit', 'maps', 'poll', 'wall', 'host copies', 'copy cmds', 'submits', 'mapAsync', 'polls'],
          breakdown.map((r) => [r.direction, r.chunkBytes / KiB, r.layout, r.method, ...BREAKDOWN_KINDS.map((kind) => r.spread[kind]), ...CALL_KINDS.map((kind) => r.calls[kind])]),
        ));
      }
    }
    return 0;
  } finally {
    gpu.close();
  }
}

/** The `transfer` benchmark. */
export const command: BenchCommand = {
  summary: 'GPU <-> L1 chunk store/retrieve GB/s by chunk size, layout and gather method, vs memcpy and the two-copy limit',
  usage: USAGE,
  run,
  suiteArgs: ['--reps', '3'],
};

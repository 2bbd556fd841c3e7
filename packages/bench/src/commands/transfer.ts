/**
 * `kvtier-bench transfer`: store (device -> L1) and retrieve (L1 -> device) throughput of pipelined
 * chunk moves, per chunk size, cache layout and gather method, next to single-thread memcpy
 * (TypedArray.set into a SharedArrayBuffer) of the same sizes measured in the same run.
 */
import { ChunkMover, GATHER_METHODS, openGpu, PagedKvCache, type GatherMethod, type Gpu, type KvLayout } from '@kvtier/gpu';
import type { BenchCommand } from '../command.ts';
import { numberList, oneOf, parseFlags, UsageError } from '../args.ts';
import { saveChart } from '../results.ts';
import { formatTable } from '../table.ts';

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

interface Row {
  direction: 'store' | 'retrieve';
  chunkBytes: number;
  layout: KvLayout;
  method: GatherMethod;
  GBps: number;
  memcpyGBps: number;
}

function progress(message: string): void {
  process.stderr.write(`transfer: ${message}\n`);
}

/**
 * Best-of-`reps` seconds of each of `runs`, after one untimed warm-up of each (page faults,
 * pipeline creation). The runs take turns within each repetition, so a noisy neighbour on a
 * shared machine weighs on all of them alike.
 */
async function bestSeconds(reps: number, runs: readonly (() => unknown)[]): Promise<number[]> {
  for (const run of runs) await run();
  const best = runs.map(() => Infinity);
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < runs.length; k++) {
      const started = performance.now();
      await runs[k]();
      best[k] = Math.min(best[k], (performance.now() - started) / 1000);
    }
  }
  return best;
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
}

/**
 * Rows for one chunk size. memcpy copies the same bytes, chunk by chunk, into the same arena the
 * moves use, from a second SAB of the same size: the same total bytes and distinct buffers.
 */
async function measureSize(gpu: Gpu, chunkBytes: number, settings: Settings): Promise<Row[]> {
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
        try {
          const memcpy = () => {
            for (let i = 0; i < chunks; i++) arena.set(memcpySource.subarray(i * chunkBytes, (i + 1) * chunkBytes), i * chunkBytes);
          };
          const [copy, store, retrieve] = await bestSeconds(reps, [memcpy, () => mover.store(transfers), () => mover.retrieve(transfers)]);
          const memcpyGBps = bytes / copy / 1e9;
          rows.push({ direction: 'store', chunkBytes, layout, method, GBps: bytes / store / 1e9, memcpyGBps });
          rows.push({ direction: 'retrieve', chunkBytes, layout, method, GBps: bytes / retrieve / 1e9, memcpyGBps });
        } finally {
          mover.destroy();
        }
      }
    } finally {
      cache.destroy();
    }
  }
  return rows;
}

const USAGE = `kvtier-bench transfer [--json] [--sizes KiB,...] [--reps N] [--methods copy,kernel] [--staging N] [--piece KiB] [--table shuffled|sequential]

Store (device -> L1) and retrieve (L1 -> device) GB/s of pipelined chunk moves for each chunk size,
cache layout (block-contiguous, per-layer) and gather method (copy chain, WGSL kernel), next to
single-thread memcpy of the same sizes. Chunk sizes must be multiples of ${BLOCK_BYTES / KiB} KiB (one block).
  --sizes    chunk sizes in KiB (default 256,1024,4096,16384)
  --reps     timed repetitions per figure, best counts (default 5)
  --methods  gather methods (default copy,kernel)
  --staging  staging buffers per direction, pieces in flight (default: 8 MiB worth, 3 to 16)
  --piece    most KiB one staging buffer carries (default 3072); the chunks of a run are cut into
             pieces of whole blocks, small chunks sharing a piece, large ones spanning several
  --table    block table order: shuffled (default; a long-running engine's, one copy per block run)
             or sequential (a fresh sequence's; neighbouring blocks merge into one copy)
  --json     print {"backend","adapter","rows":[{direction,chunkBytes,layout,method,GBps,memcpyGBps}]}`;

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, ['json', 'sizes', 'reps', 'methods', 'staging', 'piece', 'table']);
  const sizes = numberList(flags.sizes, 'sizes', [256, 1024, 4096, 16384]).map((k) => k * KiB);
  const bad = sizes.find((s) => !Number.isInteger(s / BLOCK_BYTES));
  if (bad !== undefined) throw new UsageError(`--sizes: ${bad / KiB} KiB is not a multiple of the ${BLOCK_BYTES / KiB} KiB block`);
  const [reps] = numberList(flags.reps, 'reps', [5]);
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
    const settings: Settings = { reps: Math.max(1, Math.round(reps)), methods, stagingBuffers: staging, pieceBytes: piece, table };
    for (const size of sizes) rows.push(...(await measureSize(gpu, size, settings)));
    const series = [...new Set(rows.map((r) => `${r.direction} ${r.layout} ${r.method}`))];
    saveChart('transfer', {
      title: `GPU <-> L1 chunk moves vs memcpy (${gpu.backend}, ${table} block table)`,
      kind: 'line',
      x: sizes.map((s) => `${s / KiB} KiB`),
      xLabel: 'chunk size',
      yLabel: '× memcpy',
      series: series.map((name) => ({
        name,
        values: sizes.map((size) => {
          const r = rows.find((row) => row.chunkBytes === size && `${row.direction} ${row.layout} ${row.method}` === name);
          return r === undefined ? NaN : r.GBps / r.memcpyGBps;
        }),
      })),
    });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ backend: gpu.backend, adapter: gpu.adapterName, rows })}\n`);
    } else {
      process.stdout.write(`backend: ${gpu.backend}, adapter: ${gpu.adapterName}, block table: ${table}\n`);
      process.stdout.write(formatTable(
        ['direction', 'chunk KiB', 'layout', 'method', 'GB/s', 'memcpy GB/s', 'x memcpy'],
        rows.map((r) => [r.direction, r.chunkBytes / KiB, r.layout, r.method, r.GBps, r.memcpyGBps, r.GBps / r.memcpyGBps]),
      ));
    }
    return 0;
  } finally {
    gpu.close();
  }
}

/** The `transfer` benchmark. */
export const command: BenchCommand = {
  summary: 'GPU <-> L1 chunk store/retrieve GB/s by chunk size, layout and gather method, vs memcpy',
  usage: USAGE,
  run,
  suiteArgs: ['--reps', '3'],
};

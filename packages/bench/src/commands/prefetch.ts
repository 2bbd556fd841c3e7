/**
 * `kvtier-bench prefetch`: latency of a whole prefetch through the engine — `submitPrefetch` of a
 * prefix of chunks that sit in L2 only, the prefetch worker's lookup, plan, temporary L1
 * reservations and loads in the adapter host, until `waitPrefetch` resolves — next to plain
 * `fs.promises.readFile` of the same bytes, concurrently, in the same run. The two take turns run
 * by run, and their ratio is taken per run.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@kvtier/adapters';
import { KvCache, digestHex } from '@kvtier/core';
import { parseFlags, positiveInteger, UsageError } from '../args.ts';
import { benchKeys } from '../keys.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { quantile } from '../serve/stats.ts';
import { paired, spreadOf, type Spread } from '../spread.ts';
import { formatTable } from '../table.ts';

const MIB = 1024 * 1024;
/** A spread needs this many runs at least. */
const MIN_RUNS = 3;
/** Percentiles of the runs drawn in the chart's second panel. */
const PERCENTILES = [0, 10, 25, 50, 75, 90, 99, 100];

const USAGE = `usage: kvtier-bench prefetch [--chunks N] [--chunk-mib N] [--runs N] [--json]

Writes N chunks through the engine, waits until the store worker has put them in the fs adapter
(a temp dir under ${tmpdir()}, removed afterwards), drops them from L1, then times prefetches of
all N back into L1 (page cache warm), next to fs.promises.readFile of the same N objects.
  --chunks N      chunks per prefetch, default 16
  --chunk-mib N   chunk size in MiB, default 4
  --runs N        timed prefetches, each followed by the baseline (after 2 warm-up runs), default 30, at least ${MIN_RUNS}
  --json          print {"chunks":N,"chunkBytes":N,"runs":N,"engineMs":{"p50":x,"p99":x},"baselineMs":{"p50":x,"p99":x},
                  "engineOverBaseline":x,"spread":{"engineMs":S,"baselineMs":S,"engineOverBaseline":S}}, S = {"min":x,"median":x,"max":x}`;

/** Milliseconds of each timed run, engine and baseline, in run order. */
interface Samples {
  readonly engine: number[];
  readonly baseline: number[];
}

async function measure(chunks: number, chunkBytes: number, runs: number): Promise<Samples> {
  const dir = await mkdtemp(join(tmpdir(), 'kvtier-bench-prefetch-'));
  const cache = await KvCache.open({
    l1: { capacityBytes: 2 * chunks * chunkBytes, slotBytes: chunkBytes },
    adapters: [{ type: 'fs', baseDir: join(dir, 'l2') }],
  });
  try {
    const keys = benchKeys('bench-prefetch', chunks);
    const reserved = cache.reserveWrite(keys, chunkBytes);
    for (let i = 0; i < chunks; i++) {
      if (reserved.codes[i] !== 0) throw new Error(`reserveWrite of chunk ${i} failed with code ${reserved.codes[i]}`);
      cache.view(reserved.slots[i], chunkBytes).fill(i + 1);
    }
    cache.finishWrite(keys);
    await cache.flush({ timeoutMs: 60_000 });

    const baselineFiles = Array.from({ length: chunks }, (_, i) => join(dir, `${digestHex(keys, i)}.bin`));
    const bytes = new Uint8Array(chunkBytes).fill(7);
    await Promise.all(baselineFiles.map((f) => writeFile(f, bytes)));

    const engine: number[] = [];
    const baseline: number[] = [];
    for (let run = -2; run < runs; run++) {
      if (cache.clear() !== chunks && run === -2) throw new Error('expected every chunk to leave L1 before the first prefetch');
      const t0 = performance.now();
      const handle = cache.submitPrefetch(keys);
      const loaded = await cache.waitPrefetch(handle, { timeoutMs: 30_000 });
      const t1 = performance.now();
      if (loaded !== chunks) throw new Error(`prefetch loaded ${loaded} of ${chunks} chunks`);
      const views = cache.readPrefetched(keys);
      if (views === null || views.some((v, i) => v[0] !== i + 1 || v[chunkBytes - 1] !== i + 1)) throw new Error('prefetched bytes differ from what was written');
      cache.finishReadPrefetched(keys);

      const t2 = performance.now();
      await Promise.all(baselineFiles.map((f) => readFile(f)));
      const t3 = performance.now();
      if (run >= 0) {
        engine.push(t1 - t0);
        baseline.push(t3 - t2);
        process.stderr.write(`\rprefetch run ${run + 1}/${runs}`);
      }
    }
    process.stderr.write('\n');
    return { engine, baseline };
  } finally {
    await cache.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Spreads over the runs: each path's ms, and the engine's ms over the baseline's of the same run. */
interface Spreads {
  readonly engineMs: Spread;
  readonly baselineMs: Spread;
  readonly engineOverBaseline: Spread;
}

const p50p99 = (ms: readonly number[]) => ({ p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) });
const times = (s: Spread) => `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;

/** Two panels: the median run of each path with its spread, and every percentile of the runs. */
async function chart(chunks: number, chunkBytes: number, { engine, baseline }: Samples, spread: Spreads): Promise<void> {
  const paths = ['engine prefetch', 'readFile baseline'];
  await saveChart('prefetch', [
    {
      title: `Prefetch of ${chunks} × ${chunkBytes / MIB} MiB chunks from fs into L1: latency per run`,
      headline: `engine ${times(spread.engineOverBaseline)} the readFile baseline's latency, median (min–max) of ${engine.length} paired runs`,
      kind: 'bar', x: [`${chunks} × ${chunkBytes / MIB} MiB`], xLabel: 'prefetch', yLabel: 'ms per prefetch (median, min–max)',
      series: [
        { name: paths[0], values: [spread.engineMs.median], spreads: [spread.engineMs] },
        { name: paths[1], values: [spread.baselineMs.median], spreads: [spread.baselineMs] },
      ],
    },
    {
      title: 'The tail: latency by percentile of runs',
      headline: `p99: engine ${quantile(engine, 0.99).toFixed(1)} ms, readFile ${quantile(baseline, 0.99).toFixed(1)} ms`,
      kind: 'line', x: PERCENTILES, xLabel: 'percentile of runs', yLabel: 'ms per prefetch',
      series: [
        { name: paths[0], values: PERCENTILES.map((p) => quantile(engine, p / 100)) },
        { name: paths[1], values: PERCENTILES.map((p) => quantile(baseline, p / 100)) },
      ],
    },
  ]);
}

export const command: BenchCommand = {
  summary: 'latency of prefetching a prefix of chunks from the fs tier into L1, per run against readFile',
  usage: USAGE,
  suiteArgs: [],
  async run(argv) {
    const flags = parseFlags(argv, ['chunks', 'chunk-mib', 'runs', 'json']);
    const chunks = positiveInteger(flags.chunks, 'chunks', 16);
    const chunkBytes = positiveInteger(flags['chunk-mib'], 'chunk-mib', 4) * MIB;
    const runs = positiveInteger(flags.runs, 'runs', 30);
    if (runs < MIN_RUNS) throw new UsageError(`--runs must be at least ${MIN_RUNS} (a spread needs ${MIN_RUNS} runs), got ${runs}`);
    const samples = await measure(chunks, chunkBytes, runs);
    const spread: Spreads = {
      engineMs: spreadOf(samples.engine),
      baselineMs: spreadOf(samples.baseline),
      engineOverBaseline: spreadOf(paired(samples.engine, samples.baseline, (e, b) => e / b)),
    };
    await chart(chunks, chunkBytes, samples, spread);
    const engine = p50p99(samples.engine);
    const baseline = p50p99(samples.baseline);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ chunks, chunkBytes, runs, engineMs: engine, baselineMs: baseline, engineOverBaseline: spread.engineOverBaseline.median, spread })}\n`);
      return 0;
    }
    process.stdout.write(`prefetch of ${chunks} × ${chunkBytes / MIB} MiB chunks from fs into L1, ${runs} runs, median (min–max)\n`);
    process.stdout.write(formatTable(
      ['path', 'ms per run', 'p99 ms'],
      [['engine: submitPrefetch -> waitPrefetch', spread.engineMs, engine.p99], ['baseline: readFile × chunks, concurrent', spread.baselineMs, baseline.p99]],
    ));
    process.stdout.write(`engine / baseline, per run: ${times(spread.engineOverBaseline)}\n`);
    return 0;
  },
};

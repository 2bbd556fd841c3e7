/**
 * `kvtier-bench prefetch`: latency of a whole prefetch through the engine — `submitPrefetch` of a
 * prefix of chunks that sit in L2 only, the prefetch worker's lookup, plan, temporary L1
 * reservations and loads in the adapter host, until `waitPrefetch` resolves — next to plain
 * `fs.promises.readFile` of the same bytes, concurrently, in the same run.
 */
import { quantile } from '../serve/stats.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@kvtier/adapters';
import { KvCache, digestHex } from '@kvtier/core';
import { parseFlags, positiveInteger } from '../args.ts';
import { benchKeys } from '../keys.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { formatTable } from '../table.ts';

const MIB = 1024 * 1024;

const USAGE = `usage: kvtier-bench prefetch [--chunks N] [--chunk-mib N] [--runs N] [--json]

Writes N chunks through the engine, waits until the store worker has put them in the fs adapter
(a temp dir under ${tmpdir()}, removed afterwards), drops them from L1, then times prefetches of
all N back into L1 (page cache warm), next to fs.promises.readFile of the same N objects.
  --chunks N      chunks per prefetch, default 16
  --chunk-mib N   chunk size in MiB, default 4
  --runs N        timed prefetches (after 2 warm-up runs), default 30
  --json          print {"chunks":N,"chunkBytes":N,"runs":N,"engineMs":{"p50":x,"p99":x},"baselineMs":{"p50":x,"p99":x}}`;

interface Latencies {
  p50: number;
  p99: number;
}

function percentiles(samples: number[]): Latencies {
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

async function measure(chunks: number, chunkBytes: number, runs: number): Promise<{ engine: Latencies; baseline: Latencies }> {
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
    return { engine: percentiles(engine), baseline: percentiles(baseline) };
  } finally {
    await cache.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const command: BenchCommand = {
  summary: 'latency p50/p99 of prefetching a prefix of chunks from the fs tier into L1',
  usage: USAGE,
  suiteArgs: [],
  async run(argv) {
    const flags = parseFlags(argv, ['chunks', 'chunk-mib', 'runs', 'json']);
    const chunks = positiveInteger(flags.chunks, 'chunks', 16);
    const chunkBytes = positiveInteger(flags['chunk-mib'], 'chunk-mib', 4) * MIB;
    const runs = positiveInteger(flags.runs, 'runs', 30);
    const { engine, baseline } = await measure(chunks, chunkBytes, runs);
    saveChart('prefetch', {
      title: `Prefetch of ${chunks} × ${chunkBytes / MIB} MiB chunks from fs into L1`,
      kind: 'bar',
      x: ['p50', 'p99'],
      xLabel: 'percentile',
      yLabel: 'ms',
      series: [
        { name: 'engine prefetch', values: [engine.p50, engine.p99] },
        { name: 'readFile baseline', values: [baseline.p50, baseline.p99] },
      ],
    });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ chunks, chunkBytes, runs, engineMs: engine, baselineMs: baseline })}\n`);
      return 0;
    }
    process.stdout.write(`prefetch of ${chunks} × ${chunkBytes / MIB} MiB chunks from fs into L1, ${runs} runs\n`);
    process.stdout.write(formatTable(
      ['path', 'p50 ms', 'p99 ms'],
      [['engine: submitPrefetch -> waitPrefetch', engine.p50, engine.p99], ['baseline: readFile × chunks, concurrent', baseline.p50, baseline.p99]],
    ));
    return 0;
  },
};

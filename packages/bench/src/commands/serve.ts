/**
 * `kvtier-bench serve`, the main job: the reference engine (a WGSL decoder on the Dawn device)
 * serves requests through kvtier — GPU tier, L1, L2 — and, interleaved on the same device, the
 * same requests recomputed in full. It reports TTFT both ways, chunk hits per tier next to an
 * infinite cache's bound, KV bytes moved, and checks every request's logits bit for bit.
 */
import { basename } from 'node:path';
import { asUsage, oneOf, parseFlags, positiveInteger, UsageError, type Flags } from '../args.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { spreadOf } from '../spread.ts';
import { formatTable } from '../table.ts';
import { DEFAULT_TRACE, loadTrace } from '../trace.ts';
import { MODEL_DEFAULTS, modelShape, type ModelOptions } from '../engine/model.ts';
import { openRig, SERVE_ADAPTERS, type Rig, type RigOptions } from '../serve/rig.ts';
import { LONG_DOC_PHASES, runLongDoc, runTrace, type RequestRecord } from '../serve/scenarios.ts';
import { summarize, quantile, type Summary } from '../serve/stats.ts';
import { infiniteCacheHits, sampleWorkload } from '../serve/workload.ts';

const MiB = 1024 * 1024;
const SCENARIOS = ['trace', 'long-doc-qa'] as const;

const USAGE = `kvtier-bench serve [--scenario trace|long-doc-qa] [--json] [flags]

The main job. A small llama-style decoder in WGSL serves requests through kvtier: each request's
chunks come from the engine's GPU tier, then L1, then L2 (GpuKvConnector.retrieve); only the tokens
past the restored prefix are computed; TTFT ends at the next-token logits; the new chunks are then
stored (L1 at once, L2 in the background). The baseline recomputes the same request in full on the
same device, interleaved; every request's logits must be bit-identical (else exit code 1).

trace scenario (default): a prefix-group sample of a request trace
  --trace FILE          JSONL with "hash_ids" per request (default: the bundled Mooncake trace)
  --keep K              keep a request when a seeded hash of its first block id is 0 mod K (default 20)
  --requests N          serve at most N sampled requests (default: all)
  --block-tokens N      tokens each trace block becomes (default 32)
  --max-blocks N        trace blocks per prompt at most (default 16)
  --long                longer prompts: --max-blocks 32
  --seed N              seed of the sampling hash and the tokens (default 7)
long-doc-qa scenario: documents asked one question per phase (cold, warm-l1, warm-l2, warm-gpu)
  --documents N         documents (default 3)
  --document-tokens N   tokens per document (default 2048)
  --question-tokens N   tokens per question (default 32)
tiers
  --chunk-tokens N      tokens per kvtier chunk (default 64; 256 KiB of KV with the default model)
  --gpu-chunks N        chunks the engine keeps on the device (default 32; 0 disables the GPU tier)
  --l1-slots N          L1 slots, one chunk each (default 96; long-doc-qa: 160)
  --l2-mib N            L2 capacity in MiB (default 512)
  --adapter fs|mock     the L2 adapter (default fs, in a temporary directory)
model (seeded random weights)
  --layers N --d-model N --heads N --kv-heads N --head-dim N --ffn N --vocab N --model-block-tokens N
  --layout block-contiguous|per-layer   the paged cache's device layout (default block-contiguous)
  --model-seed N        seed of the weights (default 1)
  --json                print one JSON object instead of the tables
  --metrics-port N      serve the cache's GET /metrics (Prometheus text) and GET /status (JSON) on
                        127.0.0.1:N while the run lasts (0: a free port); the URL goes to stderr
Writes the chart to bench-results/serve.svg (serve-long-doc-qa.svg for that scenario), with its data
(.json) and vega-lite spec (.vl.json) beside it.`;

const FLAGS = [
  'scenario', 'json', 'trace', 'keep', 'requests', 'block-tokens', 'max-blocks', 'long', 'seed',
  'documents', 'document-tokens', 'question-tokens',
  'chunk-tokens', 'gpu-chunks', 'l1-slots', 'l2-mib', 'adapter',
  'layers', 'd-model', 'heads', 'kv-heads', 'head-dim', 'ffn', 'vocab', 'model-block-tokens', 'layout', 'model-seed',
  'metrics-port',
];

/** `--metrics-port N`: the cache's operations endpoint while the run lasts (closing the rig closes it). */
async function serveMetrics(rig: Rig, flags: Flags): Promise<void> {
  if (flags['metrics-port'] === undefined) return;
  const server = await rig.cache.serve({ port: count(flags['metrics-port'], 'metrics-port', 0), host: '127.0.0.1' });
  process.stderr.write(`metrics: ${server.url}/metrics (status: ${server.url}/status)\n`);
}

/** A non-negative integer flag (0 allowed, e.g. `--gpu-chunks 0`). */
function count(value: string | true | undefined, flag: string, fallback: number): number {
  if (value === '0') return 0;
  return positiveInteger(value, flag, fallback);
}

function modelOptions(flags: Flags): ModelOptions {
  const d = MODEL_DEFAULTS;
  return {
    layers: positiveInteger(flags.layers, 'layers', d.layers),
    dModel: positiveInteger(flags['d-model'], 'd-model', d.dModel),
    heads: positiveInteger(flags.heads, 'heads', d.heads),
    kvHeads: positiveInteger(flags['kv-heads'], 'kv-heads', d.kvHeads),
    headDim: positiveInteger(flags['head-dim'], 'head-dim', d.headDim),
    ffn: positiveInteger(flags.ffn, 'ffn', d.ffn),
    vocab: positiveInteger(flags.vocab, 'vocab', d.vocab),
    blockTokens: positiveInteger(flags['model-block-tokens'], 'model-block-tokens', d.blockTokens),
    layout: oneOf(flags.layout, 'layout', ['block-contiguous', 'per-layer'] as const),
    seed: positiveInteger(flags['model-seed'], 'model-seed', d.seed),
  };
}

/** Hits of one group of requests, in chunks. */
interface Hits {
  readonly total: number;
  readonly gpu: number;
  readonly l1: number;
  readonly l2: number;
  readonly miss: number;
}

function hitsOf(records: readonly RequestRecord[]): Hits {
  const sum = (f: (r: RequestRecord) => number) => records.reduce((a, r) => a + f(r), 0);
  const gpu = sum((r) => r.gpuHits);
  const l1 = sum((r) => r.l1Hits);
  const l2 = sum((r) => r.l2Hits);
  const total = sum((r) => r.chunks);
  return { total, gpu, l1, l2, miss: total - gpu - l1 - l2 };
}

const isHit = (r: RequestRecord) => r.gpuHits + r.l1Hits + r.l2Hits > 0;
const speedups = (records: readonly RequestRecord[]) => records.map((r) => r.baselineMs / r.ttftMs);

/** A row of the TTFT table: a group of requests, both paths' summaries and the ratio of medians. */
function ttftRow(label: string, records: readonly RequestRecord[]): (string | number)[] {
  const base = summarize(records.map((r) => r.baselineMs));
  const kv = summarize(records.map((r) => r.ttftMs));
  return [label, records.length, base.p50, base.p90, base.mean, kv.p50, kv.p90, kv.mean, quantile(speedups(records), 0.5)];
}

const TTFT_HEADERS = ['requests', 'n', 'base p50', 'base p90', 'base mean', 'kvtier p50', 'kvtier p90', 'kvtier mean', 'speed-up p50'];

/** Requests whose prompts are `from`..`to` tokens long. */
interface Bucket {
  readonly from: number;
  readonly to: number;
  readonly records: readonly RequestRecord[];
}

/** Prompt-length buckets of `width` tokens, each non-empty one in length order. */
function byLength(records: readonly RequestRecord[], width: number): Bucket[] {
  const buckets = new Map<number, RequestRecord[]>();
  for (const r of records) {
    const b = Math.ceil(r.promptTokens / width);
    buckets.set(b, [...(buckets.get(b) ?? []), r]);
  }
  return [...buckets.keys()].sort((a, b) => a - b).map((b) => ({ from: (b - 1) * width + 1, to: b * width, records: buckets.get(b)! }));
}

/** `12.3×`: a speed-up as the charts print it (`-` for none, e.g. no request with a hit). */
const times = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)}×` : '-');

/**
 * The trace scenario's figure, three panels: the speed-up by prompt length (does a hit pay, and
 * more for longer prompts?), both paths' TTFT by prompt length, and chunk hits per tier against an
 * infinite cache. Error bars span the bucket's requests (min–max): one run, each request once.
 */
async function traceChart(buckets: readonly Bucket[], records: readonly RequestRecord[], hits: Hits, bound: number): Promise<void> {
  const x = buckets.map((b) => b.to);
  const median = (rs: readonly RequestRecord[], f: (r: RequestRecord) => number) => quantile(rs.map(f), 0.5);
  const groups = [['requests with a hit', isHit], ['requests without a hit', (r: RequestRecord) => !isHit(r)]] as const;
  const speedupHeadline = groups.map(([name, keep]) => {
    const rs = records.filter(keep);
    return `${times(quantile(speedups(rs), 0.5))} on ${rs.length} ${name}`;
  }).join(', ');
  const served = hits.gpu + hits.l1 + hits.l2;
  await saveChart('serve', [
    {
      title: 'TTFT speed-up over a full recompute, by prompt length', headline: `median ${speedupHeadline}`,
      kind: 'line', x, xLabel: 'prompt length (tokens, bucket upper end)', yLabel: 'full recompute TTFT / kvtier TTFT (log)', yLog: true,
      series: groups.map(([name, keep]) => {
        const per = buckets.map((b) => spreadOf(speedups(b.records.filter(keep))));
        return { name, values: per.map((s) => s.median), spreads: per };
      }),
    },
    {
      title: 'TTFT by prompt length (median of the bucket)', headline: `${records.length} requests, each served both ways on one device`,
      kind: 'line', x, xLabel: 'prompt length (tokens, bucket upper end)', yLabel: 'TTFT ms',
      series: [
        { name: 'full recompute', values: buckets.map((b) => median(b.records, (r) => r.baselineMs)) },
        { name: 'kvtier, with a hit', values: buckets.map((b) => median(b.records.filter(isHit), (r) => r.ttftMs)) },
        { name: 'kvtier, without a hit', values: buckets.map((b) => median(b.records.filter((r) => !isHit(r)), (r) => r.ttftMs)) },
      ],
    },
    {
      title: 'Chunk hits per tier against an infinite cache',
      headline: `hits / bound ${bound === 0 ? '-' : (served / bound).toFixed(3)}: ${pct(served, hits.total)} of ${hits.total} chunks hit, ${pct(bound, hits.total)} could`,
      kind: 'bar', x: ['GPU', 'L1', 'L2', 'miss', 'bound'], xLabel: 'where a chunk came from', yLabel: 'chunks',
      series: [{ name: 'chunks', values: [hits.gpu, hits.l1, hits.l2, hits.miss, bound] }],
    },
  ]);
}

function pct(n: number, of: number): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`;
}

function mismatchMessage(records: readonly RequestRecord[]): string | undefined {
  const bad = records.filter((r) => r.differing > 0);
  if (bad.length === 0) return undefined;
  const first = bad.slice(0, 5).map((r) => `${r.name}: ${r.differing} of the logits differ`).join('; ');
  return `${bad.length} of ${records.length} requests are not bit-identical to a full recompute: ${first}${bad.length > 5 ? '; …' : ''}`;
}

function bytesOf(records: readonly RequestRecord[]) {
  return { toHost: records.reduce((a, r) => a + r.bytesToHost, 0), toDevice: records.reduce((a, r) => a + r.bytesToDevice, 0) };
}

function describeRig(rig: Rig, opts: RigOptions): string {
  const s = rig.shape;
  return `model: ${s.layers} layers, d_model ${s.dModel}, ${s.heads} heads × ${s.headDim} (${s.kvHeads} KV heads), FFN ${s.ffn}, vocab ${s.vocab}, f16 KV, ${s.blockTokens}-token blocks\n`
    + `tiers: chunk ${opts.chunkTokens} tokens (${rig.chunkBytes / 1024} KiB), GPU ${opts.gpuChunks} chunks, L1 ${opts.l1Slots} slots (${(opts.l1Slots * rig.chunkBytes / MiB).toFixed(0)} MiB), L2 ${opts.adapter} ${opts.l2Bytes / MiB} MiB\n`
    + `device: ${rig.gpu.backend} / ${rig.gpu.adapterName}\n`;
}

async function runTraceScenario(flags: Flags, rigOpts: Omit<RigOptions, 'maxPromptTokens'>): Promise<number> {
  const tracePath = typeof flags.trace === 'string' ? flags.trace : DEFAULT_TRACE;
  const tokensPerBlock = positiveInteger(flags['block-tokens'], 'block-tokens', 32);
  const maxBlocks = positiveInteger(flags['max-blocks'], 'max-blocks', flags.long ? 32 : 16);
  const keepOneIn = positiveInteger(flags.keep, 'keep', 20);
  const shape = modelShape(rigOpts.model);
  const requests = sampleWorkload(loadTrace(tracePath), {
    keepOneIn, tokensPerBlock, maxBlocks, vocab: shape.vocab,
    maxRequests: positiveInteger(flags.requests, 'requests', Number.MAX_SAFE_INTEGER),
    seed: positiveInteger(flags.seed, 'seed', 7),
  });
  if (requests.length === 0) throw new UsageError(`no request of ${tracePath} is kept with --keep ${keepOneIn}`);
  const maxPromptTokens = Math.max(...requests.map((r) => r.tokens.length));
  const started = performance.now();
  const rig = await openRig({ ...rigOpts, maxPromptTokens });
  let records: RequestRecord[];
  let bound: number;
  try {
    await serveMetrics(rig, flags);
    if (!flags.json) process.stdout.write(describeRig(rig, { ...rigOpts, maxPromptTokens }));
    bound = infiniteCacheHits(requests.map((r) => rig.server.keys(r.tokens).names));
    records = await runTrace(rig, requests);
  } finally {
    await rig.close();
  }
  const wallMs = performance.now() - started;
  const hits = hitsOf(records);
  const hitRecords = records.filter(isHit);
  const missRecords = records.filter((r) => !isHit(r));
  const identical = records.filter((r) => r.differing === 0).length;
  const hitSpeedupMedian = quantile(speedups(hitRecords), 0.5);
  const bytes = bytesOf(records);
  const summaryOf = (f: (r: RequestRecord) => number): Summary => summarize(records.map(f));
  const width = maxPromptTokens > 512 ? 256 : 128;
  const buckets = byLength(records, width);
  await traceChart(buckets, records, hits, bound);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      requests: records.length, bitIdentical: identical, hitRequests: hitRecords.length,
      ttftMs: { baseline: summaryOf((r) => r.baselineMs), kvtier: summaryOf((r) => r.ttftMs) },
      hitSpeedupMedian,
      chunks: { ...hits, bound },
      bytes, wallMs: Math.round(wallMs),
    })}\n`);
  } else {
    const served = hits.gpu + hits.l1 + hits.l2;
    process.stdout.write(`trace: ${basename(tracePath)}, 1 in ${keepOneIn} prefix groups: ${records.length} requests, prompts ≤ ${maxBlocks} blocks × ${tokensPerBlock} tokens\n\n`);
    process.stdout.write(formatTable(TTFT_HEADERS, [
      ttftRow('all', records), ttftRow('with a hit', hitRecords), ttftRow('without a hit', missRecords),
      ...buckets.map((b) => ttftRow(`${b.from}-${b.to} tokens`, b.records)),
    ]));
    process.stdout.write(`\n${formatTable(['chunks', 'count', 'share'], [
      ['total', hits.total, '100%'], ['GPU tier', hits.gpu, pct(hits.gpu, hits.total)], ['L1', hits.l1, pct(hits.l1, hits.total)],
      ['L2', hits.l2, pct(hits.l2, hits.total)], ['miss', hits.miss, pct(hits.miss, hits.total)],
      ['bound (infinite cache)', bound, pct(bound, hits.total)],
    ])}`);
    process.stdout.write(`\nhits (GPU + L1 + L2) / bound: ${bound === 0 ? '-' : (served / bound).toFixed(3)}\n`);
    process.stdout.write(`median TTFT speed-up on requests with a hit: ${hitSpeedupMedian.toFixed(2)}x; requests without a hit: ${quantile(missRecords.map((r) => r.ttftMs / r.baselineMs), 0.5).toFixed(3)}x the baseline's TTFT (median)\n`);
    process.stdout.write(`KV bytes: ${(bytes.toHost / MiB).toFixed(1)} MiB device -> host, ${(bytes.toDevice / MiB).toFixed(1)} MiB host -> device\n`);
    process.stdout.write(`wall time: ${(wallMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`${identical}/${records.length} requests bit-identical\n`);
  }
  return finish(records);
}

/**
 * The long-doc-qa figure: both paths' TTFT per phase, error bars over the documents (min–max), and
 * the speed-up of each phase as the headline.
 */
async function longDocChart(documentTokens: number, phases: readonly (readonly [string, readonly RequestRecord[]])[]): Promise<void> {
  const ttft = (f: (r: RequestRecord) => number) => phases.map(([, rs]) => spreadOf(rs.map(f)));
  const baseline = ttft((r) => r.baselineMs);
  const kvtier = ttft((r) => r.ttftMs);
  await saveChart('serve-long-doc-qa', {
    title: `Long-document QA: TTFT of ${documentTokens}-token documents per phase`,
    headline: `speed-up (median per request): ${phases.map(([phase, rs]) => `${phase} ${times(quantile(speedups(rs), 0.5))}`).join(', ')}`,
    kind: 'bar', x: phases.map(([phase]) => phase), xLabel: 'phase (where the document\'s KV is)', yLabel: 'TTFT ms (median, min–max over documents)',
    series: [
      { name: 'full recompute', values: baseline.map((s) => s.median), spreads: baseline },
      { name: 'kvtier', values: kvtier.map((s) => s.median), spreads: kvtier },
    ],
  });
}

async function runLongDocScenario(flags: Flags, rigOpts: Omit<RigOptions, 'maxPromptTokens'>): Promise<number> {
  const shape = modelShape(rigOpts.model);
  const documentTokens = positiveInteger(flags['document-tokens'], 'document-tokens', 2048);
  const questionTokens = positiveInteger(flags['question-tokens'], 'question-tokens', 32);
  const documents = positiveInteger(flags.documents, 'documents', 3);
  const maxPromptTokens = documentTokens + questionTokens;
  const started = performance.now();
  const rig = await openRig({ ...rigOpts, maxPromptTokens });
  let records: RequestRecord[];
  try {
    await serveMetrics(rig, flags);
    if (!flags.json) process.stdout.write(describeRig(rig, { ...rigOpts, maxPromptTokens }));
    records = await runLongDoc(rig, { documents, documentTokens, questionTokens, vocab: shape.vocab, seed: positiveInteger(flags.seed, 'seed', 7) });
  } finally {
    await rig.close();
  }
  const wallMs = performance.now() - started;
  const phases = LONG_DOC_PHASES.map((phase) => [phase, records.filter((r) => r.phase === phase)] as const);
  const identical = records.filter((r) => r.differing === 0).length;
  await longDocChart(documentTokens, phases);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      scenario: 'long-doc-qa', requests: records.length, bitIdentical: identical,
      phases: Object.fromEntries(phases.map(([phase, rs]) => [phase, {
        baseline: summarize(rs.map((r) => r.baselineMs)), kvtier: summarize(rs.map((r) => r.ttftMs)), chunks: hitsOf(rs),
      }])),
      bytes: bytesOf(records), wallMs: Math.round(wallMs),
    })}\n`);
  } else {
    process.stdout.write(`long-doc-qa: ${documents} documents of ${documentTokens} tokens, one ${questionTokens}-token question per phase\n\n`);
    process.stdout.write(formatTable([...TTFT_HEADERS, 'GPU', 'L1', 'L2', 'miss'], phases.map(([phase, rs]) => {
      const h = hitsOf(rs);
      return [...ttftRow(phase, rs), h.gpu, h.l1, h.l2, h.miss];
    })));
    process.stdout.write(`\nwall time: ${(wallMs / 1000).toFixed(1)} s\n${identical}/${records.length} requests bit-identical\n`);
  }
  return finish(records);
}

/** Exit code 1, naming the requests, when any logits differ. */
function finish(records: readonly RequestRecord[]): number {
  const mismatch = mismatchMessage(records);
  if (mismatch === undefined) return 0;
  process.stderr.write(`kvtier-bench serve: ${mismatch}\n`);
  return 1;
}

async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  const scenario = oneOf(flags.scenario, 'scenario', SCENARIOS);
  const model = modelOptions(flags);
  const { blockTokens } = asUsage(() => modelShape(model));
  const chunkTokens = positiveInteger(flags['chunk-tokens'], 'chunk-tokens', 64);
  if (chunkTokens % blockTokens !== 0) throw new UsageError(`--chunk-tokens must be a positive multiple of the block size (${blockTokens}), got ${chunkTokens}`);
  const rigOpts = {
    model,
    chunkTokens,
    gpuChunks: count(flags['gpu-chunks'], 'gpu-chunks', 32),
    l1Slots: positiveInteger(flags['l1-slots'], 'l1-slots', scenario === 'trace' ? 96 : 160),
    l2Bytes: positiveInteger(flags['l2-mib'], 'l2-mib', 512) * MiB,
    adapter: oneOf(flags.adapter, 'adapter', SERVE_ADAPTERS),
  };
  return scenario === 'trace' ? runTraceScenario(flags, rigOpts) : runLongDocScenario(flags, rigOpts);
}

/** The `serve` command. */
export const command: BenchCommand = {
  summary: 'the main job: a WGSL engine serves a trace through kvtier; TTFT, hits per tier, bit-identical logits',
  usage: USAGE,
  run,
  suiteArgs: [],
};

/**
 * `kvtier-bench policies`: replays a request trace through every eviction policy (the real
 * classes of @kvtier/core) at several cache sizes and reports prefix hit ratios next to Belady's
 * offline choice on the same replay, plus an SVG chart in bench-results/.
 */
import { relative } from 'node:path';
import { createEvictionPolicy } from '@kvtier/core/authoring';
import { replayBelady, replayPolicy, type ChunkTrace } from '@kvtier/core/testing';
import { numberList, parseFlags } from '../args.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { formatTable } from '../table.ts';
import { DEFAULT_TRACE, loadTrace } from '../trace.ts';

const DEFAULT_CAPACITIES = [2000, 5000, 10000];
const POLICIES = ['lru', 'arc', 's3fifo', 'default'] as const;
const COLUMNS = [...POLICIES, 'belady'] as const;
/** The policy `default` currently resolves to. */
const DEFAULT_IS = createEvictionPolicy('default').name;

type Row = Record<(typeof COLUMNS)[number], number>;

const USAGE = `usage: kvtier-bench policies [--trace FILE] [--capacity N,N,...] [--json]

Replays a JSONL trace (one request per line, its "hash_ids" = chunk keys in prefix order) through
the lru, arc, s3fifo and default eviction policies and Belady's offline optimum, with a cache of
N chunks. A request's hits are its longest run of leading chunks already cached.
  --trace FILE      default: ${relative(process.cwd(), DEFAULT_TRACE) || DEFAULT_TRACE}
  --capacity LIST   cache sizes in chunks, default ${DEFAULT_CAPACITIES.join(',')}
  --json            print {"capacities":[...],"results":{"<capacity>":{"lru":x,...,"belady":x}}}
Writes the chart to bench-results/policies.svg.`;

/** Hit ratio of each policy and of Belady at `capacity` chunks. */
function measure(trace: ChunkTrace, capacity: number): Row {
  const row = {} as Row;
  for (const name of POLICIES) row[name] = replayPolicy(trace, createEvictionPolicy<number>(name, { capacity }), capacity).hitRatio;
  row.belady = replayBelady(trace, capacity).hitRatio;
  return row;
}

function writeChart(capacities: number[], rows: Row[], tracePath: string): void {
  saveChart('policies', {
    title: `Prefix hit ratio by eviction policy (${tracePath.split('/').pop()})`,
    kind: 'line',
    x: capacities,
    xLabel: 'cache capacity (chunks)',
    yLabel: 'hit ratio',
    series: COLUMNS.map((name) => ({ name: name === 'default' ? `default (${DEFAULT_IS})` : name, values: rows.map((r) => r[name]) })),
  });
}

async function run(argv: string[]): Promise<number> {
  let tracePath: string;
  let capacities: number[];
  let trace: ChunkTrace;
  let json: boolean;
  try {
    const flags = parseFlags(argv, ['trace', 'capacity', 'json']);
    if (flags.trace === true) throw new Error('--trace needs a file');
    tracePath = flags.trace ?? DEFAULT_TRACE;
    capacities = numberList(flags.capacity, 'capacity', DEFAULT_CAPACITIES);
    if (!capacities.every(Number.isSafeInteger)) throw new Error(`--capacity: chunk counts must be integers`);
    json = flags.json === true;
    trace = loadTrace(tracePath);
  } catch (err) {
    process.stderr.write(`kvtier-bench policies: ${(err as Error).message}\n`);
    return 2;
  }

  const rows = capacities.map((c) => measure(trace, c));
  writeChart(capacities, rows, tracePath);
  if (json) {
    const results = Object.fromEntries(capacities.map((c, i) => [String(c), rows[i]]));
    process.stdout.write(`${JSON.stringify({ capacities, results })}\n`);
    return 0;
  }
  const references = trace.reduce((n, keys) => n + keys.length, 0);
  const unbounded = replayPolicy(trace, createEvictionPolicy<number>('noop'), Infinity);
  process.stdout.write(
    `trace ${tracePath}: ${trace.length} requests, ${references} chunk references, ` +
      `infinite cache hits ${(unbounded.hitRatio * 100).toFixed(1)}%\n` +
      `hit ratio = prefix hits / chunk references; default = ${DEFAULT_IS}; belady = farthest next use on the same replay\n\n`,
  );
  process.stdout.write(formatTable(
    ['capacity', ...COLUMNS, 'default/belady'],
    // Fixed decimals: the policies differ in the third decimal, which three significant figures hide.
    rows.map((r, i) => [capacities[i], ...COLUMNS.map((name) => r[name].toFixed(4)), (r.default / r.belady).toFixed(3)]),
  ));
  return 0;
}

export const command: BenchCommand = {
  summary: 'eviction policies (lru, arc, s3fifo, default) vs Belady on a request trace',
  usage: USAGE,
  run,
  suiteArgs: ['--capacity', DEFAULT_CAPACITIES.join(',')],
};

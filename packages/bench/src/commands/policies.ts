/**
 * `kvtier-bench policies`: replays a request trace (a JSONL file, or a seeded generator) through
 * every eviction policy (the real classes of @kvtier/core) at several cache sizes and reports, in
 * one run: prefix hit ratios next to Belady's offline choice on the same replay, each policy's
 * fraction of Belady, the cost of a policy event next to LRU's (median, min and max of 3 replays), the sampled (SHARDS-style) curve of
 * each policy with its largest error against the exact one, and the default's sizing advice. The
 * exact curves are charted in bench-results/policies.svg.
 */
import { relative } from 'node:path';
import { AdaptivePolicy, createEvictionPolicy, sizingAdvice, type EvictionPolicy, type PrefixInfo } from '@kvtier/core/authoring';
import { ForwardingPolicy, TRACE_GENERATORS, replayBelady, replayPolicy, replaySampled, type ChunkTrace } from '@kvtier/core/testing';
import { numberList, parseFlags, positiveInteger } from '../args.ts';
import type { BenchCommand } from '../command.ts';
import { saveChart } from '../results.ts';
import { paired, spreadOf, type Spread } from '../spread.ts';
import { formatTable } from '../table.ts';
import { DEFAULT_TRACE, loadTrace } from '../trace.ts';

const DEFAULT_CAPACITIES = [1000, 2000, 5000, 10000, 20000];
/** The policies replayed; `default` is always one of them, and its columns repeat that policy's. */
const REPLAYED = ['lru', 'arc', 's3fifo', 'tree_lru', 'tree_arc', 'tree_s3fifo', 'adaptive'] as const;
const POLICIES = [...REPLAYED, 'default'] as const;
const CLASSICS = ['lru', 'arc', 's3fifo'] as const;
/** The policy `default` currently resolves to. */
const DEFAULT_IS = defaultPolicy();
const GENERATED = 'gen:';
/** Timed replays per policy and capacity (after one untimed warm-up): ns per event is their spread. */
const REPS = 3;

type Name = (typeof POLICIES)[number];
type Replayed = (typeof REPLAYED)[number];

function defaultPolicy(): Replayed {
  const name = createEvictionPolicy('default').name;
  const replayed = REPLAYED.find((n) => n === name);
  if (replayed === undefined) throw new Error(`the default eviction policy '${name}' is not one of the replayed ${REPLAYED.join(', ')}`);
  return replayed;
}

/** `values` for every replayed policy, with `default` taking its policy's value instead of a replay of its own. */
function withDefault<T>(values: Record<Replayed, T>): Record<Name, T> {
  return { ...values, default: values[DEFAULT_IS] };
}

/** One capacity's results. */
interface Row {
  readonly capacity: number;
  readonly hit: Record<Name, number>;
  readonly belady: number;
  /** Nanoseconds per policy event (one key handed to or returned by the policy), over {@link REPS} replays. */
  readonly ns: Record<Name, Spread>;
  /** The same as a multiple of LRU's, paired per repetition. */
  readonly nsVsLru: Record<Name, Spread>;
  /** What an empty timed call read (the clock reads), subtracted from every timed call. */
  readonly clockNs: number;
  readonly sampled: Record<Name, number>;
  /** The same with shallow chunks (depth < 4) always tracked. */
  readonly shallow: Record<Name, number>;
}

const USAGE = `usage: kvtier-bench policies [--trace FILE|gen:NAME [--seed N]] [--capacity N,N,...] [--json]

Replays a request trace through the ${POLICIES.join(', ')} eviction policies and Belady's
offline optimum with a cache of N chunks. A request's hits are its longest run of leading chunks
already cached. Prints hit ratios, fractions of Belady, ns per policy event, the sampled
(miniature-simulation) estimate of each curve with its largest error, and sizing advice.
  --trace FILE      JSONL, one request per line, "hash_ids" = chunk keys in prefix order;
                    default: ${relative(process.cwd(), DEFAULT_TRACE) || DEFAULT_TRACE}
  --trace gen:NAME  a seeded generated trace: ${Object.keys(TRACE_GENERATORS).join(', ')}
  --seed N          the generator's seed (a held-out trace of the same shape), default 1
  --capacity LIST   cache sizes in chunks, default ${DEFAULT_CAPACITIES.join(',')}
  --json            print {"capacities":[...],"results":{"<capacity>":{"hit":{...},"belady":x,"ns":{...},"sampled":{...},"shallow":{...},
                    "spread":{"ns":{"<policy>":{min,median,max}},"nsVsLru":{...}}}}} (ns: the median of ${REPS} replays)
Writes the chart to bench-results/policies.svg.`;

/** Nanoseconds `call` takes, read from the monotonic clock on either side of it. */
function timeCall(call: () => void): number {
  const start = process.hrtime.bigint();
  call();
  return Number(process.hrtime.bigint() - start);
}

/**
 * What {@link timeCall} reads for an empty call, median of many: the clock reads themselves. At
 * ~90 ns per call against a few tens of ns per event for LRU, left in it would compress every
 * ratio to LRU, so each timed call's figure is net of it.
 */
function clockCost(): number {
  const samples = Array.from({ length: 20_001 }, () => timeCall(() => {}));
  return samples.sort((a, b) => a - b)[10_000];
}

/** A policy that adds the time spent in its calls, net of the clock reads, and the keys they handle (the events). */
class TimedPolicy<K> extends ForwardingPolicy<K> {
  nanoseconds = 0;
  events = 0;
  readonly #clock: number;

  /** @param clock - what an empty timed call reads, subtracted from each call */
  constructor(policy: EvictionPolicy<K>, clock: number) {
    super(policy);
    this.#clock = clock;
  }

  override created(keys: readonly K[], tree?: PrefixInfo<K>): void {
    this.#time(keys.length, () => super.created(keys, tree));
  }

  override touched(keys: readonly K[]): void {
    this.#time(keys.length, () => super.touched(keys));
  }

  override removed(keys: readonly K[]): void {
    this.#time(keys.length, () => super.removed(keys));
  }

  override victims(ratio: number, eligible?: (key: K) => boolean): K[] {
    let out: K[] = [];
    this.#time(0, () => (out = super.victims(ratio, eligible)));
    this.events += out.length;
    return out;
  }

  #time(events: number, call: () => void): void {
    this.nanoseconds += Math.max(0, timeCall(call) - this.#clock);
    this.events += events;
  }
}

/** One replay of `name` through a timed policy: its hit ratio and ns per policy event. */
function timedReplay(trace: ChunkTrace, name: Replayed, capacity: number, clock: number): { hitRatio: number; ns: number } {
  const timed = new TimedPolicy(createEvictionPolicy<number>(name, { capacity }), clock);
  const { hitRatio } = replayPolicy(trace, timed, capacity);
  return { hitRatio, ns: timed.nanoseconds / Math.max(1, timed.events) };
}

function measure(trace: ChunkTrace, capacity: number): Row {
  const hit = {} as Record<Replayed, number>;
  const sampled = {} as Record<Replayed, number>;
  const shallow = {} as Record<Replayed, number>;
  const samples = {} as Record<Replayed, number[]>;
  const clock = clockCost();
  for (const name of REPLAYED) {
    hit[name] = timedReplay(trace, name, capacity, clock).hitRatio;
    samples[name] = [];
    sampled[name] = replaySampled(trace, name, capacity).hitRatio;
    shallow[name] = replaySampled(trace, name, capacity, { shallow: true }).hitRatio;
  }
  // Repetitions in turns, so that a burst of load on the machine hits every policy alike.
  for (let rep = 0; rep < REPS; rep++) for (const name of REPLAYED) samples[name].push(timedReplay(trace, name, capacity, clock).ns);
  const ns = {} as Record<Replayed, Spread>;
  const nsVsLru = {} as Record<Replayed, Spread>;
  for (const name of REPLAYED) {
    ns[name] = spreadOf(samples[name]);
    nsVsLru[name] = spreadOf(paired(samples[name], samples.lru, (a, b) => a / b));
  }
  return {
    capacity, clockNs: clock, hit: withDefault(hit), belady: replayBelady(trace, capacity).hitRatio, ns: withDefault(ns), nsVsLru: withDefault(nsVsLru),
    sampled: withDefault(sampled), shallow: withDefault(shallow),
  };
}

function loadNamed(name: string, seed: number | undefined): ChunkTrace {
  if (!name.startsWith(GENERATED)) {
    if (seed !== undefined) throw new Error(`--seed applies to generated traces (--trace gen:NAME), not to ${name}`);
    return loadTrace(name);
  }
  const generate = TRACE_GENERATORS[name.slice(GENERATED.length)];
  if (generate === undefined) throw new Error(`--trace ${name}: no such generator (known: ${Object.keys(TRACE_GENERATORS).map((g) => GENERATED + g).join(', ')})`);
  return generate({ seed });
}

function label(name: Name): string {
  return name === 'default' ? `default (${DEFAULT_IS})` : name;
}

/** Two panels: every policy's exact curve against Belady's, and the default's sampled estimate against its exact curve. */
async function writeChart(rows: readonly Row[], traceName: string): Promise<void> {
  const x = rows.map((r) => r.capacity);
  const gaps = rows.map((r) => r.hit.adaptive - Math.max(...CLASSICS.map((n) => r.hit[n])));
  const error = Math.max(...rows.map((r) => Math.abs(r.sampled.default - r.hit.default)));
  const last = rows[rows.length - 1];
  await saveChart('policies', [
    {
      title: `Prefix hit ratio by eviction policy (${traceName.split('/').pop()})`,
      headline: `adaptive − best classic: worst ${gaps.length === 0 ? 'n/a' : Math.min(...gaps).toFixed(4)}; default (${DEFAULT_IS}) ${last === undefined ? 'n/a' : `${(100 * last.hit.default / last.belady).toFixed(0)}% of Belady at ${last.capacity}`}`,
      kind: 'line',
      x,
      xLabel: 'cache capacity (chunks)',
      yLabel: 'hit ratio',
      // `default` is one of the others: its own line would hide theirs.
      series: [
        ...REPLAYED.map((name) => ({ name: name === DEFAULT_IS ? `${name} (default)` : name, values: rows.map((r) => r.hit[name]) })),
        { name: 'belady', values: rows.map((r) => r.belady) },
      ],
    },
    {
      title: `Sampled estimate of the default's curve (${DEFAULT_IS})`,
      headline: `largest error ${error.toFixed(4)}`,
      kind: 'line',
      x,
      xLabel: 'cache capacity (chunks)',
      yLabel: 'hit ratio',
      series: [
        { name: 'exact (replay)', values: rows.map((r) => r.hit.default) },
        { name: 'sampled estimate', values: rows.map((r) => r.sampled.default) },
      ],
    },
  ]);
}

/** "this tier hits X% at its size; N chunks would hit Y%", from the default's own miniatures after the replay. */
function adviceAfterReplay(trace: ChunkTrace, capacity: number): string {
  const policy = new AdaptivePolicy<number>({ capacity });
  replayPolicy(trace, policy, capacity);
  return `following ${policy.choice}: ${sizingAdvice(policy.curve(), capacity) ?? 'no estimate'}`;
}

function printTables(rows: readonly Row[]): void {
  const f4 = (x: number): string => x.toFixed(4);
  const out = process.stdout;
  out.write('hit ratio\n');
  out.write(formatTable(['capacity', ...POLICIES.map(label), 'belady', 'best classic', 'adaptive - best', 'default - best'], rows.map((r) => {
    const best = Math.max(...CLASSICS.map((n) => r.hit[n]));
    return [r.capacity, ...POLICIES.map((n) => f4(r.hit[n])), f4(r.belady), f4(best), (r.hit.adaptive - best).toFixed(4), (r.hit.default - best).toFixed(4)];
  })));
  const gaps = rows.map((r) => r.hit.adaptive - Math.max(...CLASSICS.map((n) => r.hit[n])));
  out.write(`adaptive - best classic: worst ${Math.min(...gaps).toFixed(4)}, mean ${(gaps.reduce((a, b) => a + b, 0) / gaps.length).toFixed(4)}\n`);
  out.write('\nfraction of Belady\n');
  out.write(formatTable(['capacity', ...POLICIES.map(label)], rows.map((r) => [r.capacity, ...POLICIES.map((n) => (r.hit[n] / r.belady).toFixed(3))])));
  out.write(`\nns per policy event, median (min–max) of ${REPS} replays, net of the clock reads (${rows.map((r) => r.clockNs).join(', ')} ns per call)\n`);
  out.write(formatTable(['capacity', ...POLICIES.map(label)], rows.map((r) => [r.capacity, ...POLICIES.map((n) => r.ns[n])])));
  out.write(`\nns per policy event as a multiple of LRU's (paired per replay)\n`);
  out.write(formatTable(['capacity', ...POLICIES.map(label)], rows.map((r) => [r.capacity, ...POLICIES.map((n) => r.nsVsLru[n])])));
  for (const [title, field] of [['', 'sampled'], [', shallow chunks (depth < 4) always tracked', 'shallow']] as const) {
    out.write(`\nsampled estimate (miniature simulation${title}) and its error against the exact hit ratio\n`);
    out.write(formatTable(['capacity', ...POLICIES.map(label)], [
      ...rows.map((r) => [r.capacity, ...POLICIES.map((n) => `${f4(r[field][n])} (${(r[field][n] - r.hit[n]).toFixed(4)})`)]),
      ['largest |error|', ...POLICIES.map((n) => Math.max(...rows.map((r) => Math.abs(r[field][n] - r.hit[n]))).toFixed(4))],
    ]));
  }
}

async function run(argv: string[]): Promise<number> {
  let traceName: string;
  let capacities: number[];
  let trace: ChunkTrace;
  let json: boolean;
  try {
    const flags = parseFlags(argv, ['trace', 'seed', 'capacity', 'json']);
    if (flags.trace === true) throw new Error('--trace needs a file or gen:NAME');
    traceName = flags.trace ?? DEFAULT_TRACE;
    capacities = numberList(flags.capacity, 'capacity', DEFAULT_CAPACITIES);
    if (!capacities.every(Number.isSafeInteger)) throw new Error(`--capacity: chunk counts must be integers`);
    json = flags.json === true;
    trace = loadNamed(traceName, flags.seed === undefined ? undefined : positiveInteger(flags.seed, 'seed', 1));
    if (flags.seed !== undefined) traceName += ` (seed ${flags.seed})`;
  } catch (err) {
    process.stderr.write(`kvtier-bench policies: ${(err as Error).message}\n`);
    return 2;
  }

  const rows = capacities.map((c) => measure(trace, c));
  await writeChart(rows, traceName);
  if (json) {
    const median = (m: Record<Name, Spread>): Record<Name, number> => Object.fromEntries(POLICIES.map((n) => [n, m[n].median])) as Record<Name, number>;
    const results = Object.fromEntries(rows.map((r) => [String(r.capacity), {
      hit: r.hit, belady: r.belady, ns: median(r.ns), sampled: r.sampled, shallow: r.shallow, spread: { ns: r.ns, nsVsLru: r.nsVsLru },
    }]));
    process.stdout.write(`${JSON.stringify({ capacities, results })}\n`);
    return 0;
  }
  const references = trace.reduce((n, keys) => n + keys.length, 0);
  const unbounded = replayPolicy(trace, createEvictionPolicy<number>('noop'), Infinity);
  process.stdout.write(
    `trace ${traceName}: ${trace.length} requests, ${references} chunk references, ` +
      `infinite cache hits ${(unbounded.hitRatio * 100).toFixed(1)}%\n` +
      `hit ratio = prefix hits / chunk references; default = ${DEFAULT_IS}; belady = farthest next use on the same replay\n\n`,
  );
  printTables(rows);
  process.stdout.write(`\nsizing (adaptive): ${adviceAfterReplay(trace, capacities[Math.floor(capacities.length / 2)])}\n`);
  return 0;
}

export const command: BenchCommand = {
  summary: 'eviction policies (lru, arc, s3fifo, tree_lru, tree_arc, tree_s3fifo, adaptive, default) vs Belady on a request trace, with sampled curves and sizing advice',
  usage: USAGE,
  run,
  suiteArgs: ['--capacity', '2000,5000,10000'],
};

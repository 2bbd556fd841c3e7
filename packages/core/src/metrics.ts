/**
 * Engine metrics in a SharedArrayBuffer so every thread can bump them without a message, rendered
 * as Prometheus text by the main thread. The catalogue below is the layout: each counter,
 * per-adapter counter, failure cell and histogram has a fixed offset in one `BigInt64Array`.
 */
import { MAX_ADAPTERS } from './limits.ts';
import { WordLayout } from './shm/region.ts';
import { invalidArgument } from './errors.ts';
import { mergeExpositions } from './exposition.ts';
import type { EvictionStatus, TierPolicyStatus } from './controllers/eviction.ts';

function describeBuffer(buffer: unknown): string {
  return buffer instanceof SharedArrayBuffer ? `${buffer.byteLength} bytes` : `a ${Object.prototype.toString.call(buffer).slice(8, -1)}`;
}

/**
 * Every counter, in cell order within its family: its id, family (`engine`: one cell; `adapter`:
 * one cell per adapter), Prometheus name and help. {@link Counter} and {@link AdapterCounter} are
 * derived from it, so an id, its cell and its text cannot drift apart.
 */
const COUNTERS = [
  ['L1_WRITES', 'engine', 'kvtier_l1_writes_total', 'Objects written into L1 through the facade.'],
  ['L1_READS', 'engine', 'kvtier_l1_reads_total', 'Objects read from L1 through readPrefetched.'],
  ['L1_EVICTIONS', 'engine', 'kvtier_l1_evictions_total', 'Objects evicted from L1 by the watermark eviction.'],
  ['PREFETCH_REQUESTS', 'engine', 'kvtier_prefetch_requests_total', 'Prefetch requests submitted.'],
  ['PREFETCH_L1_HIT_KEYS', 'engine', 'kvtier_prefetch_l1_hit_keys_total', 'Keys of the leading run a prefetch found in L1 (the L1 prefix, read-locked at submit).'],
  ['PREFETCH_L2_HIT_KEYS', 'engine', 'kvtier_prefetch_l2_hit_keys_total', 'Keys a prefetch loaded (or joined) from L2.'],
  ['PREFETCH_FAILURES', 'engine', 'kvtier_prefetch_failures_total', 'Prefetch requests that ended with an error.'],
  ['STORE_RETRIES', 'engine', 'kvtier_store_retries_total', 'Store attempts retried after a failure.'],
  ['STORE_DROPPED_KEYS', 'engine', 'kvtier_store_dropped_keys_total', 'Keys whose store failed after every retry; they stay in L1.'],
  ['PREFETCH_REQUESTED_KEYS', 'engine', 'kvtier_prefetch_requested_keys_total', 'Keys prefetches asked for; the hit rate is (l1 + l2 hit keys) / requested keys.'],
  ['STORE_KEYS', 'adapter', 'kvtier_l2_store_keys_total', 'Keys stored to an adapter.'],
  ['STORE_BYTES', 'adapter', 'kvtier_l2_store_bytes_total', 'Bytes stored to an adapter.'],
  ['LOAD_KEYS', 'adapter', 'kvtier_l2_load_keys_total', 'Keys loaded from an adapter.'],
  ['LOAD_BYTES', 'adapter', 'kvtier_l2_load_bytes_total', 'Bytes loaded from an adapter.'],
  ['LOOKUP_KEYS', 'adapter', 'kvtier_l2_lookup_keys_total', 'Keys looked up on an adapter.'],
  ['LOOKUP_HITS', 'adapter', 'kvtier_l2_lookup_hits_total', 'Keys an adapter lookup found.'],
  ['EVICTED_KEYS', 'adapter', 'kvtier_l2_evicted_keys_total', 'Keys deleted from an adapter by L2 eviction.'],
  ['ABANDONED_CALLS', 'adapter', 'kvtier_l2_abandoned_calls_total', 'Adapter calls abandoned past their deadline.'],
  ['USAGE_POLLS', 'adapter', 'kvtier_l2_usage_polls_total', 'Usage queries of the L2 eviction controller.'],
  ['HOST_TERMINATIONS', 'adapter', 'kvtier_l2_host_terminations_total', 'Adapter hosts terminated (and restarted) because a call that may still touch L1 slots had to be given up: no answer within its grace period, or its controller died.'],
] as const;

type CounterFamily = (typeof COUNTERS)[number][1];
type CounterName<F extends CounterFamily> = Extract<(typeof COUNTERS)[number], readonly [string, F, string, string]>[0];
const inFamily = (family: CounterFamily) => COUNTERS.filter((c) => c[1] === family);

function idsOf<F extends CounterFamily>(family: F): { readonly [K in CounterName<F>]: number } {
  return Object.freeze(Object.fromEntries(inFamily(family).map((c, i) => [c[0], i]))) as { readonly [K in CounterName<F>]: number };
}

/** Offsets of engine-wide counters. */
export const Counter = idsOf('engine');
/** One of the {@link Counter} offsets. */
export type CounterId = number;
const COUNTER_TEXT = inFamily('engine').map((c) => [c[2], c[3]] as const);

/** Offsets of per-adapter counters. */
export const AdapterCounter = idsOf('adapter');
/** One of the {@link AdapterCounter} offsets. */
export type AdapterCounterId = number;
const ADAPTER_COUNTER_TEXT = inFamily('adapter').map((c) => [c[2], c[3]] as const);

/** Controller -> adapter operations, for failure counts and latency. */
export const AdapterOp = { STORE: 0, LOAD: 1, LOOKUP: 2, UNLOCK: 3, DELETE: 4, USAGE: 5 } as const;
/** One of the {@link AdapterOp} values. */
export type AdapterOpId = (typeof AdapterOp)[keyof typeof AdapterOp];
/** Names of the {@link AdapterOp} values by value: the `op` label of metrics and the op in deadline messages. */
export const OP_NAMES: readonly string[] = ['store', 'load', 'lookup', 'unlock', 'delete', 'usage'];

/** Why an adapter operation failed. */
export const FailureReason = { ERROR: 0, TIMEOUT: 1, REJECTED: 2 } as const;
/** One of the {@link FailureReason} values. */
export type FailureReasonId = (typeof FailureReason)[keyof typeof FailureReason];
const REASON_NAMES = ['error', 'timeout', 'rejected'];

/** Worker kinds, for restart counts. */
export const WorkerKind = { STORE: 0, PREFETCH: 1, EVICTION: 2, ADAPTER: 3 } as const;
/** One of the {@link WorkerKind} values. */
export type WorkerKindId = (typeof WorkerKind)[keyof typeof WorkerKind];
/** Worker kind names by value. */
export const WORKER_NAMES: readonly string[] = ['store', 'prefetch', 'eviction', 'adapter'];

/** Histograms. Sums are kept in micro-units (µs, bytes) as integers. */
export const Histogram = { PREFETCH_SECONDS: 0, L2_STORE_SECONDS: 1, L2_LOAD_SECONDS: 2, L2_STORE_BYTES: 3, L2_LOAD_BYTES: 4 } as const;
/** One of the {@link Histogram} offsets. */
export type HistogramId = (typeof Histogram)[keyof typeof Histogram];

const SECOND_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
const BYTE_BUCKETS = [4096, 65536, 1 << 20, 4 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30];
const HISTOGRAM_DEFS: readonly { name: string; help: string; label: string; buckets: number[]; scale: number }[] = [
  { name: 'kvtier_prefetch_seconds', help: 'Prefetch request latency, submit to result.', label: '', buckets: SECOND_BUCKETS, scale: 1e6 },
  { name: 'kvtier_l2_call_seconds', help: 'Adapter call latency.', label: 'op="store"', buckets: SECOND_BUCKETS, scale: 1e6 },
  { name: 'kvtier_l2_call_seconds', help: 'Adapter call latency.', label: 'op="load"', buckets: SECOND_BUCKETS, scale: 1e6 },
  { name: 'kvtier_l2_transfer_bytes', help: 'Bytes per adapter transfer batch.', label: 'op="store"', buckets: BYTE_BUCKETS, scale: 1 },
  { name: 'kvtier_l2_transfer_bytes', help: 'Bytes per adapter transfer batch.', label: 'op="load"', buckets: BYTE_BUCKETS, scale: 1 },
];

// The cell layout (BigInt64 cells; a WordLayout counts them as it does words), section by section.
const cells = new WordLayout();
const COUNTERS_AT = cells.words(COUNTER_TEXT.length);
const ADAPTER_COUNTERS_AT = cells.words(MAX_ADAPTERS * ADAPTER_COUNTER_TEXT.length);
const FAILURES_AT = cells.words(MAX_ADAPTERS * OP_NAMES.length * REASON_NAMES.length);
const RESTARTS_AT = cells.words(WORKER_NAMES.length);
/** Per histogram: one cell per bucket, then +Inf, sum, count. */
const HISTOGRAM_OFFSETS = HISTOGRAM_DEFS.map((h) => cells.words(h.buckets.length + 3));
const TOTAL_CELLS = cells.size;

/** Gauges the main thread samples at render time. */
export interface MetricsGauges {
  readonly l1UsedBytes: number;
  readonly l1CapacityBytes: number;
  readonly l1Objects: number;
  /** Per adapter, in index order; -1 where unknown. */
  readonly l2: readonly { usedBytes: number; capacityBytes: number }[];
  /** Worker health by kind name: 1 healthy, 0 not. */
  readonly workersHealthy: Readonly<Record<string, boolean>>;
  /** Objects L1 evicted inline when an allocation found it full (L1's own counter). */
  readonly l1EmergencyEvictions: number;
  /** Events dropped on full rings: L1's, then each adapter's L2 ring in index order. */
  readonly droppedEvents: { readonly l1: number; readonly l2: readonly number[] };
  /** Each tier's eviction policy report, when the eviction worker answered. */
  readonly eviction?: EvictionStatus;
}

/** The eviction policy families: per tier, labelled `tier="l1"` or `tier="l2",adapter="i"`. */
function evictionLines(status: EvictionStatus): string[] {
  const tiers: [string, TierPolicyStatus][] = [['tier="l1"', status.l1], ...status.l2.map((t): [string, TierPolicyStatus] => [`tier="l2",adapter="${t.index}"`, t])];
  const out = [
    '# HELP kvtier_eviction_policy_info The eviction policy of each tier, and the strategy it follows now (adaptive).', '# TYPE kvtier_eviction_policy_info gauge',
    ...tiers.map(([l, t]) => `kvtier_eviction_policy_info{${l},policy="${t.policy}"${typeof t.state?.choice === 'string' ? `,choice="${t.state.choice}"` : ''}} 1`),
    '# HELP kvtier_eviction_tracked_keys Keys each tier\'s eviction policy tracks.', '# TYPE kvtier_eviction_tracked_keys gauge',
    ...tiers.map(([l, t]) => `kvtier_eviction_tracked_keys{${l}} ${t.tracked}`),
    '# HELP kvtier_eviction_policy_state Numeric fields of each tier\'s policy state (adaptive: switches, capacity, recent hit ratio per candidate).', '# TYPE kvtier_eviction_policy_state gauge',
  ];
  for (const [l, t] of tiers) {
    for (const [field, value] of Object.entries(t.state ?? {})) if (typeof value === 'number') out.push(`kvtier_eviction_policy_state{${l},field="${field}"} ${value}`);
  }
  out.push('# HELP kvtier_eviction_estimated_hit_ratio Sampled estimate of each tier\'s hit ratio at a capacity in keys (its own and others, for sizing).', '# TYPE kvtier_eviction_estimated_hit_ratio gauge');
  for (const [l, t] of tiers) for (const p of t.curve ?? []) out.push(`kvtier_eviction_estimated_hit_ratio{${l},capacity="${p.capacity}"} ${p.hitRatio}`);
  return out;
}

/** The shared metric cells. Construct once on the main thread; attach in workers with the buffer. */
export class Metrics {
  /** The SharedArrayBuffer to pass to workers. */
  readonly buffer: SharedArrayBuffer;
  readonly #cells: BigInt64Array;

  /** @param buffer - an existing metrics buffer (in a worker), or none to allocate one */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(TOTAL_CELLS * 8);
    if (!(this.buffer instanceof SharedArrayBuffer) || this.buffer.byteLength !== TOTAL_CELLS * 8) {
      invalidArgument(`metrics buffer must be a SharedArrayBuffer of ${TOTAL_CELLS * 8} bytes, got ${describeBuffer(this.buffer)}`);
    }
    this.#cells = new BigInt64Array(this.buffer);
  }

  /** Adds `n` to an engine-wide counter. */
  count(id: CounterId, n = 1): void {
    if (n !== 0) Atomics.add(this.#cells, COUNTERS_AT + id, BigInt(n));
  }

  /** Adds `n` to a counter of adapter `adapter`. */
  countAdapter(adapter: number, id: AdapterCounterId, n = 1): void {
    if (n !== 0) Atomics.add(this.#cells, ADAPTER_COUNTERS_AT + adapter * ADAPTER_COUNTER_TEXT.length + id, BigInt(n));
  }

  /** Counts one failed adapter operation. */
  countFailure(adapter: number, op: AdapterOpId, reason: FailureReasonId, n = 1): void {
    Atomics.add(this.#cells, FAILURES_AT + (adapter * OP_NAMES.length + op) * REASON_NAMES.length + reason, BigInt(n));
  }

  /** Counts one restart of a worker of `kind`. */
  countRestart(kind: WorkerKindId): void {
    Atomics.add(this.#cells, RESTARTS_AT + kind, 1n);
  }

  /** Records one observation (seconds or bytes, per the histogram) in a histogram. */
  observe(id: HistogramId, value: number): void {
    const def = HISTOGRAM_DEFS[id];
    const at = HISTOGRAM_OFFSETS[id];
    let b = def.buckets.findIndex((le) => value <= le);
    if (b < 0) b = def.buckets.length;
    Atomics.add(this.#cells, at + b, 1n);
    Atomics.add(this.#cells, at + def.buckets.length + 1, BigInt(Math.round(value * def.scale)));
    Atomics.add(this.#cells, at + def.buckets.length + 2, 1n);
  }

  /** The current value of an engine-wide counter. */
  get(id: CounterId): number {
    return Number(Atomics.load(this.#cells, COUNTERS_AT + id));
  }

  /** The current value of an adapter counter. */
  getAdapter(adapter: number, id: AdapterCounterId): number {
    return Number(Atomics.load(this.#cells, ADAPTER_COUNTERS_AT + adapter * ADAPTER_COUNTER_TEXT.length + id));
  }

  /** Failures of one adapter operation, summed over reasons unless `reason` is given. */
  getFailures(adapter: number, op: AdapterOpId, reason?: FailureReasonId): number {
    const at = FAILURES_AT + (adapter * OP_NAMES.length + op) * REASON_NAMES.length;
    if (reason !== undefined) return Number(Atomics.load(this.#cells, at + reason));
    let sum = 0;
    for (let r = 0; r < REASON_NAMES.length; r++) sum += Number(Atomics.load(this.#cells, at + r));
    return sum;
  }

  /** Restarts of workers of `kind`. */
  getRestarts(kind: WorkerKindId): number {
    return Number(Atomics.load(this.#cells, RESTARTS_AT + kind));
  }

  /** Observations recorded in a histogram. */
  getObservations(id: HistogramId): number {
    return Number(Atomics.load(this.#cells, HISTOGRAM_OFFSETS[id] + HISTOGRAM_DEFS[id].buckets.length + 2));
  }

  /**
   * Prometheus text exposition of every metric of `adapterCount` adapters, with the sampled
   * gauges, merged with `extra` (expositions adapter hosts render themselves) so that each family
   * appears once, declared once, with all its samples together.
   */
  render(adapterCount: number, gauges: MetricsGauges, extra: readonly string[] = []): string {
    const out: string[] = [];
    const cell = (i: number) => Atomics.load(this.#cells, i).toString();
    COUNTER_TEXT.forEach(([name, help], i) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${cell(COUNTERS_AT + i)}`);
    });
    out.push(...this.#hitRatios());
    ADAPTER_COUNTER_TEXT.forEach(([name, help], i) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (let a = 0; a < adapterCount; a++) out.push(`${name}{adapter="${a}"} ${cell(ADAPTER_COUNTERS_AT + a * ADAPTER_COUNTER_TEXT.length + i)}`);
    });
    out.push('# HELP kvtier_l2_failures_total Failed adapter operations by operation and reason.', '# TYPE kvtier_l2_failures_total counter');
    for (let a = 0; a < adapterCount; a++) {
      OP_NAMES.forEach((op, o) => REASON_NAMES.forEach((reason, r) => {
        out.push(`kvtier_l2_failures_total{adapter="${a}",op="${op}",reason="${reason}"} ${cell(FAILURES_AT + (a * OP_NAMES.length + o) * REASON_NAMES.length + r)}`);
      }));
    }
    out.push('# HELP kvtier_worker_restarts_total Worker threads restarted after a crash.', '# TYPE kvtier_worker_restarts_total counter');
    WORKER_NAMES.forEach((w, i) => out.push(`kvtier_worker_restarts_total{worker="${w}"} ${cell(RESTARTS_AT + i)}`));
    out.push('# HELP kvtier_worker_healthy 1 while a worker runs, 0 after it crashed and until it restarted.', '# TYPE kvtier_worker_healthy gauge');
    for (const [w, ok] of Object.entries(gauges.workersHealthy)) out.push(`kvtier_worker_healthy{worker="${w}"} ${ok ? 1 : 0}`);
    out.push(
      '# HELP kvtier_l1_emergency_evictions_total Objects L1 evicted inline because an allocation found it full.',
      '# TYPE kvtier_l1_emergency_evictions_total counter', `kvtier_l1_emergency_evictions_total ${gauges.l1EmergencyEvictions}`,
      '# HELP kvtier_dropped_events_total Events dropped because their ring was full.', '# TYPE kvtier_dropped_events_total counter',
      `kvtier_dropped_events_total{ring="l1"} ${gauges.droppedEvents.l1}`,
      ...gauges.droppedEvents.l2.map((n, a) => `kvtier_dropped_events_total{ring="l2",adapter="${a}"} ${n}`),
      '# HELP kvtier_l1_used_bytes Bytes of L1 slots in use.', '# TYPE kvtier_l1_used_bytes gauge', `kvtier_l1_used_bytes ${gauges.l1UsedBytes}`,
      '# HELP kvtier_l1_capacity_bytes L1 arena bytes.', '# TYPE kvtier_l1_capacity_bytes gauge', `kvtier_l1_capacity_bytes ${gauges.l1CapacityBytes}`,
      '# HELP kvtier_l1_objects Objects in L1.', '# TYPE kvtier_l1_objects gauge', `kvtier_l1_objects ${gauges.l1Objects}`,
      '# HELP kvtier_l2_used_bytes Bytes used per adapter (-1 unknown).', '# TYPE kvtier_l2_used_bytes gauge',
    );
    gauges.l2.forEach((u, a) => out.push(`kvtier_l2_used_bytes{adapter="${a}"} ${u.usedBytes}`));
    out.push('# HELP kvtier_l2_capacity_bytes Capacity per adapter (-1 unknown).', '# TYPE kvtier_l2_capacity_bytes gauge');
    gauges.l2.forEach((u, a) => out.push(`kvtier_l2_capacity_bytes{adapter="${a}"} ${u.capacityBytes}`));
    if (gauges.eviction !== undefined) out.push(...evictionLines(gauges.eviction));
    let lastName = '';
    HISTOGRAM_DEFS.forEach((def, id) => {
      if (def.name !== lastName) out.push(`# HELP ${def.name} ${def.help}`, `# TYPE ${def.name} histogram`);
      lastName = def.name;
      const at = HISTOGRAM_OFFSETS[id];
      const sep = def.label ? `${def.label},` : '';
      let cumulative = 0n;
      def.buckets.forEach((le, b) => {
        cumulative += Atomics.load(this.#cells, at + b);
        out.push(`${def.name}_bucket{${sep}le="${le}"} ${cumulative}`);
      });
      cumulative += Atomics.load(this.#cells, at + def.buckets.length);
      out.push(`${def.name}_bucket{${sep}le="+Inf"} ${cumulative}`);
      const labels = def.label ? `{${def.label}}` : '';
      out.push(`${def.name}_sum${labels} ${Number(Atomics.load(this.#cells, at + def.buckets.length + 1)) / def.scale}`);
      out.push(`${def.name}_count${labels} ${cell(at + def.buckets.length + 2)}`);
    });
    return mergeExpositions([out.join('\n'), ...extra]);
  }

  /**
   * The hit ratio per tier since start, for a dashboard that plots one number: hit keys over
   * requested keys (0 before any request). Rates over a window come from the counters themselves.
   */
  #hitRatios(): string[] {
    const requested = this.get(Counter.PREFETCH_REQUESTED_KEYS);
    const l1 = this.get(Counter.PREFETCH_L1_HIT_KEYS);
    const l2 = this.get(Counter.PREFETCH_L2_HIT_KEYS);
    const ratio = (hits: number) => (requested === 0 ? 0 : hits / requested);
    return [
      '# HELP kvtier_prefetch_hit_ratio Fraction of the keys prefetches asked for that were served, since start: from the L1 prefix (tier="l1"), from L2 (tier="l2"), from either (tier="all").',
      '# TYPE kvtier_prefetch_hit_ratio gauge',
      `kvtier_prefetch_hit_ratio{tier="l1"} ${ratio(l1)}`,
      `kvtier_prefetch_hit_ratio{tier="l2"} ${ratio(l2)}`,
      `kvtier_prefetch_hit_ratio{tier="all"} ${ratio(l1 + l2)}`,
    ];
  }
}

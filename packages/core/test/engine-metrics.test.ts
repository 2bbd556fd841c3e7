// Shared metrics: cells any thread can bump, rendered as Prometheus text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { withDeadline } from '../src/deadline.ts';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { AdapterCounter, AdapterOp, Counter, FailureReason, Histogram, Metrics, WorkerKind } from '../src/metrics.ts';

const GAUGES = { l1UsedBytes: 8192, l1CapacityBytes: 65536, l1Objects: 2, l2: [{ usedBytes: 100, capacityBytes: -1 }], workersHealthy: { store: true, prefetch: false },
  l1EmergencyEvictions: 4, droppedEvents: { l1: 2, l2: [3] } };

test('counters render with their labels, gauges and histograms in Prometheus text', () => {
  const m = new Metrics();
  m.count(Counter.L1_WRITES, 3);
  m.countAdapter(0, AdapterCounter.STORE_KEYS, 5);
  m.countFailure(0, AdapterOp.LOAD, FailureReason.TIMEOUT);
  m.countRestart(WorkerKind.STORE);
  m.observe(Histogram.PREFETCH_SECONDS, 0.003);
  m.observe(Histogram.PREFETCH_SECONDS, 7);
  const text = m.render(1, GAUGES, ['kvtier_adapter_extra 1']);
  assert.match(text, /^# TYPE kvtier_l1_writes_total counter\nkvtier_l1_writes_total 3$/m);
  assert.match(text, /^kvtier_l2_store_keys_total\{adapter="0"\} 5$/m);
  assert.match(text, /^kvtier_l2_failures_total\{adapter="0",op="load",reason="timeout"\} 1$/m);
  assert.match(text, /^kvtier_worker_restarts_total\{worker="store"\} 1$/m);
  assert.match(text, /^kvtier_worker_healthy\{worker="prefetch"\} 0$/m);
  assert.match(text, /^kvtier_l1_used_bytes 8192$/m);
  assert.match(text, /^kvtier_l1_emergency_evictions_total 4$/m);
  assert.match(text, /^kvtier_dropped_events_total\{ring="l1"\} 2$/m);
  assert.match(text, /^kvtier_dropped_events_total\{ring="l2",adapter="0"\} 3$/m);
  assert.match(text, /^kvtier_l2_capacity_bytes\{adapter="0"\} -1$/m);
  assert.match(text, /^kvtier_prefetch_seconds_bucket\{le="0.001"\} 0$/m);
  assert.match(text, /^kvtier_prefetch_seconds_bucket\{le="0.005"\} 1$/m);
  assert.match(text, /^kvtier_prefetch_seconds_bucket\{le="\+Inf"\} 2$/m);
  assert.match(text, /^kvtier_prefetch_seconds_sum 7.003$/m);
  assert.match(text, /^kvtier_prefetch_seconds_count 2$/m);
  assert.match(text, /^kvtier_l2_call_seconds_bucket\{op="load",le="0.1"\} 0$/m);
  assert.ok(text.endsWith('kvtier_adapter_extra 1\n'));
  assert.not.match(text, /adapter="1"/, 'only configured adapters are rendered');
});

test('every # TYPE line is unique (one family per name)', () => {
  const types = new Metrics().render(2, GAUGES).split('\n').filter((l) => l.startsWith('# TYPE'));
  assert.is(new Set(types).size, types.length);
});

test('another thread bumps the same cells through the buffer', () => withDeadline((async () => {
  const m = new Metrics();
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    const cells = new BigInt64Array(workerData);
    for (let i = 0; i < 1000; i++) Atomics.add(cells, ${Counter.L1_READS}, 1n);
  `, { eval: true, workerData: m.buffer });
  for (let i = 0; i < 1000; i++) m.count(Counter.L1_READS);
  await new Promise((resolve) => worker.once('exit', resolve));
  assert.is(m.get(Counter.L1_READS), 2000);
})(), 10_000, 'worker bump'));

test('a buffer of the wrong size or kind is refused with KVT_ERR_INVALID_ARGUMENT', () => {
  for (const buffer of [new SharedArrayBuffer(8), new ArrayBuffer(new Metrics().buffer.byteLength)]) {
    assert.throws(() => new Metrics(buffer as SharedArrayBuffer), (err: unknown) =>
      err instanceof KvtierError && err.code === ErrorCode.INVALID_ARGUMENT && /metrics buffer must be a SharedArrayBuffer of \d+ bytes/.test(err.message));
  }
});

test.run();

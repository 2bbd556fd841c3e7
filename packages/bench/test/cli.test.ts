/**
 * kvtier-bench as a user runs it: each command in a child process with small settings, its
 * `--json` output in exactly the documented shape, and bad input answered with one line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createEvictionPolicy } from '@kvtier/core/authoring';
import { withDeadline } from '@kvtier/core/testing';

const BIN = fileURLToPath(new URL('../bin/kvtier-bench.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const RESULTS = mkdtempSync(join(tmpdir(), 'kvtier-bench-test-'));

function bench(args: string[], ms = 120_000): Promise<Run> {
  const env = { ...process.env, KVTIER_BENCH_RESULTS: RESULTS };
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return withDeadline(done, ms, `kvtier-bench ${args.join(' ')}`).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
}

async function json(args: string[]): Promise<any> {
  const r = await bench([...args, '--json']);
  assert.is(r.code, 0, `exit code of kvtier-bench ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function assertPositiveNumbers(row: Record<string, unknown>, fields: string[]): void {
  for (const f of fields) assert.ok(typeof row[f] === 'number' && (row[f] as number) > 0, `${f} = ${String(row[f])}`);
}

test("l1 --json: one row per op, batch and thread count; 2-thread rows carry the machine's own 2-thread scaling and L1's against it", async () => {
  const out = await json(['l1', '--batches', '1,16', '--threads', '1,2', '--ms', '40']);
  assert.equal(Object.keys(out), ['rows']);
  assert.is(out.rows.length, 2 * 2 * 2);
  for (const row of out.rows) {
    const scaling = row.threads === 2 ? ['privateScaling', 'vsPrivateScaling'] : [];
    assert.equal(Object.keys(row).sort(), ['baselineKeysPerSec', 'batch', 'keysPerSec', 'numberMapKeysPerSec', 'op', ...scaling, 'spread', 'threads'].sort());
    assert.ok(row.op === 'read' || row.op === 'write');
    assertPositiveNumbers(row, ['keysPerSec', 'baselineKeysPerSec', 'numberMapKeysPerSec']);
    for (const f of ['keysPerSec', 'baselineKeysPerSec', 'numberMapKeysPerSec']) {
      const { min, median, max } = row.spread[f];
      assert.ok(min <= median && median <= max, `${f} spread ${min} ≤ ${median} ≤ ${max}`);
      assert.is(row[f], Math.round(median), `${f} is its median`);
    }
    assert.is(row.spread.vsOneThread !== undefined, row.threads === 2, '2-thread rows carry their ratio to 1 thread');
    for (const f of scaling) {
      const { min, median, max } = row.spread[f];
      assert.ok(min > 0 && min <= median && median <= max, `${f} spread ${min} ≤ ${median} ≤ ${max}`);
      assert.is(row[f], median, `${f} is its median`);
    }
  }
});

test('policies --json: every policy and Belady per capacity, Belady the limit; event costs and sampled estimates; default is its policy\'s row, not a replay of its own', async () => {
  const out = await json(['policies', '--capacity', '3000']);
  assert.equal(out.capacities, [3000]);
  const r = out.results['3000'];
  assert.equal(Object.keys(r).sort(), ['belady', 'hit', 'ns', 'sampled', 'shallow', 'spread']);
  const names = ['adaptive', 'arc', 'default', 'lru', 's3fifo', 'tree_arc', 'tree_lru', 'tree_s3fifo'];
  for (const field of ['hit', 'ns', 'sampled', 'shallow']) assert.equal(Object.keys(r[field]).sort(), names, field);
  for (const field of ['ns', 'nsVsLru']) assert.equal(Object.keys(r.spread[field]).sort(), names, `spread.${field}`);
  for (const name of names) {
    assert.ok(r.hit[name] > 0 && r.hit[name] <= r.belady, `${name} ${r.hit[name]} vs belady ${r.belady}`);
    assert.ok(r.ns[name] > 0, `${name} costs something`);
    const { min, median, max } = r.spread.ns[name];
    assert.ok(min <= median && median <= max && median === r.ns[name], `${name} ns spread ${min} ${median} ${max}, headline ${r.ns[name]}`);
    assert.ok(Math.abs(r.sampled[name] - r.hit[name]) < 0.05, `${name} sampled ${r.sampled[name]} vs exact ${r.hit[name]}`);
  }
  // Timings of separate replays never agree to the nanosecond: equal ones are the same replay.
  const defaultIs = createEvictionPolicy('default').name;
  for (const field of ['hit', 'ns', 'sampled', 'shallow']) assert.is(r[field].default, r[field][defaultIs], `${field}: default = ${defaultIs}`);
  assert.equal(r.spread.ns.default, r.spread.ns[defaultIs]);
});

test('policies --trace gen:NAME [--seed N] replays a generated trace, another seed another one of its shape; an unknown generator, a bad seed and a seed for a file are refused', async () => {
  const out = await json(['policies', '--capacity', '2000', '--trace', 'gen:rag']);
  assert.ok(out.results['2000'].hit.lru > 0.3);
  const held = await json(['policies', '--capacity', '2000', '--trace', 'gen:rag', '--seed', '2']);
  assert.ok(held.results['2000'].hit.lru > 0.3);
  assert.is.not(held.results['2000'].hit.lru, out.results['2000'].hit.lru);
  const r = await bench(['policies', '--trace', 'gen:nope']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--trace gen:nope: no such generator \(known: gen:chat, gen:rag, gen:agent, gen:scan\)/);
  const zero = await bench(['policies', '--trace', 'gen:rag', '--seed', '0']);
  assert.is(zero.code, 2);
  assert.match(zero.stderr, /--seed must be a positive integer, got '0'/);
  const file = await bench(['policies', '--seed', '2']);
  assert.is(file.code, 2);
  assert.match(file.stderr, /--seed applies to generated traces \(--trace gen:NAME\), not to /);
});

test('l2 --json: store and load rows per object size, each figure with its spread; loads also against reads into preallocated buffers, fs rows also the store or load limit on --io-threads threads', async () => {
  const out = await json(['l2', '--adapter', 'fs', '--sizes', '1', '--row-mib', '8', '--rounds', '3', '--io-threads', '2']);
  assert.equal(out.rows.map((r: any) => r.op).sort(), ['load', 'store']);
  for (const row of out.rows) {
    assert.is(row.objectBytes, 1024 * 1024);
    const extra = row.op === 'load' ? ['preallocBaselineGBps', 'preallocRatio'] : [];
    const figures = ['engineGBps', 'baselineGBps', 'ratio', 'limitGBps', 'limitRatio', ...extra];
    assertPositiveNumbers(row, figures);
    assert.equal(Object.keys(row.spread).sort(), [...figures].sort());
    for (const field of figures) {
      const { min, median, max } = row.spread[field];
      assert.is(median, row[field], `${field} is the median of its spread`);
      assert.ok(min <= median && median <= max, `${field}: ${min} <= ${median} <= ${max}`);
    }
  }
  assert.is(out.rows.find((r: any) => r.op === 'store').preallocBaselineGBps, undefined);
  const few = await bench(['l2', '--rounds', '2']);
  assert.is(few.code, 2);
  assert.match(few.stderr, /--rounds must be at least 3 \(every figure is a spread over the rounds\), got 2/);
  const threads = await bench(['l2', '--io-threads', '0']);
  assert.is(threads.code, 2);
  assert.match(threads.stderr, /--io-threads must be a positive integer, got '0'/);
  const notFs = await bench(['l2', '--adapter', 'mock', '--io-threads', '2']);
  assert.is(notFs.code, 2);
  assert.match(notFs.stderr, /--io-threads is for --adapter fs \(its I\/O threads\), got --adapter mock/);
});

test('prefetch --json: latency percentiles of the engine and the baseline, their spreads and the per-run ratio', async () => {
  const out = await json(['prefetch', '--chunks', '4', '--chunk-mib', '1', '--runs', '3']);
  assert.is(out.chunks, 4);
  assert.is(out.chunkBytes, 1024 * 1024);
  for (const side of [out.engineMs, out.baselineMs]) {
    assertPositiveNumbers(side, ['p50', 'p99']);
    assert.ok(side.p50 <= side.p99);
  }
  assert.equal(Object.keys(out.spread), ['engineMs', 'baselineMs', 'engineOverBaseline']);
  for (const [field, s] of Object.entries<any>(out.spread)) {
    assertPositiveNumbers(s, ['min', 'median', 'max']);
    assert.ok(s.min <= s.median && s.median <= s.max, `${field}: ${JSON.stringify(s)}`);
  }
  assert.is(out.spread.engineMs.median, out.engineMs.p50, 'the headline is the median');
  assert.is(out.spread.engineMs.max, out.engineMs.p99, 'of 3 runs, p99 is the slowest');
  assert.is(out.engineOverBaseline, out.spread.engineOverBaseline.median);
  const fewer = await bench(['prefetch', '--runs', '2']);
  assert.is(fewer.code, 2);
  assert.match(fewer.stderr, /--runs must be at least 3 \(a spread needs 3 runs\), got 2/);
});

test('an unknown command or flag is one line naming it, exit code 2', async () => {
  const unknown = await bench(['nope']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'nope'/);
  const badFlag = await bench(['prefetch', '--chunks', 'many']);
  assert.is(badFlag.code, 2);
  assert.match(badFlag.stderr, /kvtier-bench prefetch: --chunks must be a positive integer/);
  assert.not.match(badFlag.stderr, /\n\s+at /, 'no stack trace');
});

test('CLI conventions: --version, help <command>, did you mean, exit 2 for a bad command line and 1 for a failed run', async () => {
  const v = await bench(['--version']);
  assert.is(v.code, 0);
  assert.match(v.stdout, /^kvtier-bench \d+\.\d+\.\d+\n$/);
  const help = await bench(['help', 'l1']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^usage: kvtier-bench l1 /);
  const typo = await bench(['l2', '--adaptr', 'fs']);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, /unknown flag --adaptr \(did you mean --adapter\?\)/);
  const command = await bench(['servee']);
  assert.is(command.code, 2);
  assert.match(command.stderr, /unknown command 'servee' \(did you mean serve\?\)/);
  // A run that fails (not its command line): rows of 100,000 objects ask L1 for more memory than the machine has.
  const failed = await bench(['l2', '--adapter', 'fs', '--sizes', '1', '--row-mib', '1', '--rounds', '3', '--batch', '100000']);
  assert.is(failed.code, 1, `a failed run exits 1: ${failed.stderr}`);
  assert.match(failed.stderr, /^kvtier-bench l2: /m);
});

// transfer's --json shape and chart are checked on the device in tests/gpu-transfer-bench.test.ts.
test('charts land in the results directory', () => {
  const files = ['l1', 'l2', 'policies', 'prefetch'].flatMap((name) => [`${name}.json`, `${name}.svg`, `${name}.vl.json`]);
  assert.equal(readdirSync(RESULTS).sort(), files.sort());
});

test('--help lists every command and names the main job', async () => {
  const r = await bench(['--help']);
  assert.is(r.code, 0);
  for (const name of ['serve', 'l1', 'policies', 'l2', 'prefetch', 'transfer', 'suite']) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
  assert.match(r.stdout, /With no command, runs the main job \(serve\)/);
});

test.after(() => rmSync(RESULTS, { recursive: true, force: true }));

test.run();

// `kvtier-bench transfer --json` prints the documented shape, measured on the real device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '@kvtier/core/testing';

const CLI = fileURLToPath(new URL('../packages/bench/bin/kvtier-bench.mjs', import.meta.url));
/** Charts go here, not into the checkout's bench-results/. */
const RESULTS = mkdtempSync(join(tmpdir(), 'kvtier-transfer-test-'));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KVTIER_BENCH_RESULTS: RESULTS } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const FIGURES = ['GBps', 'memcpyGBps', 'twoCopyGBps'] as const;
const SPREADS = [...FIGURES, 'xMemcpy', 'xTwoCopy'] as const;

type Spread = { min: number; median: number; max: number };

function assertSpread(s: Spread, what: string): void {
  assert.equal(Object.keys(s), ['min', 'median', 'max'], what);
  assert.ok(Number.isFinite(s.min) && s.min > 0 && s.min <= s.median && s.median <= s.max, `${what}: ${JSON.stringify(s)}`);
}

test('transfer --json: one row per direction, layout and method, each figure its median with its spread, the two-copy limit beside memcpy', () =>
  withDeadline((async () => {
    const { code, stdout, stderr } = await run(['transfer', '--sizes', '256', '--reps', '3', '--json']);
    assert.is(code, 0, stderr);
    const out = JSON.parse(stdout) as { backend: string; adapter: string; rows: Record<string, unknown>[] };
    assert.equal(Object.keys(out), ['backend', 'adapter', 'rows']);
    assert.is(out.backend, 'vulkan');
    assert.match(out.adapter, /llvmpipe/);
    assert.is(out.rows.length, 2 * 2 * 2);
    const seen = new Set<string>();
    for (const row of out.rows) {
      assert.equal(Object.keys(row), ['direction', 'chunkBytes', 'layout', 'method', 'GBps', 'memcpyGBps', 'twoCopyGBps', 'spread']);
      assert.is(row.chunkBytes, 256 * 1024);
      const spread = row.spread as Record<string, Spread>;
      assert.equal(Object.keys(spread), [...SPREADS]);
      for (const f of SPREADS) assertSpread(spread[f], f);
      for (const f of FIGURES) assert.is(row[f], spread[f].median, `${f} is the median`);
      seen.add(`${row.direction} ${row.layout} ${row.method}`);
    }
    assert.is(seen.size, 8, 'every combination once');
    assert.match(stderr, /transfer: 256 KiB chunks/, 'progress on stderr');
    assert.ok(existsSync(join(RESULTS, 'transfer.svg')), 'the chart was drawn');
  })(), 180_000, 'kvtier-bench transfer'));

test('transfer --breakdown: main-thread time by kind and calls per 128 MiB; a sequential table makes one submit and one map per piece, one copy per piece and layer; dawn.node polling turns are counted and timed', () =>
  withDeadline((async () => {
    const { code, stdout, stderr } = await run(['transfer', '--sizes', '256', '--reps', '3', '--methods', 'copy', '--table', 'sequential', '--breakdown', '--json']);
    assert.is(code, 0, stderr);
    const out = JSON.parse(stdout) as { rows: unknown[]; breakdown: { direction: string; layout: string; spread: Record<string, Spread>; calls: Record<string, number> }[] };
    assert.is(out.rows.length, 4);
    assert.is(out.breakdown.length, 4);
    // 128 MiB of 1024 blocks in 3 MiB pieces of 24 blocks: 43 pieces. A sequential table merges each piece's blocks into one copy
    // (block-contiguous) or, staged run-major, one copy per layer (per-layer, 8 layers; one host copy per block and layer then).
    const pieces = Math.ceil(1024 / 24);
    for (const r of out.breakdown) {
      for (const kind of ['hostCopyMs', 'encodeMs', 'submitMs', 'mapMs', 'pollMs', 'wallMs']) assert.ok(r.spread[kind].min <= r.spread[kind].median && r.spread[kind].median <= r.spread[kind].max, kind);
      const calls = r.layout === 'per-layer' ? { hostCopies: 1024 * 8, copyCommands: pieces * 8 } : { hostCopies: pieces, copyCommands: pieces };
      const { polls, ...counted } = r.calls;
      assert.equal(counted, { ...calls, submits: pieces, maps: pieces }, `${r.direction} ${r.layout}`);
      // Maps resolve in dawn.node's polling turns, so the wrapped setImmediate saw some.
      assert.ok(Number.isInteger(polls) && polls >= 1, `${r.direction} ${r.layout}: ${polls} polling turns for ${pieces} maps`);
      assert.ok(r.spread.pollMs.min > 0, `${r.direction} ${r.layout}: polling took time`);
    }
  })(), 180_000, 'kvtier-bench transfer'));

test('transfer refuses fewer than 3 repetitions: a figure is a spread', () =>
  withDeadline((async () => {
    const { code, stderr } = await run(['transfer', '--sizes', '256', '--reps', '2', '--json']);
    assert.is.not(code, 0);
    assert.match(stderr, /--reps: must be an integer ≥ 3 \(a spread needs repetitions\), got 2/);
  })(), 60_000, 'kvtier-bench transfer'));

test('transfer rejects a chunk size that is not a whole number of blocks', () =>
  withDeadline((async () => {
    const { code, stderr } = await run(['transfer', '--sizes', '100', '--json']);
    assert.is.not(code, 0);
    assert.match(stderr, /not a multiple of the 128 KiB block/);
  })(), 60_000, 'kvtier-bench transfer'));

test('transfer --piece reaches the mover: a piece of a fractional byte count is rejected naming pieceBytes', () =>
  withDeadline((async () => {
    const { code, stderr } = await run(['transfer', '--sizes', '256', '--reps', '3', '--methods', 'copy', '--piece', '0.001', '--json']);
    assert.is.not(code, 0);
    assert.match(stderr, /config\.pieceBytes: must be a positive integer, got 1\.024/);
  })(), 60_000, 'kvtier-bench transfer'));

test.after(() => rmSync(RESULTS, { recursive: true, force: true }));

test.run();

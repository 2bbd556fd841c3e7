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

test('transfer --json: backend, adapter and one row per direction, layout and method', () =>
  withDeadline((async () => {
    const { code, stdout, stderr } = await run(['transfer', '--sizes', '256', '--reps', '1', '--json']);
    assert.is(code, 0, stderr);
    const out = JSON.parse(stdout) as { backend: string; adapter: string; rows: Record<string, unknown>[] };
    assert.equal(Object.keys(out), ['backend', 'adapter', 'rows']);
    assert.is(out.backend, 'vulkan');
    assert.match(out.adapter, /llvmpipe/);
    assert.is(out.rows.length, 2 * 2 * 2);
    const seen = new Set<string>();
    for (const row of out.rows) {
      assert.equal(Object.keys(row), ['direction', 'chunkBytes', 'layout', 'method', 'GBps', 'memcpyGBps']);
      assert.is(row.chunkBytes, 256 * 1024);
      for (const f of ['GBps', 'memcpyGBps']) assert.ok(typeof row[f] === 'number' && Number.isFinite(row[f]) && (row[f] as number) > 0, `${f}: ${row[f]}`);
      seen.add(`${row.direction} ${row.layout} ${row.method}`);
    }
    assert.is(seen.size, 8, 'every combination once');
    assert.match(stderr, /transfer: 256 KiB chunks/, 'progress on stderr');
    assert.ok(existsSync(join(RESULTS, 'transfer.svg')), 'the chart was drawn');
  })(), 120_000, 'kvtier-bench transfer'));

test('transfer rejects a chunk size that is not a whole number of blocks', () =>
  withDeadline((async () => {
    const { code, stderr } = await run(['transfer', '--sizes', '100', '--json']);
    assert.is.not(code, 0);
    assert.match(stderr, /not a multiple of the 128 KiB block/);
  })(), 60_000, 'kvtier-bench transfer'));

test('transfer --piece reaches the mover: a piece of a fractional byte count is rejected naming pieceBytes', () =>
  withDeadline((async () => {
    const { code, stderr } = await run(['transfer', '--sizes', '256', '--reps', '1', '--methods', 'copy', '--piece', '0.001', '--json']);
    assert.is.not(code, 0);
    assert.match(stderr, /config\.pieceBytes: must be a positive integer, got 1\.024/);
  })(), 60_000, 'kvtier-bench transfer'));

test.after(() => rmSync(RESULTS, { recursive: true, force: true }));

test.run();

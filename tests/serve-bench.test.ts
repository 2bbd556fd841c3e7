// `kvtier-bench serve` as a user runs it, on the real device: the documented --json shapes of both
// scenarios on short runs, every request bit-identical, and the default command.
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
const RESULTS = mkdtempSync(join(tmpdir(), 'kvtier-serve-test-'));
const RUN_MS = 240_000;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KVTIER_BENCH_RESULTS: RESULTS } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return withDeadline(done, RUN_MS, `kvtier-bench ${args.join(' ')}`).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
}

const isSummary = (s: any) => ['p50', 'p90', 'mean'].every((k) => typeof s[k] === 'number' && s[k] > 0) && s.p50 <= s.p90;

test('serve --json on 20 requests: the documented shape, every request bit-identical, hits within the bound', async () => {
  const { code, stdout, stderr } = await run(['serve', '--requests', '20', '--keep', '5', '--json']);
  assert.is(code, 0, stderr);
  const out = JSON.parse(stdout);
  assert.equal(Object.keys(out), ['requests', 'bitIdentical', 'hitRequests', 'ttftMs', 'hitSpeedupMedian', 'chunks', 'bytes', 'wallMs']);
  assert.is(out.requests, 20);
  assert.is(out.bitIdentical, 20);
  assert.equal(Object.keys(out.ttftMs), ['baseline', 'kvtier']);
  assert.ok(isSummary(out.ttftMs.baseline) && isSummary(out.ttftMs.kvtier), JSON.stringify(out.ttftMs));
  assert.equal(Object.keys(out.chunks), ['total', 'gpu', 'l1', 'l2', 'miss', 'bound']);
  const c = out.chunks;
  assert.is(c.gpu + c.l1 + c.l2 + c.miss, c.total);
  assert.ok(c.gpu + c.l1 + c.l2 <= c.bound, 'no tier hits more than an infinite cache');
  assert.ok(out.hitRequests > 0 && c.bound > 0, 'the sample reuses prefixes');
  // A speed-up is measured, not asserted (a loaded machine can invert any timing): a positive ratio.
  assert.ok(Number.isFinite(out.hitSpeedupMedian) && out.hitSpeedupMedian > 0, `hitSpeedupMedian: ${out.hitSpeedupMedian}`);
  assert.equal(Object.keys(out.bytes), ['toHost', 'toDevice']);
  assert.ok(out.bytes.toHost > 0 && out.bytes.toDevice >= 0);
  assert.ok(Number.isInteger(out.wallMs) && out.wallMs > 0);
  assert.match(stderr, /serve: 20\/20/, 'progress on stderr');
  assert.ok(existsSync(join(RESULTS, 'serve.svg')), 'the chart was drawn');
});

test('kvtier-bench with no command is serve: the table and the closing line', async () => {
  const { code, stdout, stderr } = await run(['--requests', '6', '--keep', '5', '--adapter', 'mock', '--layers', '2']);
  assert.is(code, 0, stderr);
  assert.match(stdout, /^model: 2 layers/m);
  assert.match(stdout, /L2 mock 512 MiB/);
  assert.match(stdout, /^with a hit /m);
  assert.match(stdout, /^bound \(infinite cache\) /m);
  assert.match(stdout, /6\/6 requests bit-identical\n$/);
});

test('serve --scenario long-doc-qa --json: every phase restores from the tier it names', async () => {
  const { code, stdout, stderr } = await run(['serve', '--scenario', 'long-doc-qa', '--documents', '2', '--document-tokens', '256', '--layers', '2', '--json']);
  assert.is(code, 0, stderr);
  const out = JSON.parse(stdout);
  assert.equal(Object.keys(out), ['scenario', 'requests', 'bitIdentical', 'phases', 'bytes', 'wallMs']);
  assert.equal([out.requests, out.bitIdentical], [8, 8]);
  assert.equal(Object.keys(out.phases), ['cold', 'warm-l1', 'warm-l2', 'warm-gpu']);
  const docChunks = 2 * (256 / 64);
  const tiers = (p: string) => { const c = out.phases[p].chunks; return [c.gpu, c.l1, c.l2, c.miss]; };
  assert.equal(tiers('cold'), [0, 0, 0, docChunks]);
  assert.equal(tiers('warm-l1'), [0, docChunks, 0, 0]);
  assert.equal(tiers('warm-l2'), [0, 0, docChunks, 0]);
  assert.equal(tiers('warm-gpu'), [docChunks, 0, 0, 0]);
  for (const p of Object.values(out.phases) as any[]) assert.ok(isSummary(p.baseline) && isSummary(p.kvtier));
  assert.ok(existsSync(join(RESULTS, 'serve-long-doc-qa.svg')));
});

test('serve refuses bad flags with one line naming them', async () => {
  const bad = await run(['serve', '--chunk-tokens', '40', '--requests', '1']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--chunk-tokens must be a positive multiple of the block size \(16\), got 40/);
  const gqa = await run(['serve', '--kv-heads', '3']);
  assert.is(gqa.code, 2);
  assert.match(gqa.stderr, /model\.kvHeads: must divide heads \(4\), got 3/);
  const none = await run(['serve', '--keep', '100000000', '--trace', fileURLToPath(new URL('../packages/bench/data/mooncake_synthetic.jsonl', import.meta.url))]);
  assert.is(none.code, 2);
  assert.match(none.stderr, /no request of .* is kept with --keep 100000000/);
});

test.after(() => rmSync(RESULTS, { recursive: true, force: true }));

test.run();

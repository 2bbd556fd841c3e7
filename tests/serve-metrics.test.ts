// The operations endpoint: `KvCache.serve()` answers GET /metrics with Prometheus text a strict
// parser accepts, carrying the hit accounting (requested keys, L1 prefix and L2 hit keys, the
// ratio per tier) and GET /status with the status tree; `kvtier-bench serve --metrics-port` serves
// it during a real run on the device, scraped while the run lasts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { withDeadline } from '@kvtier/core/testing';
import { makeKeys, prefetch, seedL2, withCache, writeKeys } from './engine-helpers.ts';
import { parsePrometheusText, sampleValue } from './prometheus-text.ts';

const CLI = fileURLToPath(new URL('../packages/bench/bin/kvtier-bench.mjs', import.meta.url));
const RUN_MS = 240_000;

interface Reply { status: number; type: string; body: string }

/** One HTTP request to `url` (a fresh connection each time). */
function fetchText(url: string, method = 'GET'): Promise<Reply> {
  return withDeadline(new Promise<Reply>((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  }), 10_000, `${method} ${url}`);
}

const HIT_FAMILIES = ['kvtier_prefetch_requested_keys_total', 'kvtier_prefetch_l1_hit_keys_total', 'kvtier_prefetch_l2_hit_keys_total', 'kvtier_prefetch_hit_ratio'];

test('the strict parser refuses what a lenient one would guess at', () => {
  const bad = [
    'x 1',                                                     // no final newline
    'x{a="1"} 1\ny 2\nx{a="2"} 3\n',                           // a family split in two
    '# TYPE x counter\n# TYPE x counter\nx 1\n',               // TYPE twice
    '# TYPE x counter\nx -1\n',                                // a negative counter
    'x{a=1} 1\n',                                              // unquoted label value
    'x{a="\\q"} 1\n',                                          // bad escape
    'x 1\nx 2\n',                                              // the same series twice
    'x one\n',                                                 // not a number
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n', // not cumulative
    '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\nh_sum 0\n',                     // _count differs
    'x 1\n\ny 1\n',                                            // an empty line
  ];
  for (const text of bad) assert.throws(() => parsePrometheusText(text), undefined, JSON.stringify(text));
  const ok = parsePrometheusText('# HELP x a "help"\n# TYPE x gauge\nx{a="q\\"\\n"} NaN 123\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n');
  assert.is(ok.get('x')!.samples[0].labels.a, 'q"\n');
  assert.is(sampleValue(ok, 'h_count'), 2);
});

test('KvCache.serve: /metrics carries exact hit counts and ratios, /status the tree, unknown paths 404, POST 405', () => withCache(async (cache) => {
  const server = await cache.serve();
  assert.is(server.host, '127.0.0.1');
  assert.ok(server.port > 0);
  const inL2 = makeKeys(3);
  await seedL2(cache, inL2);
  const inL1 = makeKeys(2);
  writeKeys(cache, inL1);
  // 2 keys from the L1 prefix; then 3 from L2; then a miss of 4 keys: 9 requested, 5 hits.
  assert.is(await prefetch(cache, inL1), 2);
  cache.finishReadPrefetched(inL1);
  assert.is(await prefetch(cache, inL2), 3);
  cache.finishReadPrefetched(inL2);
  assert.is(await prefetch(cache, makeKeys(4)), 0);

  const metrics = await fetchText(`${server.url}/metrics`);
  assert.is(metrics.status, 200);
  assert.is(metrics.type, 'text/plain; version=0.0.4; charset=utf-8');
  const families = parsePrometheusText(metrics.body);
  for (const f of HIT_FAMILIES) assert.ok(families.has(f), f);
  assert.is(families.get('kvtier_prefetch_hit_ratio')!.type, 'gauge');
  assert.is(sampleValue(families, 'kvtier_prefetch_requested_keys_total'), 9);
  assert.is(sampleValue(families, 'kvtier_prefetch_l1_hit_keys_total'), 2);
  assert.is(sampleValue(families, 'kvtier_prefetch_l2_hit_keys_total'), 3);
  assert.is(sampleValue(families, 'kvtier_prefetch_hit_ratio', { tier: 'l1' }), 2 / 9);
  assert.is(sampleValue(families, 'kvtier_prefetch_hit_ratio', { tier: 'l2' }), 3 / 9);
  assert.is(sampleValue(families, 'kvtier_prefetch_hit_ratio', { tier: 'all' }), 5 / 9);

  const status = await fetchText(`${server.url}/status`);
  assert.is(status.status, 200);
  assert.is(status.type, 'application/json; charset=utf-8');
  const tree = JSON.parse(status.body);
  assert.is(tree.healthy, true);
  assert.is(tree.l1.objects, 2);
  assert.is(tree.adapters.length, 1);
  assert.equal(Object.keys(tree.workers).sort(), ['adapter[0]', 'eviction', 'prefetch', 'store']);

  assert.is((await fetchText(`${server.url}/nope`)).status, 404);
  const post = await fetchText(`${server.url}/metrics`, 'POST');
  assert.is(post.status, 405);
  assert.is((await fetchText(`${server.url}/status`, 'HEAD')).body, '');
}));

test('KvCache.serve: bad options are refused naming the field; close() closes the server', async () => {
  let url = '';
  await withCache(async (cache) => {
    for (const [opts, message] of [
      [{ port: 70_000 }, 'serve.port must be an integer in [0, 65535], got 70000'],
      [{ port: '80' }, 'serve.port must be an integer in [0, 65535], got string'],
      [{ host: '' }, "serve.host must be a non-empty string, got ''"],
    ] as const) {
      const err = await cache.serve(opts as never).catch((e: KvtierError) => e);
      assert.ok(err instanceof KvtierError);
      assert.is(err.code, ErrorCode.INVALID_ARGUMENT);
      assert.is(err.message, message);
    }
    const server = await cache.serve({ port: 0 });
    const taken = await cache.serve({ port: server.port }).catch((e: KvtierError) => e);
    assert.ok(taken instanceof KvtierError);
    assert.is(taken.code, ErrorCode.CONFIG);
    assert.is(taken.message, `serve: cannot listen on 127.0.0.1:${server.port}: EADDRINUSE`);
    url = `${server.url}/metrics`;
    assert.is((await fetchText(url)).status, 200);
  });
  const refused = await fetchText(url).catch((e: NodeJS.ErrnoException) => e);
  assert.ok(refused instanceof Error && (refused as NodeJS.ErrnoException).code === 'ECONNREFUSED', `after close: ${String(refused)}`);
});

test('kvtier-bench serve --metrics-port: scraped during the run, strict Prometheus text with the hit counters', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--requests', '12', '--keep', '5', '--layers', '2', '--metrics-port', '0', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KVTIER_BENCH_RESULTS: mkdtempSync(join(tmpdir(), 'kvtier-metrics-test-')) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let running = true;
  void exited.then(() => { running = false; });
  const scrapes: Map<string, import('./prometheus-text.ts').Family>[] = [];
  try {
    await withDeadline((async () => {
      let url: string | undefined;
      while (running && url === undefined) {
        url = /^metrics: (http:\/\/\S+\/metrics)/m.exec(stderr)?.[1];
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(url !== undefined, `the URL was printed before the run ended:\n${stderr}`);
      // Scrape until the run has asked for keys (or it ends); each scrape must parse strictly.
      while (running) {
        const r = await fetchText(url).catch(() => undefined);
        if (r === undefined) break; // the run closed its cache between the check and the request
        assert.is(r.status, 200, r.body);
        const families = parsePrometheusText(r.body);
        scrapes.push(families);
        if (sampleValue(families, 'kvtier_prefetch_requested_keys_total') > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })(), RUN_MS, 'scraping kvtier-bench serve');
    assert.is(await withDeadline(exited, RUN_MS, 'kvtier-bench serve'), 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
  assert.ok(scrapes.length > 0, 'at least one scrape during the run');
  const last = scrapes[scrapes.length - 1];
  for (const f of HIT_FAMILIES) assert.ok(last.has(f), f);
  const requested = sampleValue(last, 'kvtier_prefetch_requested_keys_total');
  assert.ok(requested > 0, 'a scrape saw the run request keys');
  const hits = sampleValue(last, 'kvtier_prefetch_l1_hit_keys_total') + sampleValue(last, 'kvtier_prefetch_l2_hit_keys_total');
  assert.is(sampleValue(last, 'kvtier_prefetch_hit_ratio', { tier: 'all' }), hits / requested);
  assert.is(JSON.parse(stdout).requests, 12);
});

test.run();

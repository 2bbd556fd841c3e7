#!/usr/bin/env node
// Runs the type check and every uvu test file, each file in its own process under a time limit
// (uvu has none), and closes with the line CI reads: `N passed, N failed`.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const FILE_TIMEOUT_MS = Number(process.env.KVTIER_TEST_FILE_TIMEOUT_MS ?? 300_000);
// Soak mode (docs/testing.md): with KVT_SOAK_S=N every soaked test of a file (a `soak(` call)
// runs N s, then finishes its last round; each gets N s plus SOAK_ROUND_MS on top of the CI limit.
const SOAK_S = process.env.KVT_SOAK_S ? Number(process.env.KVT_SOAK_S) : 0;
const SOAK_ROUND_MS = 120_000;
if (process.env.KVT_SOAK_S && !(Number.isInteger(SOAK_S) && SOAK_S >= 1)) {
  console.error(`KVT_SOAK_S: must be a whole number of seconds from 1, got ${JSON.stringify(process.env.KVT_SOAK_S)}`);
  process.exit(2);
}

/** The time limit of one test file: the CI limit, plus the soak time of each soaked test in it. */
function fileTimeoutMs(file) {
  if (SOAK_S === 0) return FILE_TIMEOUT_MS;
  const soaked = readFileSync(file, 'utf8').match(/\bsoak\(/g)?.length ?? 0;
  return FILE_TIMEOUT_MS + soaked * (SOAK_S * 1000 + SOAK_ROUND_MS);
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = [
  ...readdirSync(join(root, 'packages')).flatMap((p) => {
    const dir = join(root, 'packages', p, 'test');
    try { return findTests(dir); } catch { return []; }
  }),
  ...findTests(join(root, 'tests')),
].sort().filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));

const runtimeDir = join(root, 'node_modules', '.cache', 'xdg-runtime');
mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? runtimeDir };

// A child's stderr is a file, printed after its stdout: Node's 'pipe' is a socket, and the native
// warnings @kvtier/gpu captures off file descriptor 2 can only be captured from a file, pipe or tty.
const stderrDir = mkdtempSync(join(tmpdir(), 'kvtier-test-stderr-'));
process.on('exit', () => rmSync(stderrDir, { recursive: true, force: true }));
let runs = 0;

function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const stderrPath = join(stderrDir, `${++runs}.txt`);
    const stderrFd = openSync(stderrPath, 'w+');
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', stderrFd], detached: true });
    closeSync(stderrFd);
    let output = '';
    const onData = (d) => { output += d; process.stdout.write(d); };
    child.stdout.on('data', onData);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      onData(readFileSync(stderrPath, 'utf8'));
      resolve({ code, output, timedOut });
    });
  });
}

let passed = 0;
let failed = 0;
const failures = [];

// Real Redis servers (one, and a cluster with replicas) for the files that need them, started once
// for the run and stopped by PID at the end; the files find them through KVTIER_REDIS.
let redisDir;
if (files.some((f) => relative(root, f).includes('redis'))) {
  const { startAll } = await import('./redis-servers.mjs');
  const servers = await startAll();
  redisDir = servers.dir;
  env.KVTIER_REDIS = JSON.stringify(servers);
}

if (filters.length === 0) {
  console.log('# type check: tsc -b');
  const tsc = await run('pnpm', ['exec', 'tsc', '-b'], 600_000);
  if (tsc.code === 0) passed++; else { failed++; failures.push('tsc -b'); }
}

for (const file of files) {
  const rel = relative(root, file);
  console.log(`\n# ${rel}`);
  const started = Date.now();
  const timeoutMs = fileTimeoutMs(file);
  const r = await run(process.execPath, ['--import', 'tsx', file], timeoutMs);
  const total = Number(/Total:\s+(\d+)/.exec(r.output)?.[1] ?? NaN);
  const ok = Number(/Passed:\s+(\d+)/.exec(r.output)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(r.output)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(ok)) {
    failed++;
    failures.push(`${rel} (${r.timedOut ? `timed out after ${timeoutMs} ms` : `exited ${r.code} without a summary`})`);
    continue;
  }
  if (skipped > 0) { failed += skipped; failures.push(`${rel} (${skipped} skipped: skipping is not allowed)`); }
  passed += ok;
  const bad = total - ok - skipped;
  failed += bad;
  if (bad > 0 || r.code !== 0 || r.timedOut) {
    if (bad === 0) failed++;
    failures.push(`${rel} (${bad} failed${r.timedOut ? ', timed out' : ''}, exit ${r.code})`);
  }
  console.log(`# ${rel}: ${ok}/${total} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (redisDir !== undefined) await (await import('./redis-servers.mjs')).stopAll(redisDir);

if (failures.length) console.log(`\nFailures:\n  ${failures.join('\n  ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

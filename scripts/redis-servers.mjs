#!/usr/bin/env node
// Real Redis/Valkey servers for the tests and the bench, on free loopback ports under a temp dir:
// one server, and a 3-master cluster with one replica each. Servers run daemonized with a pidfile
// in their own dir and are stopped by the PID in it. Settings are those of a cache (no
// persistence, maxmemory with noeviction: kvtier evicts), with room for MiB values on replicas.
//
// As a module: `redisFixture()` answers the servers of this test run (described by
// KVTIER_REDIS, set by scripts/run-tests.mjs) or starts its own, stopped when the process exits.
// As a command (what run-tests.mjs runs):
//   node scripts/redis-servers.mjs start <dir>   prints the description as JSON
//   node scripts/redis-servers.mjs stop <dir>    stops every server under <dir> by its pidfile
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HOST = '127.0.0.1';
/** How long a server may take to answer PING after it was started. */
const START_TIMEOUT_MS = 10_000;
/** How long a new cluster may take to agree (every node `cluster_state:ok`, replicas in sync). */
const CLUSTER_TIMEOUT_MS = 30_000;

function findBinary(names) {
  for (const name of names) {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
      return name;
    } catch {
      // try the next name
    }
  }
  throw new Error(`none of ${names.join(', ')} is installed: run scripts/setup.sh`);
}

const SERVER = process.env.KVTIER_REDIS_SERVER ?? findBinary(['redis-server', 'valkey-server']);
const CLI = process.env.KVTIER_REDIS_CLI ?? findBinary(['redis-cli', 'valkey-cli']);

/** A free loopback port whose cluster bus port (+10000) is free too. */
async function freePort() {
  const listen = (port) => new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(-1));
    server.listen(port, HOST, () => {
      const { port: got } = server.address();
      server.close(() => resolve(got));
    });
  });
  for (;;) {
    const port = await listen(0);
    if (port > 0 && port < 55000 && (await listen(port + 10000)) > 0) return port;
  }
}

/** Runs redis-cli against `port`; answers its stdout. */
export async function cli(port, ...args) {
  const { stdout } = await run(CLI, ['-h', HOST, '-p', String(port), ...args], { timeout: 10_000 });
  return stdout.trim();
}

async function until(check, what, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis-servers: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function serverArgs(dir, port, clusterMode, maxmemory) {
  return [
    '--port', String(port), '--bind', HOST, '--dir', dir,
    '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'),
    '--save', '', '--appendonly', 'no',
    '--maxmemory', maxmemory, '--maxmemory-policy', 'noeviction',
    '--client-output-buffer-limit', 'replica 2gb 1gb 60',
    '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0',
    ...(clusterMode
      ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '1000',
        // Keys of a dead master miss while the others serve; failover is the test's (or operator's) move.
        '--cluster-require-full-coverage', 'no', '--cluster-replica-no-failover', 'yes']
      : []),
  ];
}

/** Starts (or restarts) `node`'s server and waits for it to answer. */
export async function startNode(node) {
  await run(SERVER, node.args, { timeout: START_TIMEOUT_MS });
  await until(async () => (await cli(node.port, 'PING')) === 'PONG', `the server on port ${node.port}`, START_TIMEOUT_MS);
}

/** The PID of `node`'s running server, or undefined. */
function pidOf(dir) {
  try {
    return Number(readFileSync(join(dir, 'redis.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Kills `node`'s server by its PID (SIGKILL: a crash) and waits until it is gone. */
export async function killNode(node) {
  const pid = pidOf(node.dir);
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await until(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, `server ${pid} to exit`, START_TIMEOUT_MS);
  rmSync(join(node.dir, 'redis.pid'), { force: true });
}

async function launch(dir, name, clusterMode, maxmemory) {
  const nodeDir = join(dir, name);
  mkdirSync(nodeDir, { recursive: true });
  const port = await freePort();
  const node = { host: HOST, port, dir: nodeDir, args: serverArgs(nodeDir, port, clusterMode, maxmemory) };
  await startNode(node);
  return node;
}

/** One server in `dir`. */
export async function startSingle(dir, maxmemory = '512mb') {
  const node = await launch(dir, 'single', false, maxmemory);
  return { url: `redis://${HOST}:${node.port}`, node };
}

/** A cluster of 3 masters with `replicas` replicas each, in `dir`; waits until it is ready. */
export async function startCluster(dir, replicas = 1, maxmemory = '256mb') {
  const nodes = [];
  for (let i = 0; i < 3 * (1 + replicas); i++) nodes.push(await launch(dir, `cluster-${i}`, true, maxmemory));
  await run(CLI, ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: CLUSTER_TIMEOUT_MS });
  const cluster = { urls: nodes.map((n) => `redis://${HOST}:${n.port}`), nodes };
  await waitClusterReady(cluster);
  return cluster;
}

/** Waits until every running node says `cluster_state:ok` and every master has its replicas in sync. */
export async function waitClusterReady(cluster) {
  const running = () => cluster.nodes.filter((n) => pidOf(n.dir) !== undefined);
  await until(async () => {
    for (const n of running()) {
      if (!(await cli(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
    }
    return true;
  }, 'cluster_state:ok on every node', CLUSTER_TIMEOUT_MS);
  await waitReplicated(cluster);
}

/** Waits until every replica has caught up with its master's replication offset. */
export async function waitReplicated(cluster) {
  await until(async () => {
    for (const n of cluster.nodes.filter((node) => pidOf(node.dir) !== undefined)) {
      const info = await cli(n.port, 'INFO', 'replication');
      if (!info.includes('role:master')) continue;
      const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
      const replicas = [...info.matchAll(/^slave\d+:.*state=(\w+),offset=(\d+)/gm)];
      if (replicas.some(([, state, got]) => state !== 'online' || got !== offset)) return false;
    }
    return true;
  }, 'replicas to catch up', CLUSTER_TIMEOUT_MS);
}

/** The node serving hash slot `slot` as master now (asked of any running node). */
export async function masterOfSlot(cluster, slot) {
  for (const n of cluster.nodes.filter((node) => pidOf(node.dir) !== undefined)) {
    const lines = (await cli(n.port, 'CLUSTER', 'SLOTS').catch(() => '')).split('\n');
    // redis-cli prints the nested reply flat: start, end, host, port, id, replicas' host, port, id, …
    for (let i = 0; i + 3 < lines.length; i++) {
      const start = Number(lines[i]);
      const end = Number(lines[i + 1]);
      if (String(start) !== lines[i] || String(end) !== lines[i + 1] || lines[i + 2] !== HOST) continue;
      if (slot >= start && slot <= end) return cluster.nodes.find((node) => node.port === Number(lines[i + 3]));
    }
  }
  return undefined;
}

/** The running replica of the master on `masterPort`, or undefined. */
export async function replicaOf(cluster, masterPort) {
  for (const n of cluster.nodes.filter((node) => pidOf(node.dir) !== undefined)) {
    const role = (await cli(n.port, 'ROLE').catch(() => '')).split('\n');
    if (role[0] === 'slave' && Number(role[2]) === masterPort) return n;
  }
  return undefined;
}

/** Promotes `replica` to master at once (`CLUSTER FAILOVER TAKEOVER`: no agreement from a dead master needed). */
export async function promote(replica) {
  const answer = await cli(replica.port, 'CLUSTER', 'FAILOVER', 'TAKEOVER');
  if (answer !== 'OK') throw new Error(`CLUSTER FAILOVER TAKEOVER on port ${replica.port} answered ${answer}`);
}

/** Stops every server under `dir` by the PID in its pidfile, then removes `dir`. */
export async function stopAll(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) await killNode({ dir: join(dir, name) }).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

/** Starts one server and a cluster in a new temp dir; answers their description. */
export async function startAll(dir = mkdtempSync(join(tmpdir(), 'kvtier-redis-'))) {
  const [single, cluster] = [await startSingle(dir), await startCluster(dir)];
  return { dir, single, cluster };
}

let own;

/**
 * The servers of this test run: those described by KVTIER_REDIS, or (a test file run alone) a
 * set started now and stopped when this process exits.
 */
export async function redisFixture() {
  if (process.env.KVTIER_REDIS !== undefined) return JSON.parse(process.env.KVTIER_REDIS);
  if (own === undefined) {
    own = startAll();
    const servers = await own;
    process.once('exit', () => {
      for (const name of readdirSync(servers.dir)) {
        const pid = pidOf(join(servers.dir, name));
        if (pid !== undefined) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      rmSync(servers.dir, { recursive: true, force: true });
    });
  }
  return own;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, dir] = process.argv.slice(2);
  if (command === 'start') process.stdout.write(`${JSON.stringify(await startAll(dir))}\n`);
  else if (command === 'stop') await stopAll(dir);
  else {
    process.stderr.write('usage: node scripts/redis-servers.mjs start|stop <dir>\n');
    process.exit(2);
  }
}

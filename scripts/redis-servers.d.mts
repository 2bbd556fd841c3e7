// Types of redis-servers.mjs (the test and bench fixture of real Redis/Valkey servers).

/** One server process: its address, its own dir (pidfile, log, nodes.conf) and how to start it again. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly args: readonly string[];
}

/** A single server. */
export interface RedisSingle {
  readonly url: string;
  readonly node: RedisNode;
}

/** A 3-master cluster; `nodes` lists masters and replicas as created (roles change on failover). */
export interface RedisCluster {
  readonly urls: readonly string[];
  readonly nodes: readonly RedisNode[];
}

/** What `startAll` started. */
export interface RedisServers {
  readonly dir: string;
  readonly single: RedisSingle;
  readonly cluster: RedisCluster;
}

export function cli(port: number, ...args: string[]): Promise<string>;
export function startNode(node: RedisNode): Promise<void>;
export function killNode(node: Pick<RedisNode, 'dir'>): Promise<void>;
export function startSingle(dir: string, maxmemory?: string): Promise<RedisSingle>;
export function startCluster(dir: string, replicas?: number, maxmemory?: string): Promise<RedisCluster>;
export function waitClusterReady(cluster: RedisCluster): Promise<void>;
export function waitReplicated(cluster: RedisCluster): Promise<void>;
export function masterOfSlot(cluster: RedisCluster, slot: number): Promise<RedisNode | undefined>;
export function replicaOf(cluster: RedisCluster, masterPort: number): Promise<RedisNode | undefined>;
export function promote(replica: RedisNode): Promise<void>;
export function stopAll(dir: string): Promise<void>;
export function startAll(dir?: string): Promise<RedisServers>;
export function redisFixture(): Promise<RedisServers>;

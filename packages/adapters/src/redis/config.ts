/**
 * The config of a `redis` adapter and its validation: one server (`url`) or a cluster (`cluster`,
 * seed nodes whose slot map is discovered), a key prefix, timeouts.
 */
import type { AdapterConfig } from '@kvtier/core';
import { checkInteger, checkString, configError } from '@kvtier/core/authoring';

/** Config of a `redis` adapter (Redis ≥ 7, Valkey ≥ 8). */
export interface RedisAdapterConfig extends AdapterConfig {
  readonly type: 'redis';
  /** One server: `redis://host[:port]` (port 6379 by default). Exactly one of `url` and `cluster`. */
  readonly url?: string;
  /** A cluster: seed nodes as `redis://host[:port]` URLs; the slot map is read from the first that answers. */
  readonly cluster?: readonly string[];
  /** Prepended to every key (a namespace per deployment); no `{` or `}`; default `kvtier:`. */
  readonly keyPrefix?: string;
  /** Time to establish a connection; default 2 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Time a batch of commands may take before its connection is dropped; default 5 000 ms. */
  readonly commandTimeoutMs?: number;
}

/** A server address from a URL. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/** The config with defaults applied. */
export interface ResolvedRedisConfig {
  /** One entry for a single server; the seeds of a cluster. */
  readonly servers: readonly ServerAddress[];
  readonly cluster: boolean;
  readonly keyPrefix: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** `capacityBytes`, or -1 to take the servers' `maxmemory`. */
  readonly capacityBytes: number;
}

const KNOWN_FIELDS = new Set(['type', 'capacityBytes', 'eviction', 'url', 'cluster', 'keyPrefix', 'connectTimeoutMs', 'commandTimeoutMs']);
const DEFAULT_PORT = 6379;
const DEFAULT_PREFIX = 'kvtier:';
const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
const MAX_PREFIX = 256;
/** Printable ASCII without braces (hash tags) and spaces. */
const PREFIX_CHARS = /^[\x21-\x7a\x7c\x7e]*$/;

/** The address a `redis://host[:port]` URL names; throws CONFIG naming `field`. */
function parseUrl(value: unknown, field: string): ServerAddress {
  checkString(value, field);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    configError(field, `must be a URL like "redis://127.0.0.1:6379", got ${JSON.stringify(value)}`);
  }
  if (url.protocol === 'rediss:') configError(field, 'TLS (rediss://) is not supported yet: use redis:// on a trusted network');
  if (url.protocol !== 'redis:') configError(field, `must use the redis:// scheme, got ${JSON.stringify(url.protocol)}`);
  if (url.username !== '' || url.password !== '') configError(field, 'must not carry credentials (AUTH is not supported yet)');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    configError(field, `must be redis://host[:port] with no database, path or query, got ${JSON.stringify(value)}`);
  }
  if (url.hostname === '') configError(field, `has no host: ${JSON.stringify(value)}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? DEFAULT_PORT : Number(url.port) };
}

/** Throws CONFIG naming the first bad `redis` field under `field`. */
export function validateConfig(config: AdapterConfig, field: string): void {
  resolveConfig(config, field);
}

/** Validates `config` and applies the defaults. */
export function resolveConfig(config: AdapterConfig, field: string): ResolvedRedisConfig {
  for (const key of Object.keys(config)) {
    if (!KNOWN_FIELDS.has(key)) configError(`${field}.${key}`, `is not a field of a redis adapter (${[...KNOWN_FIELDS].join(', ')})`);
  }
  if ((config.url === undefined) === (config.cluster === undefined)) {
    configError(`${field}.url`, 'exactly one of url (one server) and cluster (seed nodes) must be given');
  }
  let servers: ServerAddress[];
  if (config.url !== undefined) servers = [parseUrl(config.url, `${field}.url`)];
  else {
    const seeds = config.cluster;
    if (!Array.isArray(seeds) || seeds.length === 0) configError(`${field}.cluster`, 'must be a non-empty array of redis:// URLs');
    servers = seeds.map((seed, i) => parseUrl(seed, `${field}.cluster[${i}]`));
  }
  const keyPrefix = config.keyPrefix ?? DEFAULT_PREFIX;
  if (typeof keyPrefix !== 'string') configError(`${field}.keyPrefix`, `must be a string, got ${JSON.stringify(keyPrefix)}`);
  if (keyPrefix.length > MAX_PREFIX) configError(`${field}.keyPrefix`, `must be at most ${MAX_PREFIX} characters, got ${keyPrefix.length}`);
  if (/[{}]/.test(keyPrefix)) configError(`${field}.keyPrefix`, 'must not contain { or }: braces are a cluster hash tag and would send every key to one node');
  if (!PREFIX_CHARS.test(keyPrefix)) configError(`${field}.keyPrefix`, `must be printable ASCII without spaces, got ${JSON.stringify(keyPrefix)}`);
  const connectTimeoutMs = config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  checkInteger(connectTimeoutMs, `${field}.connectTimeoutMs`, 1);
  const commandTimeoutMs = config.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  checkInteger(commandTimeoutMs, `${field}.commandTimeoutMs`, 1);
  return {
    servers,
    cluster: config.cluster !== undefined,
    keyPrefix,
    connectTimeoutMs,
    commandTimeoutMs,
    capacityBytes: config.capacityBytes ?? -1,
  };
}

/**
 * The config of a `redis` adapter and its validation: one server (`url`) or a cluster (`cluster`,
 * seed nodes whose slot map is discovered), a key prefix, timeouts.
 */
import type { AdapterConfig } from '@kvtier/core';
import { adapterBlock, integerFrom, nonEmptyString, parseBlock, v } from '@kvtier/core/authoring';

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

const DEFAULT_PORT = 6379;
const DEFAULT_PREFIX = 'kvtier:';
const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
const MAX_PREFIX = 256;
/** Printable ASCII without braces (hash tags) and spaces. */
const PREFIX_CHARS = /^[\x21-\x7a\x7c\x7e]*$/;

/** The address a `redis://host[:port]` URL names, or what is wrong with it. */
function readUrl(value: string): ServerAddress | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL like "redis://127.0.0.1:6379", got ${JSON.stringify(value)}`;
  }
  if (url.protocol === 'rediss:') return 'TLS (rediss://) is not supported yet: use redis:// on a trusted network';
  if (url.protocol !== 'redis:') return `must use the redis:// scheme, got ${JSON.stringify(url.protocol)}`;
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (AUTH is not supported yet)';
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    return `must be redis://host[:port] with no database, path or query, got ${JSON.stringify(value)}`;
  }
  if (url.hostname === '') return `has no host: ${JSON.stringify(value)}`;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? DEFAULT_PORT : Number(url.port) };
}

/** A `redis://host[:port]` URL, read into its address. */
const serverUrl = v.pipe(
  nonEmptyString,
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const address = readUrl(dataset.value);
    if (typeof address !== 'string') return address;
    addIssue({ message: address });
    return NEVER;
  }),
);

const keyPrefix = v.pipe(
  v.string((issue) => `must be a string, got ${JSON.stringify(issue.input)}`),
  v.maxLength(MAX_PREFIX, (issue) => `must be at most ${MAX_PREFIX} characters, got ${(issue.input as string).length}`),
  v.check((p) => !/[{}]/.test(p), 'must not contain { or }: braces are a cluster hash tag and would send every key to one node'),
  v.regex(PREFIX_CHARS, (issue) => `must be printable ASCII without spaces, got ${JSON.stringify(issue.input)}`),
);

/** The schema of a `redis` block. */
export const configSchema = v.pipe(
  adapterBlock('redis', {
    url: v.optional(serverUrl),
    cluster: v.optional(v.pipe(
      v.array(serverUrl, 'must be a non-empty array of redis:// URLs'),
      v.minLength(1, 'must be a non-empty array of redis:// URLs'),
    )),
    keyPrefix: v.optional(keyPrefix, DEFAULT_PREFIX),
    connectTimeoutMs: v.optional(integerFrom(1), DEFAULT_CONNECT_TIMEOUT_MS),
    commandTimeoutMs: v.optional(integerFrom(1), DEFAULT_COMMAND_TIMEOUT_MS),
  }),
  v.forward(
    v.check((c) => (c.url === undefined) !== (c.cluster === undefined), 'exactly one of url (one server) and cluster (seed nodes) must be given'),
    ['url'],
  ),
);

/** Throws CONFIG naming the first bad `redis` field under `field`. */
export function validateConfig(config: AdapterConfig, field: string): void {
  parseBlock(configSchema, config, field);
}

/** Validates `config` and applies the defaults. */
export function resolveConfig(config: AdapterConfig, field: string): ResolvedRedisConfig {
  const c = parseBlock(configSchema, config, field);
  return {
    servers: c.url !== undefined ? [c.url] : c.cluster!,
    cluster: c.cluster !== undefined,
    keyPrefix: c.keyPrefix,
    connectTimeoutMs: c.connectTimeoutMs,
    commandTimeoutMs: c.commandTimeoutMs,
    capacityBytes: c.capacityBytes ?? -1,
  };
}
